"""``jiayuan cases classifier train|evaluate``: train the case classifier from a labelled history.

    jiayuan cases classifier train HISTORY.(xlsx|csv) --text COL [--text COL …] --label COL
                                   [--model PATH] [--test-size 0.2] [--seed 0]
    jiayuan cases classifier evaluate TEST.(xlsx|csv) --text COL [--text COL …] --label COL
                                   [--model PATH] [--threshold 0.6]
    jiayuan cases classifier cv HISTORY.(xlsx|csv) --text COL [--text COL …] --label COL
                                   [--folds 5] [--seed 0]

``evaluate`` and ``cv`` (cross-validation; writes no model) end with the line ``accuracy=<a> macro_f1=<f> n=<rows>``. The logic lives in
``jiayuan.cases.routing.cli``; this command only parses and prints.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayuan.cases.routing import cli
from jiayuan.cases.routing.suggest import DEFAULT_THRESHOLD
from jiayuan.core.errors import DomainError


class Command(BaseCommand):
    help = "训练或评估工单分类模型 (train / evaluate the case classifier)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, helptext in (("train", "从已标注的历史工单训练模型"),
                               ("evaluate", "在已标注的测试集上评估模型"),
                               ("cv", "在已标注的历史工单上交叉验证（不保存模型）")):
            p = sub.add_parser(name, help=helptext)
            p.add_argument("path", help=".xlsx 或 .csv 文件")
            p.add_argument("--text", action="append", required=True, dest="text_columns",
                           metavar="COL", help="文本列（可重复，按顺序拼接）")
            p.add_argument("--label", required=True, dest="label_column", metavar="COL",
                           help="类别列")
            if name != "cv":
                p.add_argument("--model", default=str(cli.DEFAULT_MODEL_PATH),
                               dest="model_path", metavar="PATH", help="模型文件路径")
            p.add_argument("--sheet", default=None, help="Excel 工作表名（默认第一个）")
            p.add_argument("--skip-invalid", action="store_true",
                           help="跳过空文本或空标签的行（默认整份文件拒收）")
            if name == "train":
                p.add_argument("--test-size", type=float, default=0.2)
                p.add_argument("--seed", type=int, default=0)
            elif name == "cv":
                p.add_argument("--folds", type=int, default=5)
                p.add_argument("--seed", type=int, default=0)
            else:
                p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)

    def handle(self, *args: Any, **opts: Any) -> None:
        common = {"text_columns": opts["text_columns"], "label_column": opts["label_column"],
                  "sheet": opts["sheet"], "skip_invalid": opts["skip_invalid"],
                  "out": self.stdout.write}
        try:
            if opts["action"] == "cv":
                cli.crossval(opts["path"], folds=opts["folds"], seed=opts["seed"], **common)
                return
            common["model_path"] = opts["model_path"]
            if opts["action"] == "train":
                cli.train(opts["path"], test_size=opts["test_size"], seed=opts["seed"], **common)
            else:
                cli.evaluate(opts["path"], threshold=opts["threshold"], **common)
        except DomainError as exc:
            problems = getattr(exc, "problems", None) or []
            lines = [exc.message, *(str(p.get("message", p)) for p in problems[:50])]
            if len(problems) > 50:
                lines.append(f"……另有 {len(problems) - 50} 处错误")
            raise CommandError("\n".join(lines)) from exc
