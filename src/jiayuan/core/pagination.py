"""``offset`` and ``limit`` of every list API, checked in one place.

A negative offset (Django refuses negative slicing), an offset past what a database integer
holds, or a limit of zero or of millions used to reach the query and answer 500 or a huge
page. :func:`page` refuses them with ``InvalidPage`` (422, code ``invalid_page``, a Chinese
message naming the parameter and the allowed range), before any query runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jiayuan.core.errors import InvalidPage

# Far beyond any list of one district, far below a database's integer limits.
MAX_OFFSET = 10_000_000

@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def of(self, rows: Any) -> Any:
        """The page's slice of a queryset or a list."""
        return rows[self.offset:self.offset + self.limit]


def page(offset: int | None, limit: int | None, *, default: int, maximum: int) -> Page:
    """A checked page: ``offset`` in 0…:data:`MAX_OFFSET`, ``limit`` in 1…``maximum``
    (``default`` when not given). Refuses anything else with ``InvalidPage``."""
    offset = 0 if offset is None else offset
    limit = default if limit is None else limit
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidPage(f"offset 须在 0 到 {MAX_OFFSET} 之间",
                          details={"offset": offset, "min": 0, "max": MAX_OFFSET})
    if not 1 <= limit <= maximum:
        raise InvalidPage(f"limit 须在 1 到 {maximum} 之间",
                          details={"limit": limit, "min": 1, "max": maximum})
    return Page(offset, limit)

