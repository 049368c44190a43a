"""``jiayuan cases measures rebuild|refresh``: the case measures' monthly roll-up.

``rebuild`` recomputes it from every case (after a bulk load, or a change of the configured
response limit); ``refresh`` recomputes the months and areas of the cases changed since the
last refresh, as the worker does every minute. See docs/case-measures.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jiayuan.cases.measures import rollup


class Command(BaseCommand):
    help = "工单考核指标的月度汇总：rebuild 全量重建，refresh 增量刷新"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild", "refresh"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "rebuild":
            result = rollup.rebuild()
            self.stdout.write(self.style.SUCCESS(
                f"汇总已重建：{result.cells} 行，用时 {result.seconds:.1f} 秒"))
        else:
            result = rollup.refresh()
            self.stdout.write(self.style.SUCCESS(
                f"汇总已刷新：{result.slices} 个（月份 × 区域）片，{result.cells} 行，"
                f"用时 {result.seconds:.1f} 秒"))
