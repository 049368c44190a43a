"""Refusals of the index engine: stable codes, Chinese messages, no Django.

They derive from :mod:`jiayuan.core.errors` (itself free of Django) so the API and the CLI map
them like every other domain error.
"""

from __future__ import annotations

from typing import Any

from jiayuan.core.errors import ValidationFailed


class IndexEngineError(ValidationFailed):
    """Base of every refusal the index engine makes."""

    code = "index_error"
    default_message = "治理指数计算失败"


class CatalogueInvalid(IndexEngineError):
    """The indicator catalogue is inconsistent; ``problems`` lists every defect."""

    code = "index_catalogue_invalid"
    default_message = "指标目录有误"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        text = "；".join(str(p["message"]) for p in problems[:5])
        super().__init__(f"指标目录有 {len(problems)} 处错误：{text}", details=problems)


class ThresholdsInvalid(IndexEngineError):
    """Thresholds (x_min, x_max) cannot be used as given."""

    code = "index_thresholds_invalid"
    default_message = "上下限阈值有误"


class PanelInvalid(IndexEngineError):
    """The values handed to the engine are inconsistent with the catalogue."""

    code = "index_values_invalid"
    default_message = "指标数据有误"


class OptionInvalid(IndexEngineError):
    """An option (method name, fraction, confidence …) is outside what the engine supports."""

    code = "index_option_invalid"
    default_message = "计算参数有误"
