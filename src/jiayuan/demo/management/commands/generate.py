"""``jiayuan generate --scale street|pudong [--seed N] [--replace] [--no-cases]
[--cases-per-day N]``: the synthetic district, then a year of demo cases."""

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
        parser.add_argument("--no-cases", action="store_true",
                            help="do not generate the year of demo cases")
        parser.add_argument("--cases-per-day", type=float, default=None,
                            help="demo cases a day (default: 30 street, 100 pudong)")

    def handle(self, *args: Any, scale: str, seed: int, replace: bool, no_cases: bool,
               cases_per_day: float | None, **options: Any) -> None:
        started = time.monotonic()

        def progress(msg: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.1f}s] {msg}")
            self.stdout.flush()

        try:
            counts = generate(scale, seed, progress=progress, replace=replace)
            if not no_cases:
                from jiayuan.demo.cases import generate_cases

                per_day = cases_per_day if cases_per_day is not None else (
                    30.0 if scale == "street" else 100.0)
                case_counts = generate_cases(seed, per_day=per_day, progress=progress)
                counts["cases"] = case_counts["cases"]
                counts["case_events"] = case_counts["events"]
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        counts.pop("seconds", None)
        width = max(len(k) for k in counts)
        self.stdout.write(self.style.SUCCESS("生成完成 / generated:"))
        for key, value in counts.items():
            self.stdout.write(f"  {key:<{width}}  {value:>10,}")
        self.stdout.write(f"用时 / elapsed: {time.monotonic() - started:.1f} s")
