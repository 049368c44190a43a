"""Registry-based derivers: households per compound (the denominator of the rate leaves)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from jiayuan.registry.models import Compound, CompoundType, Household

from .base import Derived, cached, register

INDEXED_TYPES = tuple(t.value for t in CompoundType if t != CompoundType.URBAN_VILLAGE)
NO_HOUSEHOLDS = "登记册中没有该小区的户数"


def households() -> dict[int, int]:
    """Households per indexed compound: its registered dwellings (registry.Household), or,
    for a compound whose dwellings are not registered one by one, its recorded count."""

    def compute() -> dict[int, int]:
        counted = dict(
            Household.objects.values("compound_id").annotate(n=Count("id"))
            .values_list("compound_id", "n")
        )
        out: dict[int, int] = {}
        for cid, recorded in Compound.objects.filter(
                compound_type__in=INDEXED_TYPES).values_list("id", "households"):
            out[cid] = counted.get(cid) or recorded or 0
        return out

    return cached("households", compute)  # type: ignore[no-any-return]


def derive_households(start: dt.date, end: dt.date) -> Derived:
    out = Derived()
    for cid, n in households().items():
        if n > 0:
            out.values[cid] = float(n)
        else:
            out.missing(cid, NO_HOUSEHOLDS)
    return out


def per_households(counts: dict[int, int | float], scale: float) -> Derived:
    """``count / households × scale`` for every indexed compound (0 when it had no case);
    a compound without households has no value (reason given), never zero."""
    out = Derived()
    for cid, n in households().items():
        if n > 0:
            out.values[cid] = float(counts.get(cid, 0)) / n * scale
        else:
            out.missing(cid, NO_HOUSEHOLDS)
    return out


def plain_counts(counts: dict[int, int | float]) -> Derived:
    """The count for every indexed compound (0 when it had none)."""
    out = Derived()
    for cid in households():
        out.values[cid] = float(counts.get(cid, 0))
    return out


register("households", derive_households, description="登记的户数", unit="户")
