"""Notes on a case that change no state: an alarm cleared, a council's answer, a remark."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from jiayuan.cases import events
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.core.errors import ValidationFailed

NOTE_ACTION = "note"
MAX_NOTE = 2000


@transaction.atomic
def add_note(case: Case, *, text: str, actor: Any = None, actor_role: str = "system",
             payload: dict[str, Any] | None = None) -> CaseEvent:
    """Append a ``note`` event (state unchanged) to the case's history and return it."""
    text = _checked(text)
    locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    event = append_note(locked, text=text, actor=actor, actor_role=actor_role,
                        payload=payload or {})
    case.seq = locked.seq
    return event


@transaction.atomic
def add_note_by_id(case_id: int, *, text: str, actor_role: str = "system",
                   payload: dict[str, Any] | None = None) -> CaseEvent:
    """``add_note`` for a case known only by its id (a system note: an alarm cleared),
    without loading the case: its row is locked and its ``seq`` moved on by one ``UPDATE …
    RETURNING``. The observers get the case with only the fields read here loaded (any
    other field is read from the database if asked for). Refuses what ``add_note`` refuses,
    and a case that does not exist (``Case.DoesNotExist``)."""
    text = _checked(text)
    now = timezone.now()
    table = connection.ops.quote_name(Case._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET seq = seq + 1, updated_at = %s WHERE id = %s "  # noqa: S608
                    "RETURNING seq, state, source_ref", [now, case_id])
        row = cur.fetchone()
    if row is None:
        raise Case.DoesNotExist(f"case {case_id}")
    seq, state, source_ref = row
    known = {"id": case_id, "seq": seq, "state": state, "source_ref": source_ref}
    names = [f.attname for f in Case._meta.concrete_fields if f.attname in known]
    case = Case.from_db(connection.alias, names, [known[n] for n in names])
    return _record(case, text=text, actor=None, actor_role=actor_role, payload=payload or {},
                   at=now)


def append_note(locked: Case, *, text: str, actor: Any = None, actor_role: str = "system",
                payload: dict[str, Any], at: dt.datetime | None = None) -> CaseEvent:
    """Append a ``note`` event to a case the caller holds locked (in its transaction) and tell
    the case's observers; the caller has checked the text (a reporter's note may be empty when
    it brings photos)."""
    locked.seq += 1
    locked.save(update_fields=["seq", "updated_at"])
    return _record(locked, text=text, actor=actor, actor_role=actor_role, payload=payload,
                   at=at or timezone.now())


def _checked(text: str | None) -> str:
    """A note's text, stripped; refused when empty or too long."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("备注不能为空", details={"text": ["必填"]})
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"备注不能超过 {MAX_NOTE} 字", details={"text": ["过长"]})
    return text


def _record(case: Case, *, text: str, actor: Any, actor_role: str, payload: dict[str, Any],
            at: dt.datetime) -> CaseEvent:
    """The ``note`` event at the case's ``seq`` (already moved on), and its observers told."""
    return events.record(case=case, seq=case.seq, at=at, actor=actor,
                         actor_role=getattr(actor, "role", "") or actor_role,
                         action=NOTE_ACTION, from_state=case.state, to_state=case.state,
                         reason=text, payload=payload)
