"""``jiayuan generate --scale street|pudong [--seed N] [--replace]``: the synthetic district."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.errors import DomainError
from jiayuan.demo.generator.plan import SCALES
from jiayuan.demo.generator.write import generate


class Command(BaseCommand):
    help = "Generate a synthetic demo district (生成演示区) into the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=SCALES, default="street",
                            help="street: 陆家嘴街道 alone; pudong: all of 浦东新区")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--replace", action="store_true",
                            help="wipe the registry tables first if a district exists")

    def handle(self, *args: Any, scale: str, seed: int, replace: bool, **options: Any) -> None:
        started = time.monotonic()

        def progress(msg: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.1f}s] {msg}")
            self.stdout.flush()

        try:
            counts = generate(scale, seed, progress=progress, replace=replace)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        counts.pop("seconds", None)
        width = max(len(k) for k in counts)
        self.stdout.write(self.style.SUCCESS("生成完成 / generated:"))
        for key, value in counts.items():
            self.stdout.write(f"  {key:<{width}}  {value:>10,}")
        self.stdout.write(f"用时 / elapsed: {time.monotonic() - started:.1f} s")
