"""``jiayuan index compute VALUES [--catalogue CAT] [--thresholds THR] --out RESULT``.

Reads and validates every input first; any problem refuses the whole run with every problem
listed (Chinese, with file and row) and writes nothing; the exit code is then 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.errors import DomainError, ImportRejected
from jiayuan.core.uploads import cli_limits
from jiayuan.index import io
from jiayuan.index.engine import ComputeOptions, Panel, compute_index, default_catalogue


class Command(BaseCommand):
    help = "计算社区治理指数（每个小区、每期一行）Compute the community governance index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("values", help="VALUES.xlsx|csv: compound_code, compound_type, period, indicator_code, value")
        parser.add_argument("--catalogue", help="CAT.csv (default: the published 35 leaves)")
        parser.add_argument("--thresholds", help="THR.csv: fixed x_min/x_max per type and indicator")
        parser.add_argument("--out", required=True, help="RESULT.xlsx|csv")
        parser.add_argument("--seed", type=int, default=0, help="seed of the threshold sample")
        parser.add_argument("--base-period", default=None)
        parser.add_argument("--push-mode", choices=["relative", "range"], default="relative")
        parser.add_argument("--push-fraction", type=float, default=0.10)
        parser.add_argument("--coverage", type=float, default=0.75)
        parser.add_argument("--normalisation", choices=["minmax", "zscore", "rank", "target"], default="minmax")
        parser.add_argument("--aggregation", choices=["arithmetic", "geometric"], default="arithmetic")

    def handle(self, *args: Any, **opts: Any) -> None:
        out = Path(opts["out"])
        problems: list[dict[str, Any]] = []
        limits = cli_limits()  # the import commands' limits, higher than the web's
        if out.suffix.lower() not in io.SUFFIXES:
            problems.append({"sheet": out.name, "row": None, "column": None,
                             "message": f"{out.name} 结果文件只能是 .csv 或 .xlsx"})
        try:
            if opts["catalogue"]:
                catalogue, cat_problems = io.read_catalogue_file(opts["catalogue"], limits=limits)
                problems += cat_problems
            else:
                catalogue = default_catalogue()
            if catalogue is None:
                raise ImportRejected(problems)
            records, value_problems = io.read_values(opts["values"], catalogue, limits=limits)
            problems += value_problems
            fixed: dict[tuple[str, str], tuple[float, float]] = {}
            if opts["thresholds"]:
                fixed, thr_problems = io.read_thresholds(opts["thresholds"], catalogue,
                                                          limits=limits)
                problems += thr_problems
            if problems:
                raise ImportRejected(problems)
            panel = Panel.from_records(records, catalogue)
            options = ComputeOptions(
                seed=opts["seed"], base_period=opts["base_period"], push_mode=opts["push_mode"],
                push_fraction=opts["push_fraction"], coverage_threshold=opts["coverage"],
                normalisation=opts["normalisation"], aggregation=opts["aggregation"],
                fixed_thresholds=fixed,
            )
            result = compute_index(panel, catalogue, options)
            header, rows = io.result_table(result)
            io.write_table(out, header, rows)
        except ImportRejected as exc:
            for p in exc.problems:
                self.stderr.write(str(p["message"]))
            raise CommandError(f"{exc.message}（{len(exc.problems)} 处）") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for t, th in sorted(result.thresholds.items()):
            self.stdout.write(f"{t}: {th.population} 个小区，抽样 {th.sample_size} 个")
        for comp, per, reason, cov in result.unscored():
            self.stdout.write(f"未计分：{comp} {per}（{reason}，覆盖率 {cov:.0%}）")
        self.stdout.write(f"已写入 {out}：{len(rows)} 行")
