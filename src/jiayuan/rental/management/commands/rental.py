"""``jiayuan rental check ROOMS.csv|xlsx --out RESULT.csv|xlsx [--max-per-room N]
[--min-area-per-person M2] [--min-living-room M2]``: check inspectors' spreadsheets against the
rental rules, storing nothing.

Every problem of a bad file is printed (row and column named) and nothing is written; the exit
code is then 2. The rules are in ``jiayuan.rental.engine``; the files in ``jiayuan.rental.io``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.core.uploads import cli_limits
from jiayuan.rental import io
from jiayuan.rental.engine import RentalRuleError, RentalSettings, check_units

DEFAULTS = RentalSettings()
EXIT_BAD_INPUT = 2
MAX_LISTED = 200


class Command(BaseCommand):
    help = "出租房屋检查：按出租规则逐套检查房间表，不保存任何数据 (rental-housing checks)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="check")
        check = sub.add_parser("check", help="检查 ROOMS 表，每套房输出一行结果")
        check.add_argument("rooms", help="ROOMS.csv|xlsx：每间房一行")
        check.add_argument("--out", required=True, help="RESULT.csv|xlsx：每套房一行")
        check.add_argument("--max-per-room", type=int, default=DEFAULTS.max_people_per_room,
                           help=f"每间房居住人数上限（默认 {DEFAULTS.max_people_per_room}）")
        check.add_argument("--min-area-per-person", type=float,
                           default=DEFAULTS.min_area_per_person_m2,
                           help=f"人均居住面积下限，平方米（默认 {DEFAULTS.min_area_per_person_m2:g}）")
        check.add_argument("--min-living-room", type=float, default=DEFAULTS.min_living_room_m2,
                           help=f"X+1 客厅面积下限，平方米（默认 {DEFAULTS.min_living_room_m2:g}）")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] != "check":  # pragma: no cover - argparse refuses other actions
            raise CommandError(f"未知的子命令 {opts['action']}", returncode=EXIT_BAD_INPUT)
        self._check(opts)

    def _refuse(self, headline: str, problems: list[io.Problem]) -> None:
        for p in problems[:MAX_LISTED]:
            self.stderr.write(f"  {p}")
        if len(problems) > MAX_LISTED:
            self.stderr.write(f"  ……另有 {len(problems) - MAX_LISTED} 处错误")
        raise CommandError(headline, returncode=EXIT_BAD_INPUT)

    def _check(self, opts: dict[str, Any]) -> None:
        try:
            settings = RentalSettings(max_people_per_room=opts["max_per_room"],
                                      min_area_per_person_m2=opts["min_area_per_person"],
                                      min_living_room_m2=opts["min_living_room"])
        except RentalRuleError as exc:
            raise CommandError(exc.message, returncode=EXIT_BAD_INPUT) from exc
        out_problems = io.check_out_path(opts["out"])
        units, problems = io.read_rooms(opts["rooms"], limits=cli_limits())
        problems = out_problems + problems
        if problems:
            self._refuse(f"{opts['rooms']} 有 {len(problems)} 处错误，未写入任何结果", problems)
        results = check_units(units, settings)
        written = io.write_result(opts["out"], results)
        breaking = sum(1 for r in results if not r.compliant)
        self.stdout.write(f"已检查 {written} 套房：{written - breaking} 套合规，{breaking} 套不合规；"
                          f"结果已写入 {opts['out']}")

