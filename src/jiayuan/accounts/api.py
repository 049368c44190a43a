"""Who am I, and what may I see."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from jiayuan.accounts.scope import scope_for

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    everywhere: bool
    area_paths: list[str]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    user = request.user
    scope = scope_for(user)
    return {
        "username": user.username, "display_name": user.display_name, "role": user.role,
        "everywhere": scope.everywhere, "area_paths": list(scope.paths),
    }
