"""What each role may do. Area scope says *where*; this says *what*."""

from __future__ import annotations

from typing import Any

from jiayuan.core.errors import Forbidden

# action → roles allowed. Administrators may do everything.
CAPABILITIES: dict[str, frozenset[str]] = {
    "registry.view": frozenset(
        {"duty_officer", "neighbourhood_staff", "department_staff", "liaison",
         "district_analyst", "deputy", "property_company"}
    ),
    "registry.edit": frozenset({"neighbourhood_staff"}),
    "registry.import": frozenset(),
    "registry.export": frozenset({"district_analyst", "duty_officer"}),
    "registry.print_home_codes": frozenset({"neighbourhood_staff"}),
}


def can(user: Any, action: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == "admin":
        return True
    return user.role in CAPABILITIES.get(action, frozenset())


def require(user: Any, action: str) -> None:
    if not can(user, action):
        raise Forbidden()
