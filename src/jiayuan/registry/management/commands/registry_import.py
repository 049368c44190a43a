"""``jiayuan import FILE``: the registry (底数) from .xlsx, .csv, a folder or a .zip of .csv."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.errors import DomainError, ImportRejected
from jiayuan.registry.io.parse import format_problem
from jiayuan.registry.io.service import import_file
from jiayuan.registry.io.spec import SHEETS_BY_KIND

REJECTED_EXIT = 2


class Command(BaseCommand):
    help = ("Import the registry from an .xlsx workbook, a .csv file, or a folder/.zip of .csv "
            "files. Every problem is listed (sheet, row, column); nothing is written unless "
            "the whole file is clean. Exit code 2 when the file is rejected.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--sheet", help="kind of a single CSV (e.g. compounds or 小区); "
                            "for a workbook or folder: import only that sheet")
        parser.add_argument("--crs", help="coordinate system of the file: wgs84 (default), "
                            "gcj02 or bd09; a 坐标系 column overrides it per row")
        parser.add_argument("--dry-run", action="store_true",
                            help="validate and count, write nothing")
        parser.add_argument("--actor", help="username recorded as the importer (must be admin)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["actor"]:
            from jiayuan.accounts.models import User

            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"没有用户名为“{options['actor']}”的用户")
        try:
            report = import_file(options["file"], sheet=options["sheet"], actor=actor,
                                 default_crs=options["crs"], dry_run=options["dry_run"])
        except ImportRejected as exc:
            for p in exc.problems:
                self.stderr.write(format_problem(p))
            raise CommandError(exc.message, returncode=REJECTED_EXIT) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for kind, counts in report.sheets.items():
            title = SHEETS_BY_KIND[kind].title
            self.stdout.write(f"{title}：新增 {counts['created']}，更新 {counts['updated']}，"
                              f"未变 {counts['unchanged']}")
        verb = "试导入（未写入）" if report.dry_run else "导入完成"
        self.stdout.write(self.style.SUCCESS(
            f"{verb}：{report.file_name}，共变更 {report.changed} 行（sha256 {report.sha256[:12]}）"))
