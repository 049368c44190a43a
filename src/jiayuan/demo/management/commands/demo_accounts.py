"""``jiayuan demo_accounts [--url URL]``: create the demo log-ins and print them (demo mode only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.errors import DomainError
from jiayuan.demo.accounts import create_demo_accounts, format_logins


class Command(BaseCommand):
    help = "Create one demo user per role over the generated district (JIAYUAN_DEMO=1 only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        try:
            logins = create_demo_accounts()
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(format_logins(logins, url))
