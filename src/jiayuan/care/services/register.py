"""Register a person living alone, or change what the register knows of them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jiayuan.accounts.scope import scope_for
from jiayuan.care import access, risk
from jiayuan.care.models import CareTask, ElderLivingAlone
from jiayuan.care.services.scoring import rescore
from jiayuan.care.services.tasks import raise_task
from jiayuan.core.errors import Conflict, ValidationFailed
from jiayuan.registry.models import Entrance, Household

MIN_AGE = 60
ID_RE = re.compile(r"^\d{17}[\dX]$")
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{7,8})$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

ATTRIBUTE_FIELDS = ("health", "chronic_conditions", "mobility", "cognition",
                    "living_conditions", "stairs_without_elevator", "carer",
                    "children_nearby", "emergency_contacts")
EDITABLE_FIELDS = ("name", "id_number", "phone", "birth_year", "room", *ATTRIBUTE_FIELDS,
                   "consent", "notes", "volunteer_name")


def id_number_valid(number: str) -> bool:
    """GB 11643 resident ID: 17 digits and a check character."""
    if not ID_RE.match(number):
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17]


def _clean(data: Mapping[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Check every field; collect all problems and refuse them together (field → message)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = str(data.get("name", "")).strip()
    if not name or len(name) > 50:
        errors["name"] = "请填写姓名（不超过 50 字）"
    out["name"] = name
    number = str(data.get("id_number", "") or "").strip().upper()
    if number and not id_number_valid(number):
        errors["id_number"] = "身份证号码格式或校验位有误"
    out["id_number"] = number
    phone = str(data.get("phone", "") or "").strip().replace(" ", "")
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = "电话号码格式有误"
    out["phone"] = phone
    try:
        birth_year = int(data.get("birth_year"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors["birth_year"] = "请填写出生年份"
        birth_year = 0
    else:
        if not 1900 <= birth_year <= today.year - MIN_AGE:
            errors["birth_year"] = f"出生年份须在 1900 至 {today.year - MIN_AGE} 之间（{MIN_AGE} 岁以上）"
        elif number and not errors.get("id_number") and int(number[6:10]) != birth_year:
            errors["birth_year"] = "出生年份与身份证号码不一致"
    out["birth_year"] = birth_year
    for field, order in risk.ORDINALS.items():
        value = data.get(field, order[0] if field != "carer" else "none")
        if value not in order:
            errors[field] = "取值无效"
        out[field] = value
    try:
        chronic = int(data.get("chronic_conditions", 0) or 0)
        if not 0 <= chronic <= 20:
            raise ValueError
    except (TypeError, ValueError):
        errors["chronic_conditions"] = "慢性病数量须为 0–20 的整数"
        chronic = 0
    out["chronic_conditions"] = chronic
    for flag in ("stairs_without_elevator", "children_nearby", "consent"):
        out[flag] = bool(data.get(flag, False))
    contacts_out = []
    contacts = data.get("emergency_contacts") or []
    if not isinstance(contacts, list):
        errors["emergency_contacts"] = "紧急联系人格式有误"
        contacts = []
    for i, c in enumerate(contacts):
        if not isinstance(c, Mapping):
            errors["emergency_contacts"] = "紧急联系人格式有误"
            break
        c_name = str(c.get("name", "")).strip()
        c_phone = str(c.get("phone", "")).strip().replace(" ", "")
        if not c_name and not c_phone:
            continue
        if not c_name or not PHONE_RE.match(c_phone):
            errors["emergency_contacts"] = f"第 {i + 1} 位紧急联系人须有姓名和有效电话"
            break
        contacts_out.append({"name": c_name[:50], "relation": str(c.get("relation", ""))[:20],
                             "phone": c_phone})
    out["emergency_contacts"] = contacts_out
    out["room"] = str(data.get("room", "") or "").strip()[:20]
    out["notes"] = str(data.get("notes", "") or "").strip()[:2000]
    out["volunteer_name"] = str(data.get("volunteer_name", "") or "").strip()[:50]
    if errors:
        raise ValidationFailed("登记信息有误，未保存", details=errors)
    return out


def _resolve_place(by: Any, entrance: Entrance | None,
                   household: Household | None) -> tuple[Entrance, Household | None]:
    if household is not None:
        if entrance is not None and household.entrance_id != entrance.pk:
            raise ValidationFailed("住户不属于所选门栋", details={"household": household.pk})
        entrance = household.entrance
    if entrance is None:
        raise ValidationFailed("请选择门栋或住户", details={"entrance": "required"})
    scope_for(by).require(entrance.path)
    return entrance, household


def _neighbourhood_of(entrance: Entrance) -> Any:
    return entrance.building.compound.neighbourhood


def _check_visitor(visitor: Any, path: str) -> None:
    if visitor is None:
        return
    if not (visitor.is_superuser or visitor.role in access.EDIT_ROLES) \
            or not scope_for(visitor).covers(path):
        raise ValidationFailed("走访人必须是本辖区的社区工作人员", details={"visitor": visitor.pk})


@transaction.atomic
def register_elder(*, by: Any, data: Mapping[str, Any], entrance: Entrance | None = None,
                   household: Household | None = None, visitor: Any = None,
                   at: dt.datetime | None = None) -> ElderLivingAlone:
    """Add a person to the register within the acting user's area; scores their risk.

    Refuses (nothing saved): a role that may not edit, a place outside the user's area, any
    invalid field (all listed in ``details``), an ID number already registered.
    """
    access.require_edit(by)
    now = at or timezone.now()
    entrance, household = _resolve_place(by, entrance, household)
    clean = _clean(data, today=timezone.localdate(now))
    _check_visitor(visitor, entrance.path)
    elder = ElderLivingAlone(entrance=entrance, household=household,
                             neighbourhood=_neighbourhood_of(entrance), path=entrance.path,
                             created_by=by, visitor=visitor, **clean)
    if household is not None and not elder.room:
        elder.room = household.room
    if elder.consent:
        elder.consent_at = now
    try:
        with transaction.atomic():
            elder.save()
    except IntegrityError as exc:
        raise Conflict("该身份证号码已登记", details={"id_number": "duplicate"}) from exc
    rescore(elder, at=now, cause="registered", actor=by)
    elder.save(update_fields=["risk_level", "risk_score", "risk_reasons", "next_visit_due"])
    return elder


@transaction.atomic
def update_elder(*, elder: ElderLivingAlone, by: Any, data: Mapping[str, Any],
                 visitor: Any = None, entrance: Entrance | None = None,
                 household: Household | None = None,
                 at: dt.datetime | None = None) -> ElderLivingAlone:
    """Change what the register knows (and, given ``entrance``/``household``, where the person
    lives: within the user's area); a rise in risk level opens a care task."""
    access.require_edit(by)
    scope_for(by).require(elder.path)
    now = at or timezone.now()
    elder = ElderLivingAlone.objects.select_for_update().get(pk=elder.pk)
    if entrance is not None or household is not None:
        entrance, household = _resolve_place(by, entrance, household)
        if entrance.pk != elder.entrance_id or household != elder.household:
            elder.entrance, elder.household, elder.path = entrance, household, entrance.path
            elder.neighbourhood = _neighbourhood_of(entrance)
            CareTask.objects.filter(elder=elder).exclude(status="done").update(
                path=entrance.path)
    merged = {f: getattr(elder, f) for f in EDITABLE_FIELDS}
    merged.update({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    clean = _clean(merged, today=timezone.localdate(now))
    _check_visitor(visitor, elder.path)
    if clean["consent"] and not elder.consent:
        elder.consent_at = now
    for k, v in clean.items():
        setattr(elder, k, v)
    elder.visitor = visitor
    try:
        with transaction.atomic():
            elder.save()
    except IntegrityError as exc:
        raise Conflict("该身份证号码已登记", details={"id_number": "duplicate"}) from exc
    before, after = rescore(elder, at=now, cause="edited", actor=by)
    elder.save(update_fields=["risk_level", "risk_score", "risk_reasons", "next_visit_due"])
    if after.rank > before.rank:
        raise_task(elder=elder, kind="risk_rise", at=now,
                   reason=f"风险从{risk.LEVEL_LABELS[before]}升至{risk.LEVEL_LABELS[after]}")
    return elder
