"""Registry pages: the tree, the map, compound pages, home codes. Thin: parse, select, render.

Every page asks ``accounts.permissions`` *what* the role may do and passes the viewer's
``AreaScope`` to a selector for *where*; refusals become the shell's 403/404 pages through
``web.errors.page_errors``. The home-code landing page alone needs no log-in.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from jiayuan.accounts.permissions import can, require
from jiayuan.accounts.scope import scope_for
from jiayuan.registry import selectors
from jiayuan.registry.models import CompoundType, Entrance
from jiayuan.web.errors import page_errors

MAP_CACHE_SECONDS = 600

COUNT_LABELS: dict[str, Any] = {
    "subdistricts": _("subdistricts"),
    "neighbourhoods": _("neighbourhoods"),
    "compounds": _("compounds"),
    "buildings": _("buildings"),
    "entrances": _("entrances"),
    "households": _("households"),
}


def _nodes(nodes: list[selectors.TreeNode]) -> list[dict[str, Any]]:
    return [{"node": n, "counts": [(COUNT_LABELS[k], v) for k, v in n.counts.items()]}
            for n in nodes]


@require_GET
@login_required
@page_errors
def tree(request: HttpRequest) -> HttpResponse:
    require(request.user, "registry.view")
    roots = selectors.tree_roots(scope_for(request.user))
    return render(request, "registry/tree.html", {
        "nodes": _nodes(roots), "can_print": can(request.user, "registry.print_home_codes"),
    })


@require_GET
@login_required
@page_errors
def tree_node(request: HttpRequest, level: str, code: str) -> HttpResponse:
    """The children of one node, as an HTML fragment that htmx puts under it."""
    require(request.user, "registry.view")
    children = selectors.tree_children(scope_for(request.user), level, code)
    return render(request, "registry/_tree_nodes.html", {
        "nodes": _nodes(children), "can_print": can(request.user, "registry.print_home_codes"),
    })


@require_GET
@login_required
@page_errors
def map_page(request: HttpRequest) -> HttpResponse:
    require(request.user, "registry.view")
    return render(request, "registry/map.html", {
        "compound_types": CompoundType.choices,
        "type_labels": {value: str(label) for value, label in CompoundType.choices},
        # The page URL of a compound, with a placeholder the map script fills with its code.
        "compound_url": reverse("registry:compound", args=["__code__"]),
    })


@require_GET
@login_required
@page_errors
def compounds_geojson(request: HttpRequest) -> HttpResponse:
    """The compounds in the viewer's area as GeoJSON (WGS-84).

    The body is cached per area scope until a compound changes (or ten minutes pass): at
    Pudong scale the whole district is 2,600 polygons, too many to re-encode per request.
    """
    require(request.user, "registry.view")
    scope = scope_for(request.user)
    key = "registry:map:compounds:" + hashlib.sha256(repr(
        (scope.everywhere, scope.paths, selectors.compounds_version())).encode()).hexdigest()
    body = cache.get(key)
    if body is None:
        body = json.dumps(selectors.compound_features(scope), ensure_ascii=False,
                          separators=(",", ":"))
        cache.set(key, body, MAP_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


@require_GET
@login_required
@page_errors
def neighbourhoods_geojson(request: HttpRequest) -> JsonResponse:
    require(request.user, "registry.view")
    return JsonResponse(selectors.neighbourhood_features(scope_for(request.user)))


@require_GET
@login_required
@page_errors
def compound_page(request: HttpRequest, code: str) -> HttpResponse:
    require(request.user, "registry.view")
    scope = scope_for(request.user)
    compound = selectors.get_compound(scope, code)
    buildings = list(selectors.buildings_of(scope, compound))
    entrances = list(selectors.entrances_of(scope, compound))
    by_building: dict[int, list[Entrance]] = {}
    for e in entrances:
        by_building.setdefault(e.building_id, []).append(e)
    chart = selectors.households_by_building(scope, compound)
    return render(request, "registry/compound.html", {
        "compound": compound,
        "rows": [(b, by_building.get(b.id, [])) for b in buildings],
        "entrance_count": len(entrances),
        "can_print": can(request.user, "registry.print_home_codes"),
        "shape": {"boundary": compound.boundary, "compound_type": compound.compound_type},
        "chart": {"title": str(_("Households by building")),
                  "labels": [name for name, _n in chart],
                  "values": [n for _name, n in chart],
                  "series": str(_("households"))},
    })


def _landing_url(request: HttpRequest, entrance: Entrance) -> str:
    return request.build_absolute_uri(
        reverse("registry:home_code_landing", args=[entrance.home_code]))


@require_GET
@login_required
@page_errors
def entrance_home_code_svg(request: HttpRequest, code: str) -> HttpResponse:
    """The entrance's printable home code (家园码): a QR code of its landing page, as SVG."""
    require(request.user, "registry.print_home_codes")
    entrance = selectors.get_entrance(scope_for(request.user), code)
    buf = io.BytesIO()
    segno.make(_landing_url(request, entrance), error="m").save(
        buf, kind="svg", scale=6, border=2, title=f"家园码 {entrance.name}")
    response = HttpResponse(buf.getvalue(), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="home-code-{entrance.code}.svg"'
    return response


@require_GET
@login_required
@page_errors
def compound_home_codes(request: HttpRequest, code: str) -> HttpResponse:
    """A printable sheet of the home codes of every entrance of a compound."""
    require(request.user, "registry.print_home_codes")
    scope = scope_for(request.user)
    compound = selectors.get_compound(scope, code)
    codes = [
        (e, mark_safe(  # noqa: S308 - segno's own SVG markup, no user input inside
            segno.make(_landing_url(request, e), error="m").svg_inline(scale=4, border=2)))
        for e in selectors.entrances_of(scope, compound)
    ]
    return render(request, "registry/home_codes.html", {"compound": compound, "codes": codes})


@require_GET
@page_errors
def home_code_landing(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's page behind an entrance's QR code. No log-in: shows name and address."""
    entrance = selectors.entrance_by_home_code(token)
    compound = entrance.building.compound
    return render(request, "registry/home_code_landing.html", {
        "entrance": entrance, "building": entrance.building, "compound": compound,
        "neighbourhood": compound.neighbourhood,
    })
