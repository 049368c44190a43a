"""Domain errors on pages: the one place a page turns a refusal into a 403 or 404 page.

``Forbidden`` becomes Django's ``PermissionDenied`` (the 403 page shows the Chinese message);
``NotFound`` becomes ``Http404``, and so does ``OutOfScope`` (a subclass of it): an object in
another area looks exactly like one that does not exist. Other domain errors pass through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import Http404

from jiayuan.core.errors import Forbidden, NotFound

F = TypeVar("F", bound=Callable[..., Any])


def page_errors(view: F) -> F:
    """Decorate a page view so domain refusals render the shell's 403/404 pages."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except NotFound as exc:  # OutOfScope included
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapper  # type: ignore[return-value]

