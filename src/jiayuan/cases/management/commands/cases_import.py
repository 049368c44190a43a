"""``jiayuan cases import FILE.(xlsx|csv) [--mapping preset] [--crs wgs84|gcj02|bd09]
[--sheet NAME] [--dry-run]``: import 12345 hotline work orders.

The whole file is refused if any row is bad (every problem printed with row and column);
importing the same file again creates nothing. The logic lives in ``jiayuan.cases.importing``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.cases.importing import PRESETS, import_work_orders
from jiayuan.core.errors import DomainError


class Command(BaseCommand):
    help = "导入 12345 热线工单 (import 12345 hotline work orders from .xlsx or .csv)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=".xlsx 或 .csv 文件")
        parser.add_argument("--mapping", default="hotline_12345", choices=sorted(PRESETS),
                            help="列名映射预设（默认 hotline_12345：中文列名及英文别名）")
        parser.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09"],
                            help="经纬度的坐标系（默认 wgs84）")
        parser.add_argument("--sheet", default=None, help="Excel 工作表名（默认第一个）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args: Any, path: str, mapping: str, crs: str, sheet: str | None,
               dry_run: bool, **options: Any) -> None:
        try:
            result = import_work_orders(path, mapping=mapping, crs=crs, sheet=sheet,
                                        dry_run=dry_run)
        except DomainError as exc:
            problems = getattr(exc, "problems", None) or []
            lines = [exc.message]
            for p in problems[:100]:
                where = "".join([f"第 {p['row']} 行" if p.get("row") else "",
                                 f"「{p['column']}」" if p.get("column") else ""])
                lines.append(f"  {where}{'：' if where else ''}{p.get('message', p)}")
            if len(problems) > 100:
                lines.append(f"  ……另有 {len(problems) - 100} 处错误")
            raise CommandError("\n".join(lines)) from exc
        if dry_run:
            self.stdout.write(f"校验通过：{result.rows} 行，未写入 (dry run)")
            return
        self.stdout.write(self.style.SUCCESS(
            f"导入完成：{result.rows} 行，新建 {result.created} 件，已存在 {result.existing} 件，"
            f"待人工分拨 {result.triage} 件"))
