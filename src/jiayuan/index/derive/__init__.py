"""Leaf derivers: platform data → one raw leaf value per compound and period.

A deriver is registered under the leaf (indicator) code it produces::

    from jiayuan.index.derive import register
    register("hotline_12345_complaints", fn, description="…")

``fn(period_start, period_end)`` (dates, ``[start, end)`` in Asia/Shanghai) returns a
:class:`Derived`: ``values`` maps compound id → value (``None`` with a ``reasons`` entry when
the value cannot be had for that compound, e.g. no households on record). A compound absent
from ``values`` has no value either; :func:`derive_period` reports it. A deriver whose data
source does not exist raises :class:`NoDataSource`: the leaf is reported as such, never
written as zero. Derivers use aggregate SQL (``values().annotate(Count…)``), never a loop over
compounds.

The built-in derivers live in :mod:`.cases` (case-based leaves), :mod:`.registry`
(households) and :mod:`.council` (council activity, switched on when
``jiayuan.council.selectors.activity_by_compound`` exists).
"""

from __future__ import annotations

from .base import (
    Derived,
    Deriver,
    NoDataSource,
    derive_leaf,
    derivers,
    ensure_loaded,
    register,
    unregister,
)

__all__ = [
    "Derived",
    "Deriver",
    "NoDataSource",
    "derive_leaf",
    "derivers",
    "ensure_loaded",
    "register",
    "unregister",
]
