"""The one place where refusals become GeoReport v2 errors (status + error array)."""

from __future__ import annotations

from jiayuan.core.errors import DomainError, Forbidden, NotFound, OutOfScope


class Open311Error(Exception):
    """A refusal in the spec's terms: an HTTP status and one description per problem."""

    def __init__(self, status: int, descriptions: list[str] | str) -> None:
        self.status = status
        self.descriptions = [descriptions] if isinstance(descriptions, str) else descriptions
        super().__init__("；".join(self.descriptions))


def from_domain(exc: DomainError) -> Open311Error:
    """Map a service's domain error: not found → 404, forbidden → 403, anything else → 400.

    The spec has no 409/422: a validation failure or a conflict is a 400 there.
    """
    if isinstance(exc, NotFound):
        return Open311Error(404, exc.message)
    if isinstance(exc, Forbidden | OutOfScope):
        return Open311Error(403, exc.message)
    details = exc.details if isinstance(exc.details, dict) else None
    if details:
        fields = "、".join(str(k) for k in details)
        return Open311Error(400, f"{exc.message}（{fields}）")
    return Open311Error(400, exc.message)
