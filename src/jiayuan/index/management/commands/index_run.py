"""``jiayuan index run --period 2026``: derive, score and store one period now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.errors import DomainError
from jiayuan.index.models import IndexRun
from jiayuan.index.services.periods import get_or_create_period
from jiayuan.index.services.runs import run_index


class Command(BaseCommand):
    help = "从平台数据计算一期社区治理指数 Derive and score one period from platform data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="2026 or 2026Q1")
        parser.add_argument("--history", type=int, default=2,
                            help="earlier periods in the panel (default 2)")
        parser.add_argument("--mc-draws", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--rederive-all", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            period = get_or_create_period(opts["period"])
            run = run_index(period, trigger="cli", parameters={
                "history": opts["history"], "mc_draws": opts["mc_draws"], "seed": opts["seed"],
                "rederive_all": opts["rederive_all"]})
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for p in run.problems:
            if p["kind"] != "unscored":
                self.stdout.write(f"问题：{p['message']}")
        unscored = sum(1 for p in run.problems if p["kind"] == "unscored")
        if run.status != IndexRun.Status.DONE:
            raise CommandError(f"计算失败：{run.error}")
        n = run.scores.filter(period_label=period.label, status="scored").count()
        self.stdout.write(f"{period.label} 期计算完成（运行 #{run.pk}）：{n} 个小区计分，"
                          f"{unscored} 个未计分；用时 {run.parameters.get('timings')}")
