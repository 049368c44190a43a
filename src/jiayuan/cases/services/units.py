"""Unit refs: ``department:<code>``, ``station:<code>``, ``centre:<code>``.

A case's lead and assisting units are refs, so a department, a neighbourhood's joint station
and an operations centre are handled alike. A user acts for the unit their role and grants
give them.
"""

from __future__ import annotations

from typing import Any

from jiayuan.core.errors import ValidationFailed
from jiayuan.registry.models import (
    Department,
    JointStation,
    Neighbourhood,
    OperationsCentre,
    Subdistrict,
)

KINDS = {"department": Department, "station": JointStation, "centre": OperationsCentre}


def ref(obj: Any) -> str:
    if isinstance(obj, Department):
        return f"department:{obj.code}"
    if isinstance(obj, JointStation):
        return f"station:{obj.code}"
    if isinstance(obj, OperationsCentre):
        return f"centre:{obj.code}"
    raise TypeError(f"not a unit: {type(obj).__name__}")


def resolve(unit_ref: str) -> Any:
    """The Department, JointStation or OperationsCentre of a ref; refuses unknown refs."""
    kind, _, code = unit_ref.partition(":")
    model = KINDS.get(kind)
    obj = model.objects.filter(code=code).first() if model and code else None
    if obj is None:
        raise ValidationFailed(f"未知的处置单位“{unit_ref}”", details={"unit": unit_ref})
    return obj


def unit_of(user: Any) -> str | None:
    """The unit a staff user acts for, or None."""
    role = getattr(user, "role", None)
    if role in ("department_staff", "liaison") and user.department_id:
        return f"department:{user.department.code}"
    grants = list(user.area_grants.all()) if hasattr(user, "area_grants") else []
    if role == "neighbourhood_staff":
        for g in grants:
            if g.region_type == "neighbourhood":
                station = JointStation.objects.filter(neighbourhood__code=g.region_code).first()
                if station:
                    return ref(station)
    if role == "duty_officer":
        for g in grants:
            if g.region_type == "subdistrict":
                centre = OperationsCentre.objects.filter(subdistrict__code=g.region_code).first()
                if centre:
                    return ref(centre)
            if g.region_type == "district":
                centre = OperationsCentre.objects.filter(
                    district__code=g.region_code, subdistrict=None).first()
                if centre:
                    return ref(centre)
    return None


def default_unit(*, tier: str, neighbourhood: Neighbourhood | None,
                 subdistrict: Subdistrict | None, department_kind: str = "") -> str | None:
    """Who handles a case of this tier here by default (before any routing rule)."""
    if tier == "neighbourhood" and neighbourhood is not None:
        station = JointStation.objects.filter(neighbourhood=neighbourhood).first()
        if station:
            return ref(station)
    if tier == "cross_department" and subdistrict is not None and department_kind:
        dept = Department.objects.filter(subdistrict=subdistrict, kind=department_kind).first()
        if dept:
            return ref(dept)
    if subdistrict is not None:
        centre = OperationsCentre.objects.filter(subdistrict=subdistrict).first()
        if centre:
            return ref(centre)
    return None
