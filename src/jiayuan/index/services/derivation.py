"""Derive the platform leaves of a period into ``LeafValue`` (source ``platform``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.index.derive import NoDataSource, derivers
from jiayuan.index.derive.base import derivation_cache
from jiayuan.index.models import IndexPeriod, LeafValue
from jiayuan.index.services.bulk import insert_rows


@transaction.atomic
def derive_period(period: IndexPeriod, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Derive each leaf of ``codes`` that has a deriver; replace the period's platform rows
    of those leaves. Returns per code: ``status`` (derived | no_data_source | no_deriver),
    ``reason``, ``values`` (compounds with a value) and ``missing`` (compounds without)."""
    registry = derivers()
    report: dict[str, dict[str, Any]] = {}
    rows: list[tuple[Any, ...]] = []
    now = timezone.now()
    derived_codes: list[str] = []
    with derivation_cache():
        for code in codes:
            d = registry.get(code)
            if d is None:
                report[code] = {"status": "no_deriver", "reason": "平台上没有该指标的推导规则",
                                "values": 0, "missing": 0}
                continue
            try:
                got = d.fn(period.start, period.end)
            except NoDataSource as exc:
                report[code] = {"status": "no_data_source", "reason": exc.reason,
                                "values": 0, "missing": 0}
                derived_codes.append(code)  # stale values of a vanished source go too
                continue
            derived_codes.append(code)
            n_val = 0
            for cid, v in got.values.items():
                if v is not None:
                    n_val += 1
                rows.append((period.pk, cid, code, v,
                             "" if v is not None else got.reasons.get(cid, ""),
                             LeafValue.Source.PLATFORM.value, f"derive:{code}", now))
            report[code] = {"status": "derived", "reason": "", "values": n_val,
                            "missing": len(got.values) - n_val}
    LeafValue.objects.filter(period=period, source=LeafValue.Source.PLATFORM,
                             indicator__in=derived_codes).delete()
    insert_rows(LeafValue, ("period", "compound", "indicator", "value", "reason", "source",
                            "origin", "recorded_at"), rows)
    return report
