"""Visit logs: who visited whom, when, with what outcome; the next visit is rescheduled."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.accounts.scope import scope_for
from jiayuan.care import access
from jiayuan.care.models import ElderLivingAlone, VisitLog
from jiayuan.care.services.scoring import refresh_schedule
from jiayuan.care.services.tasks import raise_task
from jiayuan.core.errors import ValidationFailed

WORRYING = frozenset({VisitLog.Outcome.CONCERN, VisitLog.Outcome.EMERGENCY,
                      VisitLog.Outcome.NOT_HOME})
MAX_BACKDATE = dt.timedelta(days=30)
OUTCOME_ZH = {"well": "一切正常", "concern": "发现问题", "not_home": "不在家",
              "hospital": "住院", "emergency": "紧急情况"}


@transaction.atomic
def log_visit(*, elder: ElderLivingAlone, by: Any, outcome: str, visited_at: dt.datetime | None
              = None, notes: str = "", method: str = VisitLog.Method.HOME,
              visitor_name: str = "") -> VisitLog:
    """Log a visit (by the user, or by a named volunteer) and reschedule the next one.

    A worrying outcome (concern, emergency, not at home) opens a care task. Refuses an
    unknown outcome or method, a time in the future or more than 30 days back, and a person
    outside the user's area; nothing is saved then.
    """
    access.require_edit(by)
    scope_for(by).require(elder.path)
    now = timezone.now()
    visited_at = visited_at or now
    errors: dict[str, str] = {}
    if outcome not in VisitLog.Outcome.values:
        errors["outcome"] = "请选择走访结果"
    if method not in VisitLog.Method.values:
        errors["method"] = "走访方式无效"
    if visited_at.tzinfo is None:
        errors["visited_at"] = "走访时间必须带时区"
    elif visited_at > now + dt.timedelta(minutes=5):
        errors["visited_at"] = "走访时间不能晚于现在"
    elif visited_at < now - MAX_BACKDATE:
        errors["visited_at"] = "只能补记 30 天内的走访"
    if len(notes) > 2000:
        errors["notes"] = "备注不超过 2000 字"
    if errors:
        raise ValidationFailed("走访记录有误，未保存", details=errors)
    elder = ElderLivingAlone.objects.select_for_update().get(pk=elder.pk)
    visit = VisitLog.objects.create(
        elder=elder, visited_at=visited_at, visitor=by, method=method, outcome=outcome,
        visitor_name=(visitor_name.strip() or str(by))[:50], notes=notes.strip())
    if elder.last_visit_at is None or visited_at > elder.last_visit_at:
        elder.last_visit_at = visited_at
        refresh_schedule(elder)
        elder.save(update_fields=["last_visit_at", "next_visit_due", "updated_at"])
    if outcome in WORRYING:
        raise_task(elder=elder, kind="visit", at=visited_at,
                   reason=f"走访结果：{OUTCOME_ZH[outcome]}",
                   source_ref=f"care.visit:{visit.pk}")
    return visit
