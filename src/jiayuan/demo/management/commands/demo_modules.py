"""``jiayuan demo_modules [--seed N]``: the domain modules' demo data (care, councils, sensors…),
after ``generate`` and ``demo_accounts``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jiayuan.demo.modules import generate_modules


class Command(BaseCommand):
    help = "Generate the domain modules' demo data (after generate and demo_accounts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        started = time.monotonic()

        def progress(msg: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.1f}s] {msg}")
            self.stdout.flush()

        generate_modules(seed, progress)
