"""The owners' register (业主名册) and owner accounts: who may vote for which dwelling.

* Staff of the neighbourhood enter register rows (``add_register_entry``); a later spreadsheet
  import writes the same rows with ``source="import"``.
* A user claims to be an owner (``request_owner_link``) by naming the dwelling, the owner's
  name and the last four characters of the ID number as the register has them. The claim is
  not valid until the neighbourhood's staff verify it (``decide_owner_link``); they may revoke
  it later (``revoke_owner_link``).
* ``verified_owner_ref`` says which register identity a user holds for a dwelling: the only
  way an online ballot or an online proxy grant learns who the owner is.

Every change writes one ``OwnerEvent`` row.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jiayuan.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jiayuan.council import access
from jiayuan.council.models import Council, DwellingOwner, OwnerEvent, OwnerLink

ID_LAST4_RE = re.compile(r"^[0-9]{3}[0-9X]$")
PHONE_RE = re.compile(r"^[0-9+\- ]{5,30}$")


def record(kind: str, *, actor: Any, at: Any = None, owner: DwellingOwner | None = None,
           link: OwnerLink | None = None, consultation: Any = None, household_id: int | None = None,
           **detail: Any) -> OwnerEvent:
    """Append one event row of the register, a link, a proxy or a ballot."""
    return OwnerEvent.objects.create(
        kind=kind, actor=actor if getattr(actor, "is_authenticated", False) else None,
        owner=owner, link=link, consultation=consultation, household_id=household_id,
        detail=detail, at=at or timezone.now())


def council_of_household(household: Any) -> Council:
    """The council of the neighbourhood the dwelling lies in (``NotFound`` if none)."""
    council = Council.objects.filter(neighbourhood_id=household.compound.neighbourhood_id).first()
    if council is None:
        raise NotFound("该住户所在居民区尚未成立理事会")
    return council


def _id_last4(value: str) -> str:
    v = (value or "").strip().upper()
    if not ID_LAST4_RE.match(v):
        raise ValidationFailed("身份证号后四位须为 4 位数字（末位可为 X）",
                               details={"id_last4": ["格式不正确"]})
    return v


@transaction.atomic
def add_register_entry(*, actor: Any, household: Any, name: str, id_last4: str, phone: str = "",
                       owner_ref: str | None = None, source: str = DwellingOwner.Source.MANUAL,
                       source_ref: str = "") -> DwellingOwner:
    """Enter one owner of one dwelling in the register. Staff of the dwelling's neighbourhood
    only. ``owner_ref`` defaults to the ref of a row of the same compound with the same name
    and ID digits (the same person holding another dwelling), else a new random one.
    Refuses a blank name, bad ID digits or phone, and a second row of one person for one
    dwelling."""
    council = council_of_household(household)
    access.require_manage(actor, council)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed("业主姓名不能为空且不超过 60 字", details={"name": ["必填"]})
    last4 = _id_last4(id_last4)
    phone = (phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        raise ValidationFailed("电话号码格式不正确", details={"phone": ["格式不正确"]})
    if source not in DwellingOwner.Source.values:
        raise ValidationFailed("未知的登记来源", details={"source": [source]})
    if not owner_ref:
        same = DwellingOwner.objects.filter(household__compound_id=household.compound_id,
                                            name=name, id_last4=last4).first()
        owner_ref = same.owner_ref if same else f"O{secrets.token_hex(6)}"
    if DwellingOwner.objects.filter(household=household, owner_ref=owner_ref).exists():
        raise Conflict("该业主已登记在此专有部分")
    row = DwellingOwner.objects.create(household=household, owner_ref=owner_ref[:40], name=name,
                                       id_last4=last4, phone=phone, source=source,
                                       source_ref=source_ref[:60], created_at=timezone.now())
    record("register_added", actor=actor, owner=row, household_id=household.pk,
           source=source)
    return row


@transaction.atomic
def request_owner_link(*, user: Any, household: Any, name: str, id_last4: str) -> OwnerLink:
    """A logged-in user claims to be the registered owner ``name`` of ``household``. The claim
    waits for the neighbourhood's staff. Refuses (without saying which detail was wrong) a
    claim that matches no register row, and a second open claim of the same row."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录")
    name = (name or "").strip()
    last4 = (id_last4 or "").strip().upper()
    row = DwellingOwner.objects.filter(household=household, name=name, id_last4=last4).first() \
        if name and last4 else None
    if row is None:
        raise ValidationFailed("与业主名册登记的信息不符，请核对或联系居委会",
                               details={"owner": ["不符"]})
    if OwnerLink.objects.filter(user=user, owner=row, status__in=["requested", "verified"]) \
            .exists():
        raise Conflict("已提交过业主身份认证")
    now = timezone.now()
    link = OwnerLink.objects.create(user=user, owner=row, requested_at=now)
    record("link_requested", actor=user, owner=row, link=link, household_id=household.pk, at=now)
    return link


def _link_for_update(link: OwnerLink) -> OwnerLink:
    return OwnerLink.objects.select_for_update().select_related(
        "owner__household__compound").get(pk=link.pk)


@transaction.atomic
def decide_owner_link(*, link: OwnerLink, actor: Any, approve: bool,
                      note: str = "") -> OwnerLink:
    """Staff of the dwelling's neighbourhood verify (``approve``) or reject a waiting claim,
    having checked the owner's papers. Refuses a claim already decided, and a second verified
    account for one register row."""
    link = _link_for_update(link)
    access.require_manage(actor, council_of_household(link.owner.household))
    if link.status != OwnerLink.Status.REQUESTED:
        raise ValidationFailed("该认证申请已处理", details={"status": link.status})
    if approve and OwnerLink.objects.filter(owner=link.owner, status="verified").exists():
        raise Conflict("该业主已有一个经核验的账号，请先撤销")
    now = timezone.now()
    link.status = OwnerLink.Status.VERIFIED if approve else OwnerLink.Status.REJECTED
    link.decided_by, link.decided_at, link.note = actor, now, (note or "").strip()[:200]
    try:
        with transaction.atomic():
            link.save(update_fields=["status", "decided_by", "decided_at", "note"])
    except IntegrityError:
        raise Conflict("该业主已有一个经核验的账号，请先撤销") from None
    record("link_verified" if approve else "link_rejected", actor=actor, owner=link.owner,
           link=link, household_id=link.owner.household_id, at=now, note=link.note)
    return link


@transaction.atomic
def revoke_owner_link(*, link: OwnerLink, actor: Any, note: str = "") -> OwnerLink:
    """End a claim or a verified link: by staff of the neighbourhood, or by its own user."""
    link = _link_for_update(link)
    if not (actor.pk == link.user_id
            or access.can_manage(actor, council_of_household(link.owner.household))):
        raise Forbidden("只有本居民区工作人员或业主本人可以撤销")
    if link.status not in (OwnerLink.Status.REQUESTED, OwnerLink.Status.VERIFIED):
        raise ValidationFailed("该认证已结束", details={"status": link.status})
    now = timezone.now()
    link.status = OwnerLink.Status.REVOKED
    link.decided_by, link.decided_at, link.note = actor, now, (note or "").strip()[:200]
    link.save(update_fields=["status", "decided_by", "decided_at", "note"])
    record("link_revoked", actor=actor, owner=link.owner, link=link,
           household_id=link.owner.household_id, at=now, note=link.note)
    return link


def verified_owner_ref(user: Any, household_id: int) -> str | None:
    """The register identity ``user`` holds for the dwelling through a verified link."""
    if not getattr(user, "is_authenticated", False):
        return None
    link = (OwnerLink.objects.filter(user=user, status=OwnerLink.Status.VERIFIED,
                                     owner__household_id=household_id)
            .select_related("owner").order_by("pk").first())
    return link.owner.owner_ref if link else None


def verified_households(user: Any) -> dict[int, str]:
    """Every dwelling ``user`` is a verified owner of: household id → owner_ref."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return dict(OwnerLink.objects.filter(user=user, status=OwnerLink.Status.VERIFIED)
                .values_list("owner__household_id", "owner__owner_ref"))
