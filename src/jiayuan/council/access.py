"""Who may do what in a council. Area scope says where (the council's neighbourhood path);
the role or the membership says what."""

from __future__ import annotations

from typing import Any

from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import Forbidden, OutOfScope

#: May set up councils, meetings, consultations, projects and grants.
MANAGE_ROLES = frozenset({"neighbourhood_staff", "admin"})
#: May take part (comment, claim, check in) within their area.
TAKE_PART_ROLES = frozenset({"neighbourhood_staff", "liaison", "department_staff", "deputy",
                             "duty_officer", "property_company", "admin", "district_analyst"})


def is_member(user: Any, council: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return council.members.filter(user=user, active=True).exists()


def can_see(user: Any, council: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return scope_for(user).covers(council.path) or is_member(user, council)


def require_see(user: Any, council: Any) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录")
    if not can_see(user, council):
        raise OutOfScope()


def can_manage(user: Any, council: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == "admin":
        return True
    return user.role in MANAGE_ROLES and scope_for(user).covers(council.path)


def require_manage(user: Any, council: Any) -> None:
    require_see(user, council)
    if not can_manage(user, council):
        raise Forbidden("只有本居民区工作人员可以执行此操作")


def can_take_part(user: Any, council: Any) -> bool:
    """May comment, claim, check in, raise topics and record needs in ``council``."""
    return can_see(user, council) and (user.role in TAKE_PART_ROLES or user.is_superuser
                                       or is_member(user, council))


def require_take_part(user: Any, council: Any) -> None:
    require_see(user, council)
    if not can_take_part(user, council):
        raise Forbidden("只有理事会成员和工作人员可以参与讨论")


#: Council members who speak for a unit or a department and may put its offers on the menu.
OFFER_MEMBER_ROLES = frozenset({"department_liaison", "local_unit"})


def can_offer(user: Any, council: Any) -> bool:
    """May add an item to the council's resource menu: managers, liaisons in the area, and
    members speaking for a department or a local unit."""
    if can_manage(user, council):
        return True
    if not can_see(user, council):
        return False
    if user.role == "liaison" and scope_for(user).covers(council.path):
        return True
    return council.members.filter(user=user, active=True, role__in=OFFER_MEMBER_ROLES).exists()


def require_offer(user: Any, council: Any) -> None:
    require_see(user, council)
    if not can_offer(user, council):
        raise Forbidden("只有本居民区工作人员和联络员可以登记资源")
