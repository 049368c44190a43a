"""The deriver registry and the shared helpers of the built-in derivers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")


class NoDataSource(Exception):
    """The platform holds no source for this leaf (module absent, nothing mapped)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Derived:
    """Values by compound id; ``None`` values carry a reason in ``reasons``."""

    values: dict[int, float | None] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)

    def missing(self, compound_id: int, reason: str) -> None:
        self.values[compound_id] = None
        self.reasons[compound_id] = reason


DeriveFn = Callable[[dt.date, dt.date], Derived]


@dataclass(frozen=True)
class Deriver:
    code: str
    fn: DeriveFn
    description: str = ""
    unit: str = ""


_REGISTRY: dict[str, Deriver] = {}


def register(code: str, fn: DeriveFn, *, description: str = "", unit: str = "") -> Deriver:
    """Register (or replace) the deriver of leaf ``code``."""
    if not code:
        raise ValueError("指标代码不能为空")
    d = Deriver(code, fn, description, unit)
    _REGISTRY[code] = d
    return d


def unregister(code: str) -> None:
    _REGISTRY.pop(code, None)


def ensure_loaded() -> None:
    """Import the built-in deriver modules (they register themselves)."""
    from . import cases, council, registry  # noqa: F401


def derivers() -> Mapping[str, Deriver]:
    ensure_loaded()
    return dict(_REGISTRY)


def derive_leaf(code: str, start: dt.date, end: dt.date) -> Derived:
    """The values of one leaf; raises ``NoDataSource`` if nothing derives it."""
    ensure_loaded()
    d = _REGISTRY.get(code)
    if d is None:
        raise NoDataSource("平台上没有该指标的推导规则")
    return d.fn(start, end)


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes of ``[start, end)`` at midnight Asia/Shanghai."""
    return (dt.datetime.combine(start, dt.time(), SH), dt.datetime.combine(end, dt.time(), SH))


# -- a per-derivation cache: one aggregate query serves every leaf of the same source ------
_cache: dict[Any, Any] | None = None


@contextmanager
def derivation_cache() -> Iterator[None]:
    """Within the block, :func:`cached` keeps results (one pass derives many leaves)."""
    global _cache
    outer = _cache
    if outer is None:
        _cache = {}
    try:
        yield
    finally:
        if outer is None:
            _cache = None


def cached(key: Any, compute: Callable[[], Any]) -> Any:
    if _cache is None:
        return compute()
    if key not in _cache:
        _cache[key] = compute()
    return _cache[key]
