"""Shell pages: home (per role) and the error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jiayuan.accounts.models import Role
from jiayuan.accounts.scope import scope_for
from jiayuan.web.home import tiles_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    scope = scope_for(user)
    areas = list(user.area_grants.order_by("path").values_list("label", "region_type"))
    return render(request, "web/home.html", {
        "role_label": Role(user.role).label if user.role in Role.values else user.role,
        "role": user.role,
        "everywhere": scope.everywhere,
        "areas": areas,
        "tiles": tiles_for(user),
    })
