"""Area scope: which part of the district a user may see and change.

Every place and organisation row carries a materialised ``path`` of codes; a user holds one
or more area grants, each a region's path. An object is *within* scope when its path starts
with a granted path. Selectors call ``scope.filter(queryset)``; services call
``scope.require(obj)``. Administrators and district analysts see the whole district.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from jiayuan.core.errors import OutOfScope

if TYPE_CHECKING:
    from jiayuan.accounts.models import User

WHOLE_DISTRICT_ROLES = frozenset({"admin", "district_analyst"})


def _collapse(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop paths already covered by a shorter granted path; sorted, unique."""
    kept: list[str] = []
    for p in sorted(set(paths), key=lambda s: (len(s), s)):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


@dataclass(frozen=True)
class AreaScope:
    paths: tuple[str, ...] = ()
    everywhere: bool = False

    @classmethod
    def of(cls, *paths: str) -> AreaScope:
        return cls(paths=_collapse(paths))

    @classmethod
    def all(cls) -> AreaScope:
        return cls(everywhere=True)

    def q(self, field: str = "path") -> Q:
        """A Q object matching rows whose ``field`` lies within the scope."""
        if self.everywhere:
            return Q()
        if not self.paths:
            return Q(pk__in=[])
        q = Q()
        for p in self.paths:
            q |= Q(**{f"{field}__startswith": p})
        return q

    def filter(self, qs: QuerySet[Any], field: str = "path") -> QuerySet[Any]:
        if self.everywhere:
            return qs
        if not self.paths:
            return qs.none()
        return qs.filter(self.q(field))

    def q_related(self, field: str = "path") -> Q:
        """Rows within the scope *or* above it (a neighbourhood's staff see their subdistrict's
        departments and their district, for reference)."""
        if self.everywhere:
            return Q()
        q = self.q(field)
        ancestors = {a for p in self.paths for a in ancestors_of(p)}
        if ancestors:
            q |= Q(**{f"{field}__in": sorted(ancestors)})
        return q

    def covers(self, path: str) -> bool:
        if self.everywhere:
            return True
        return any(path.startswith(p) for p in self.paths)

    def sees(self, path: str) -> bool:
        """Within the scope or one of its ancestors."""
        return self.covers(path) or any(p.startswith(path) for p in self.paths)

    def require(self, obj_or_path: Any, *, missing: str | None = None) -> None:
        """Refuse (``OutOfScope``) unless the object lies within the scope.

        ``missing`` is the message the caller gives when no such object exists: an object
        outside the scope must read exactly like a missing one (same status, code, message).
        """
        path = obj_or_path if isinstance(obj_or_path, str) else obj_or_path.path
        if not self.covers(path):
            raise OutOfScope(missing)


def ancestors_of(path: str) -> list[str]:
    """``"a/b/c/"`` → ``["a/", "a/b/"]`` (proper ancestors only)."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]


def scope_for(user: User | Any) -> AreaScope:
    """The area scope of a user; anonymous users have none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AreaScope()
    if user.is_superuser or user.role in WHOLE_DISTRICT_ROLES:
        return AreaScope.all()
    cached = getattr(user, "_jiayuan_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    scope = AreaScope.of(*user.area_grants.values_list("path", flat=True))
    user._jiayuan_scope = scope
    return scope
