"""Keep a person's stored risk in step with the pure risk engine; history on every change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jiayuan.care import risk, schedule
from jiayuan.care.models import ElderLivingAlone, RiskAssessment


def attributes_of(elder: ElderLivingAlone, *, today: dt.date) -> risk.Attributes:
    return risk.Attributes(
        age=max(0, today.year - elder.birth_year), health=elder.health,
        chronic_conditions=elder.chronic_conditions, mobility=elder.mobility,
        cognition=elder.cognition, living_conditions=elder.living_conditions,
        stairs_without_elevator=elder.stairs_without_elevator, carer=elder.carer,
        children_nearby=elder.children_nearby,
        has_emergency_contact=bool(elder.emergency_contacts),
    )


def assess(elder: ElderLivingAlone, *, today: dt.date) -> risk.Assessment:
    return risk.assess(attributes_of(elder, today=today), elder.active_signals)


def refresh_schedule(elder: ElderLivingAlone) -> None:
    elder.next_visit_due = schedule.next_due(
        elder.risk_level, last_visit_at=elder.last_visit_at,
        registered_at=elder.created_at)


def rescore(elder: ElderLivingAlone, *, at: dt.datetime, cause: str,
            actor: Any = None) -> tuple[risk.Level, risk.Level]:
    """Recompute the risk of ``elder`` (saved by the caller) and record a history row when
    the level or score changed. Returns ``(old level, new level)``."""
    old = risk.Level(elder.risk_level)
    result = assess(elder, today=at.date())
    changed = (result.level.value != elder.risk_level or result.score != elder.risk_score
               or not elder.assessments.exists())
    elder.risk_level = result.level.value
    elder.risk_score = result.score
    elder.risk_reasons = [[k, p] for k, p in result.reasons]
    refresh_schedule(elder)
    if changed:
        RiskAssessment.objects.create(
            elder=elder, at=at, level=result.level.value, score=result.score,
            reasons=elder.risk_reasons, cause=cause[:40],
            actor=actor if getattr(actor, "is_authenticated", False) else None)
    return old, result.level
