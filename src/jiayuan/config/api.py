"""The JSON API root (Django Ninja, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Domain errors are mapped to responses here and only here:
``{"error": {"code": "...", "message": "...", "details": ...}}`` with the error's status.
Authentication: the browser session (with CSRF) or a personal token (``Authorization: Bearer``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from jiayuan.core.errors import DomainError


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; CSRF is checked on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)


class InvalidToken(AuthenticationError):
    """A Bearer token that is unknown, revoked, or belongs to an inactive user."""


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``. A request that presents a token is judged by that
    token alone: an unknown or revoked token, or one whose user is inactive, is refused
    (401) and never falls back to the browser session. A request without the header goes
    on to the session."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from jiayuan.accounts.models import ApiToken

        try:
            row = ApiToken.objects.select_related("user").get(
                key_hash=ApiToken.hash_key(token), revoked_at=None
            )
        except ApiToken.DoesNotExist:
            raise InvalidToken() from None
        if not row.user.is_active:
            raise InvalidToken()
        now = timezone.now()
        # "Last used" to the minute: a token posting many requests a second is written at
        # most once a minute, not once a request.
        if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        request.api_token = row  # type: ignore[attr-defined]  # see permissions.by_api_token
        return row.user


api = NinjaAPI(
    title="Jiayuan 家园 API",
    version="1",
    description="Typed JSON API of the Jiayuan platform. Coordinates are WGS-84 unless a "
    "`crs` parameter says gcj02 or bd09. Every answer is limited to the caller's area.",
    auth=[TokenAuth(), SessionAuth(csrf=True)],
    urls_namespace="api",
)


def error_response(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.as_dict())


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        request, 422, {"code": "invalid", "message": "请求参数有误", "details": exc.errors}
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if isinstance(exc, InvalidToken):
        return error_response(request, 401, {"code": "invalid_token",
                                             "message": "API 令牌无效或已撤销"})
    return error_response(request, 401, {"code": "unauthenticated", "message": "请先登录"})


def _register_routers() -> None:
    from jiayuan.accounts.api import router as accounts_router
    from jiayuan.care.api import router as care_router
    from jiayuan.cases.api import router as cases_router
    from jiayuan.council.api import router as council_router
    from jiayuan.index.api import router as index_router
    from jiayuan.registry.api import router as registry_router
    from jiayuan.registry.api_import import router as registry_import_router
    from jiayuan.sensors.api import router as sensors_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/registry", registry_router)
    api.add_router("/registry", registry_import_router)
    api.add_router("/cases", cases_router)
    api.add_router("/index", index_router)
    api.add_router("/care", care_router)
    api.add_router("/council", council_router)
    api.add_router("/sensors", sensors_router)


_register_routers()
