"""Registry endpoints: thin — parse, call a selector or service, shape the answer."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from jiayuan.accounts.permissions import require
from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import InvalidCoordinates, ValidationFailed
from jiayuan.core.pagination import page
from jiayuan.registry import selectors, services
from jiayuan.registry.geo import CoordinateError
from jiayuan.registry.models import Compound, CompoundType, Entrance
from jiayuan.registry.schemas import (
    CompoundDetailOut,
    CompoundOut,
    CompoundPage,
    CompoundPatch,
    LocationOut,
)

router = Router(tags=["registry"])


def compound_out(c: Compound) -> dict[str, object]:
    n = c.neighbourhood
    return {
        "code": c.code, "name": c.name, "compound_type": c.compound_type, "tags": c.tags,
        "households": c.households, "population": c.population, "year_built": c.year_built,
        "floor_area_m2": c.floor_area_m2, "address": c.address, "neighbourhood": n.code,
        "neighbourhood_name": n.name, "subdistrict": n.subdistrict.code, "lng": c.lng,
        "lat": c.lat,
    }


@router.get("/locate", response=LocationOut, summary="Which grid cell, compound and "
            "neighbourhood contain a point")
def locate(request: HttpRequest, lng: str, lat: str, crs: str = "wgs84") -> dict[str, object]:
    require(request.user, "registry.view")
    try:
        (x, y), loc = selectors.locate(lng, lat, crs)
    except CoordinateError as exc:
        raise InvalidCoordinates(str(exc)) from None
    scope = scope_for(request.user)
    # Report only what the caller may see; a point outside the area is not leaked.
    visible = selectors.compounds(scope).filter(code=loc.compound).exists() if loc.compound else False
    return {
        "lng": x, "lat": y, "crs": "wgs84", "grid_cell": loc.grid_cell if visible or scope.everywhere else None,
        "compound": loc.compound if visible else None,
        "neighbourhood": loc.neighbourhood if (visible or scope.everywhere) else None,
        "subdistrict": loc.subdistrict,
    }


@router.get("/compounds", response=CompoundPage)
def list_compounds(
    request: HttpRequest,
    neighbourhood: str | None = None,
    compound_type: str | None = Query(None, alias="type"),
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, object]:
    require(request.user, "registry.view")
    window = page(offset, limit, default=50, maximum=500)
    if compound_type and compound_type not in CompoundType.values:
        raise ValidationFailed(f"未知小区类型“{compound_type}”",
                               details={"allowed": list(CompoundType.values)})
    qs = selectors.compounds(scope_for(request.user)).select_related("neighbourhood__subdistrict")
    if neighbourhood:
        qs = qs.filter(neighbourhood__code=neighbourhood)
    if compound_type:
        qs = qs.filter(compound_type=compound_type)
    if q:
        qs = qs.filter(name__icontains=q)
    qs = qs.order_by("code")
    return {"count": qs.count(), "items": [compound_out(c) for c in window.of(qs)]}


@router.get("/compounds/{code}", response=CompoundDetailOut)
def get_compound(request: HttpRequest, code: str) -> dict[str, object]:
    require(request.user, "registry.view")
    c = selectors.get_compound(scope_for(request.user), code)
    return {
        **compound_out(c), "boundary": c.boundary, "buildings": c.buildings.count(),
        "entrances": Entrance.objects.filter(building__compound=c).count(),
    }


@router.patch("/compounds/{code}", response=CompoundOut)
def patch_compound(request: HttpRequest, code: str, body: CompoundPatch) -> dict[str, object]:
    scope = scope_for(request.user)
    c = selectors.get_compound(scope, code)
    changes = body.model_dump(exclude_unset=True)
    note = changes.pop("note", "")
    c = services.update_compound(actor=request.user, compound=c, changes=changes, note=note)
    return compound_out(c)
