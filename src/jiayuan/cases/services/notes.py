"""Notes on a case that change no state: an alarm cleared, a council's answer, a remark."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.cases import hooks
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.core.errors import ValidationFailed

NOTE_ACTION = "note"
MAX_NOTE = 2000


@transaction.atomic
def add_note(case: Case, *, text: str, actor: Any = None, actor_role: str = "system",
             payload: dict[str, Any] | None = None) -> CaseEvent:
    """Append a ``note`` event (state unchanged) to the case's history and return it."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("备注不能为空", details={"text": ["必填"]})
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"备注不能超过 {MAX_NOTE} 字", details={"text": ["过长"]})
    locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    event = append_note(locked, text=text, actor=actor, actor_role=actor_role,
                        payload=payload or {})
    case.seq = locked.seq
    return event


def append_note(locked: Case, *, text: str, actor: Any = None, actor_role: str = "system",
                payload: dict[str, Any], at: dt.datetime | None = None) -> CaseEvent:
    """Append a ``note`` event to a case the caller holds locked (in its transaction) and tell
    the case's observers; the caller has checked the text (a reporter's note may be empty when
    it brings photos)."""
    locked.seq += 1
    locked.save(update_fields=["seq", "updated_at"])
    event = CaseEvent.objects.create(
        case=locked, seq=locked.seq, at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_role=getattr(actor, "role", "") or actor_role, action=NOTE_ACTION,
        from_state=locked.state, to_state=locked.state, reason=text, payload=payload,
    )
    hooks.publish(locked, event)
    return event
