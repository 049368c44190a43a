"""``jiayuan calendar import FILE`` and ``jiayuan calendar show YEAR``: the working calendar.

``import`` loads a State Council schedule or local days from a .csv/.xlsx (columns date,
kind, name[, source]); a bad file is refused whole, every problem printed with its row.
``show`` prints one line per day of the year that differs from Monday–Friday, as the platform
counts it now: ``YYYY-MM-DD holiday|workday <name> (statutory|schedule|local)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.cases.calendar import platform_calendar
from jiayuan.core.errors import DomainError


def problem_lines(exc: DomainError) -> list[str]:
    problems = getattr(exc, "problems", None) or []
    lines = [exc.message]
    for p in problems:
        where = "".join([f"第 {p['row']} 行" if p.get("row") else "",
                         f"「{p['column']}」" if p.get("column") else ""])
        lines.append(f"  {where}{'：' if where else ''}{p.get('message', p)}")
    return lines


class Command(BaseCommand):
    help = "工作日历：import FILE 载入放假安排，show YEAR 显示一年的节假日与调休"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="载入放假安排或本地日历 (.csv/.xlsx)")
        imp.add_argument("path")
        show = sub.add_parser("show", help="显示一年中不同于周一至周五的日子")
        show.add_argument("year", type=int)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "import":
            self._import(Path(options["path"]))
        else:
            self._show(options["year"])

    def _import(self, path: Path) -> None:
        from jiayuan.cases.services.calendar import import_calendar

        if not path.is_file():
            raise CommandError(f"找不到文件“{path}”")
        try:
            result = import_calendar(file_name=path.name, data=path.read_bytes(), by=None)
        except DomainError as exc:
            raise CommandError("\n".join(problem_lines(exc))) from exc
        if not result.changed:
            self.stdout.write(f"{result.days} 天，与已载入的日历相同，未作更改")
            return
        for (year, source), diff in sorted(result.changes.items()):
            self.stdout.write(f"{year} {source}: 新增 {len(diff['added'])}，修改 "
                              f"{len(diff['changed'])}，删除 {len(diff['removed'])}")
        self.stdout.write(self.style.SUCCESS(f"导入完成：{result.days} 天"))

    def _show(self, year: int) -> None:
        calendar = platform_calendar()
        try:
            days = calendar.differing_days(year)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for day in days:
            self.stdout.write(day.line())
        if not calendar.schedule_known(year):
            self.stderr.write(f"注意：{year} 年的国务院放假安排尚未载入，以上只有法定节假日，"
                              "调休上班日未知（jiayuan calendar import FILE）")
