"""Who may do what with the care register. Area scope says *where*; this says *what*.

Viewing the register (masked lists, the person page, tasks): neighbourhood staff, the
operations centre's duty officers and administrators. Changing it (registering people,
logging visits, taking and finishing care tasks): neighbourhood staff and administrators.
"""

from __future__ import annotations

from typing import Any

from jiayuan.core.errors import Forbidden

VIEW_ROLES = frozenset({"neighbourhood_staff", "duty_officer", "admin"})
EDIT_ROLES = frozenset({"neighbourhood_staff", "admin"})


def _has(user: Any, roles: frozenset[str]) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.role in roles)


def can_view(user: Any) -> bool:
    return _has(user, VIEW_ROLES)


def can_edit(user: Any) -> bool:
    return _has(user, EDIT_ROLES)


def require_view(user: Any) -> None:
    if not can_view(user):
        raise Forbidden("您的角色无权查看独居老人名册")


def require_edit(user: Any) -> None:
    if not can_edit(user):
        raise Forbidden("您的角色无权修改独居老人名册")
