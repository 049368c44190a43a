"""Every write to the registry goes through here.

Services keep the materialised ``path`` of each row consistent with its parents, check the
actor's role and area, validate, and append a ``RegistryEvent``.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr

from jiayuan.accounts.permissions import require
from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import ValidationFailed
from jiayuan.registry.models import (
    Building,
    Compound,
    Department,
    District,
    Entrance,
    GridCell,
    JointStation,
    Liaison,
    Neighbourhood,
    OperationsCentre,
    RegistryEvent,
    Subdistrict,
    Unit,
)

# Models whose rows carry a path, in parent-before-child order.
PATH_MODELS: tuple[type[models.Model], ...] = (
    District, Subdistrict, Neighbourhood, Compound, Building, Entrance, GridCell,
    Department, OperationsCentre, JointStation, Liaison, Unit,
)


def parent_path(obj: Any) -> str:
    """The path of the row an object hangs under ('' for a district)."""
    if isinstance(obj, District):
        return ""
    if isinstance(obj, Subdistrict):
        return obj.district.path
    if isinstance(obj, Neighbourhood):
        return obj.subdistrict.path
    if isinstance(obj, Compound):
        return obj.neighbourhood.path
    if isinstance(obj, Building):
        return obj.compound.path
    if isinstance(obj, Entrance):
        return obj.building.path
    if isinstance(obj, GridCell | Unit):
        return (obj.neighbourhood or obj.subdistrict).path
    if isinstance(obj, Department | OperationsCentre):
        return obj.subdistrict.path if obj.subdistrict_id else obj.district.path
    if isinstance(obj, JointStation):
        return obj.neighbourhood.path
    raise TypeError(f"no path rule for {type(obj).__name__}")


def compute_path(obj: Any) -> str:
    if isinstance(obj, Liaison):
        return obj.neighbourhood.path
    return f"{parent_path(obj)}{obj.code}/"


def rewrite_paths(old: str, new: str) -> int:
    """Move a subtree: every row whose path starts with ``old`` gets ``new`` instead."""
    if old == new:
        return 0
    changed = 0
    for model in PATH_MODELS:
        changed += model.objects.filter(path__startswith=old).update(
            path=Concat(Value(new), Substr(F("path"), Length(Value(old)) + 1))
        )
    return changed


def save_with_path(obj: Any) -> Any:
    """Validate, set the path from the parents, save; move descendants if the path changed."""
    old_path = obj.path
    obj.path = compute_path(obj)
    try:
        obj.full_clean(exclude=["path", "home_code"])
    except Exception as exc:  # django ValidationError → domain error with field messages
        details = getattr(exc, "message_dict", None) or {"__all__": [str(exc)]}
        raise ValidationFailed(f"{obj._meta.verbose_name}数据有误", details=details) from None
    obj.save()
    if old_path and old_path != obj.path:
        rewrite_paths(old_path, obj.path)
    return obj


EDITABLE_COMPOUND_FIELDS = frozenset(
    {"name", "compound_type", "tags", "households", "population", "year_built",
     "floor_area_m2", "address"}
)


@transaction.atomic
def update_compound(*, actor: Any, compound: Compound, changes: dict[str, Any],
                    note: str = "") -> Compound:
    """Edit a compound's attributes. Refuses other roles, other areas and unknown fields."""
    require(actor, "registry.edit")
    scope_for(actor).require(compound)
    unknown = set(changes) - EDITABLE_COMPOUND_FIELDS
    if unknown:
        raise ValidationFailed("不能修改这些字段", details={"fields": sorted(unknown)})
    before = {k: getattr(compound, k) for k in changes}
    for key, value in changes.items():
        setattr(compound, key, value)
    try:
        compound.full_clean(exclude=["path", "boundary"])
    except Exception as exc:
        details = getattr(exc, "message_dict", None) or {"__all__": [str(exc)]}
        raise ValidationFailed("小区数据有误", details=details) from None
    compound.save(update_fields=[*changes, "updated_at"])
    RegistryEvent.objects.create(
        actor=actor, action=RegistryEvent.Action.UPDATE, object_type="compound",
        object_code=compound.code, note=note,
        summary={"before": _jsonable(before), "after": _jsonable(changes)},
    )
    return compound


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | list | dict | None) else str(v))
            for k, v in d.items()}
