"""Photos on cases, and the writes that carry them: a home-code report, a reporter's note, a
staff action with photos (a handling report).

Photos are checked by ``jiayuan.core.photos.check_photos`` (shared with the council): by their
first bytes (magic numbers), not by the name or the browser's claimed type; only JPEG and PNG,
at most three per submission, each at most 5 MB. Every check runs before anything is written,
so a refused upload changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from jiayuan.cases.models import Case, CaseAttachment, CaseEvent
from jiayuan.cases.services.intake import open_case
from jiayuan.cases.services.notes import append_note
from jiayuan.cases.services.transitions import act
from jiayuan.core.errors import NotFound, ValidationFailed
from jiayuan.core.photos import (  # noqa: F401 - MAX_BYTES, MAX_PHOTOS, sniff: re-exported
    MAX_BYTES,
    MAX_PHOTOS,
    Photo,
    check_photos,
    sniff,
)

MAX_NOTE = 1000


def _store(case: Case, photos: Sequence[Photo], *, event: CaseEvent | None,
           user: Any = None) -> list[CaseAttachment]:
    uploader = user if getattr(user, "is_authenticated", False) else None
    out = []
    for p in photos:
        att = CaseAttachment(case=case, event=event, content_type=p.content_type,
                             size=len(p.data), sha256=hashlib.sha256(p.data).hexdigest(),
                             uploaded_by=uploader)
        att.file.save(p.name, ContentFile(p.data), save=False)
        att.save()
        out.append(att)
    return out


def report_from_home_code(*, entrance: Any, description: str, category_code: str | None = None,
                          lng: Any = None, lat: Any = None, reporter_name: str = "",
                          reporter_phone: str = "", idempotency_key: str | None = None,
                          photos: Sequence[Any] = (),
                          exact_position_public: bool = False) -> tuple[Case, bool]:
    """Open a resident's case from a home-code page, with up to three photos.

    The case is placed at the entrance (its compound and neighbourhood, whatever the
    browser says); the browser's WGS-84 point, when given, only refines the position within
    ``HOME_CODE_RADIUS_M`` of the entrance and is refused beyond (details ``position``).
    ``exact_position_public`` is the resident's consent (a box on the form) that the public
    Open311 interface shows that position exactly; it is kept on the case and in the first
    event's payload (``consent``); without it the interface coarsens it. Idempotent on
    ``idempotency_key``: a repeated submission returns the first case and stores no photo.
    Refuses (creating nothing) bad photos and everything ``open_case`` refuses.
    """
    checked = check_photos(photos)
    with transaction.atomic():
        use_point = lng not in (None, "") and lat not in (None, "")
        case, created = open_case(
            channel="home_code", description=description, category_code=category_code or None,
            lng=lng if use_point else None, lat=lat if use_point else None, crs="wgs84",
            entrance=entrance, reporter_name=reporter_name,
            reporter_phone=reporter_phone, idempotency_key=idempotency_key, route=False,
            # the consent goes into the report event as it is written (events never change)
            report_payload={"consent": {"exact_position_public": True}}
            if exact_position_public else None,
        )
        if created and exact_position_public:
            case.exact_position_public = True
            case.save(update_fields=["exact_position_public", "updated_at"])
        if created and checked:
            _store(case, checked, event=case.events.get(seq=1))
        if created:
            from jiayuan.cases.services.routing import route_new_case

            route_new_case(case)
    return case, created


@transaction.atomic
def add_reporter_note(*, token: str, text: str, photos: Sequence[Any] = (),
                      now: dt.datetime | None = None) -> Case:
    """The reporter (holding the tracking token) adds a note and/or photos to their case.

    Appends a ``note`` event (the state does not change). Refuses an unknown token
    (``NotFound``), an empty note without photos, a note over 1,000 characters or bad photos
    (``ValidationFailed``); a merged case takes the note on the case it was merged into.
    """
    checked = check_photos(photos)
    text = (text or "").strip()
    if not text and not checked:
        raise ValidationFailed("请填写补充说明或选择照片", details={"note": ["必填"]})
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"补充说明不能超过 {MAX_NOTE} 字", details={"note": ["过长"]})
    case = Case.objects.select_for_update().filter(tracking_token=token).first()
    if case is None:
        raise NotFound("找不到该工单，请检查查询链接")
    while case.merged_into_id is not None:
        case = Case.objects.select_for_update().get(pk=case.merged_into_id)
    event = append_note(case, text=text, actor_role="resident",
                        payload={"photos": str(len(checked))}, at=now)
    _store(case, checked, event=event)
    return case


@transaction.atomic
def act_with_photos(*, case: Case, user: Any, kind: str, photos: Sequence[Any] = (),
                    **kwargs: Any) -> Case:
    """``cases.services.act`` and, in the same transaction, photos on the event it appends
    (a handling report's before/after pictures). Refuses what ``act`` refuses and bad photos,
    changing nothing."""
    checked = check_photos(photos)
    case = act(case=case, user=user, kind=kind, **kwargs)
    if checked:
        _store(case, checked, event=case.events.get(seq=case.seq), user=user)
    return case
