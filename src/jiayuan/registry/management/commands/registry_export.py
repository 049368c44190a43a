"""``jiayuan export FILE|DIR``: the registry (底数) to .xlsx, a .zip of .csv, or a folder of .csv."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.errors import DomainError
from jiayuan.registry.io.service import export_file
from jiayuan.registry.io.spec import SHEETS_BY_KIND


class Command(BaseCommand):
    help = ("Export the registry: FILE.xlsx (one sheet per kind), FILE.zip or a folder of CSV "
            "files (UTF-8 with BOM). The export imports again unchanged.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", type=Path)
        parser.add_argument("--area", help="only this place and what lies under it "
                            "(a code, optionally kind:code)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = export_file(options["target"], area=options["area"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for kind, n in counts.items():
            if n:
                self.stdout.write(f"{SHEETS_BY_KIND[kind].title}：{n} 行")
        self.stdout.write(self.style.SUCCESS(
            f"已导出到 {options['target']}，共 {sum(counts.values())} 行"))
