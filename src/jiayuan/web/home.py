"""The home page's tiles: a registry that apps add to, so the web shell never imports them.

An app registers its tiles once, in its ``AppConfig.ready()``::

    from jiayuan.web.home import register_tile
    register_tile('cases.inbox', title=_('Case inbox'), url_name='cases:inbox',
                  capability='cases.view', order=20)

The home page shows the tiles whose capability the user holds (``accounts.permissions.can``)
and whose roles (when given) include the user's role, in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from jiayuan.accounts.permissions import can


@dataclass(frozen=True)
class HomeTile:
    key: str
    title: Any  # a (lazy) translated string
    url_name: str
    description: Any = ""
    capability: str | None = None
    roles: frozenset[str] | None = None
    order: int = 100
    visible: Callable[[Any], bool] | None = None

    def shown_to(self, user: Any) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        if self.roles is not None and user.role not in self.roles and not user.is_superuser:
            return False
        if self.capability is not None and not can(user, self.capability):
            return False
        return self.visible is None or bool(self.visible(user))

    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


_tiles: dict[str, HomeTile] = {}


def register_tile(
    key: str, *, title: Any, url_name: str, description: Any = "",
    capability: str | None = None, roles: Iterable[str] | None = None, order: int = 100,
    visible: Callable[[Any], bool] | None = None,
) -> HomeTile:
    """Add (or replace, by ``key``) a home tile. Refuses an empty key or URL name."""
    if not key or not url_name:
        raise ValueError("a home tile needs a key and a URL name")
    tile = HomeTile(key=key, title=title, url_name=url_name, description=description,
                    capability=capability, roles=frozenset(roles) if roles is not None else None,
                    order=order, visible=visible)
    _tiles[key] = tile
    return tile


def unregister_tile(key: str) -> None:
    _tiles.pop(key, None)


def tiles_for(user: Any) -> list[tuple[HomeTile, str]]:
    """The tiles a user sees, with their resolved URLs, in order (unresolvable ones left out)."""
    shown = []
    for tile in sorted(_tiles.values(), key=lambda t: (t.order, t.key)):
        if tile.shown_to(user):
            url = tile.url()
            if url is not None:
                shown.append((tile, url))
    return shown


def register_builtin_tiles() -> None:
    """The shell's own tiles: the registry tree and map for staff, the admin for administrators.
    (Registered here because the registry predates the tile registry; it may move them into
    its own ``ready()``.)"""
    from django.utils.translation import gettext_lazy as _

    register_tile("registry.tree", title=_("Registry tree"), url_name="registry:tree",
                  description=_("District, subdistricts, neighbourhoods, compounds, buildings"),
                  capability="registry.view", order=10)
    register_tile("registry.map", title=_("Map of compounds"), url_name="registry:map",
                  description=_("Compounds coloured by type, with neighbourhood outlines"),
                  capability="registry.view", order=11)
    register_tile("admin", title=_("Administration"), url_name="admin:index",
                  description=_("Users, area grants and the registry tables"),
                  visible=lambda u: bool(u.is_superuser or u.role == "admin"), order=900)
