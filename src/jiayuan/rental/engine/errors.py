"""The refusals of the rental rules engine: one exception type, a stable code per refusal."""

from __future__ import annotations

from typing import Any, Final

from jiayuan.core.errors import ValidationFailed

#: Every code the engine raises, with its default Chinese message. Codes are stable API.
CODES: Final[dict[str, str]] = {
    "invalid_settings": "出租房屋规则参数无效",
    "invalid_room": "房间数据无效",
    "duplicate_room": "同一套房内房间编号重复",
}


class RentalRuleError(ValidationFailed):
    """A refusal of the rental rules; ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, message: str | None = None, *, details: Any = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown rental rule error code: {code}")
        self.code = code
        super().__init__(message or CODES[code], details=details)
