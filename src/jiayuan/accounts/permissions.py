"""What each role may do. Area scope says *where*; this says *what*."""

from __future__ import annotations

from typing import Any

from jiayuan.core.errors import Forbidden

# The roles that work cases: they read and act on the cases of their area, and open cases
# through the staff API (in person or with their API token). Residents, landlords, property
# companies and deputies report through their own pages, never through the staff API.
CASE_STAFF_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "department_staff",
                              "liaison", "district_analyst"})

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
    # The staff case API: lists, details, actions, duplicates.
    "cases.work": CASE_STAFF_ROLES,
    # Opening cases through the staff API (POST /cases, /cases/batch) and the video-analytics
    # webhook (which also needs an API token, see ``by_api_token``).
    "cases.intake": CASE_STAFF_ROLES,
}


def can(user: Any, action: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == "admin":
        return True
    return user.role in CAPABILITIES.get(action, frozenset())


def require(user: Any, action: str, message: str | None = None) -> None:
    """Refuse (``Forbidden``, 403) unless ``user``'s role may do ``action``."""
    if not can(user, action):
        raise Forbidden(message)


def by_api_token(request: Any) -> bool:
    """Whether the API request was authenticated by a valid API token (set by the API's
    ``TokenAuth``; a mere ``Authorization`` header is not enough: an invalid token never
    gets this far, it is refused with 401)."""
    return getattr(request, "api_token", None) is not None
