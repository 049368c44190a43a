"""GeoReport v2 views: parse, call a selector or service, render JSON or XML.

Every refusal is answered in the spec's error format (``[{"code": 400, "description": …}]``
or ``<errors><error>…``) with the same HTTP status as the code, in Chinese: a body larger than
``JIAYUAN_OPEN311_MAX_BODY`` bytes (default 256 KB) is 413, too many wrong API keys from one
address 429, and an unexpected failure 500 (logged), never an HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from jiayuan.open311 import selectors
from jiayuan.open311.errors import Open311Error
from jiayuan.open311.formats import error_list, render
from jiayuan.open311.keys import check_api_key
from jiayuan.open311.params import (
    ParamError,
    attribute_fields,
    comma_list,
    parse_w3c,
    search_window,
)
from jiayuan.open311.services import Submission, receipt, submit_request
from jiayuan.open311.throttle import check_key_failures, check_rate, record_key_failure

MAX_PAGE_SIZE = 1000
MAX_IDS = 200
DEFAULT_MAX_BODY = 256 * 1024  # bytes: a request is at most 2,000 characters and attributes

log = logging.getLogger("jiayuan.open311")


def respond(fmt: str, root: str, value: Any, status: int = 200,
            headers: dict[str, str] | None = None) -> HttpResponse:
    body, content_type = render(fmt, root, value)
    response = HttpResponse(body, content_type=content_type, status=status)
    for k, v in (headers or {}).items():
        response[k] = v
    return response


def error_response(fmt: str, exc: Open311Error) -> HttpResponse:
    return respond(fmt, "errors", error_list(exc.status, exc.descriptions), status=exc.status)


View = Callable[..., HttpResponse]


def _endpoint(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Allow ``methods``; turn ``Open311Error`` into the spec's error response."""
    def wrap(view: View) -> View:
        def inner(request: HttpRequest, *args: Any, fmt: str = "xml",
                  **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(fmt, Open311Error(
                    405, f"不支持 {request.method} 方法（可用：{'、'.join(methods)}）"))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc)
            except Exception:
                # A client of this API reads GeoReport errors, not the site's HTML 500 page.
                log.exception("open311 %s %s failed", request.method, request.path)
                return error_response(fmt, Open311Error(500, "服务器内部错误，请稍后再试"))
        inner.__name__ = view.__name__
        inner.__doc__ = view.__doc__
        exempt: View = csrf_exempt(inner)
        return exempt
    return wrap


@_endpoint(("GET",))
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """The service discovery document (one GeoReport v2 endpoint, JSON and XML)."""
    contact = getattr(settings, "JIAYUAN_OPEN311_CONTACT", "") or "本区城市运行管理中心"
    body = {
        "changeset": selectors.CHANGESET,
        "contact": contact,
        "key_service": getattr(settings, "JIAYUAN_OPEN311_KEY_SERVICE", "")
        or f"申请 API 密钥请联系：{contact}",
        "endpoints": [{
            "specification": selectors.SPECIFICATION,
            "url": request.build_absolute_uri("/open311/v2"),
            "changeset": selectors.CHANGESET,
            "type": "test" if getattr(settings, "DEMO_MODE", False) else "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return respond(fmt, "discovery", body)


@_endpoint(("GET",))
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET Service List."""
    return respond(fmt, "services", selectors.services())


@_endpoint(("GET",))
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    """GET Service Definition; 404 for an unknown service."""
    return respond(fmt, "service_definition", selectors.service_definition(code))


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def max_body() -> int:
    return int(getattr(settings, "JIAYUAN_OPEN311_MAX_BODY", DEFAULT_MAX_BODY))


def _form(request: HttpRequest) -> Any:
    """The POSTed form; refuses (413) a body over :func:`max_body` bytes before reading it,
    and (400) a body Django cannot parse."""
    limit = max_body()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Open311Error(400, "Content-Length 无效") from None
    too_big = Open311Error(413, f"请求体过大：不能超过 {limit // 1024} KB")
    if length > limit:
        raise too_big
    try:
        return request.POST
    except RequestDataTooBig:
        raise too_big from None
    except (TooManyFieldsSent, MultiPartParserError, SuspiciousOperation):
        raise Open311Error(400, "请求体无法解析：须为 application/x-www-form-urlencoded 表单") \
            from None


def _post(request: HttpRequest, fmt: str) -> HttpResponse:
    form = _form(request)
    address = _client_address(request)
    check_key_failures(address)
    try:
        key = check_api_key(form.get("api_key") or request.GET.get("api_key"))
    except Open311Error:
        record_key_failure(address)
        raise
    check_rate(key, address)
    fields = {name: form.get(name, "") for name in Submission.__dataclass_fields__
              if name != "attributes"}
    sub = Submission(**fields, attributes=attribute_fields(form.lists()))
    case, created = submit_request(sub, key_id=key,
                                   idempotency_header=request.headers.get("Idempotency-Key"))
    response = respond(fmt, "service_requests", [receipt(case)])  # the spec: 200, not 201
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


def _get_list(request: HttpRequest, fmt: str) -> HttpResponse:
    q = request.GET
    tz = timezone.get_default_timezone()
    try:
        ids = comma_list(q.get("service_request_id", ""))
        if len(ids) > MAX_IDS:
            raise ParamError(f"service_request_id：一次最多 {MAX_IDS} 个")
        statuses = comma_list(q.get("status", ""))
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise ParamError(f"status：须为 open 或 closed，收到 {'、'.join(bad)}")
        start = parse_w3c(q["start_date"], name="start_date", tz=tz) \
            if q.get("start_date", "").strip() else None
        end = parse_w3c(q["end_date"], name="end_date", tz=tz) \
            if q.get("end_date", "").strip() else None
        window = search_window(start, end, now=timezone.now())
        page = int(q.get("page") or 1)
        # max_requests: the name FixMyStreet's server uses for the same limit.
        size = int(q.get("page_size") or q.get("max_requests") or MAX_PAGE_SIZE)
        if page < 1 or not (1 <= size <= MAX_PAGE_SIZE):
            raise ValueError
    except ParamError as exc:
        raise Open311Error(400, str(exc)) from None
    except ValueError:
        raise Open311Error(400, f"page 须为正整数，page_size 须在 1 到 {MAX_PAGE_SIZE} 之间") \
            from None
    rows, more = selectors.search_requests(
        numbers=ids or None, service_codes=comma_list(q.get("service_code", "")) or None,
        start=window.start, end=window.end, statuses=statuses or None,
        offset=(page - 1) * size, limit=size)
    headers = {}
    if more:
        nxt = q.copy()
        nxt["page"] = str(page + 1)
        nxt["page_size"] = str(size)
        headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{nxt.urlencode()}>; ' \
                          'rel="next"'
    return respond(fmt, "service_requests", rows, headers=headers)


@_endpoint(("GET", "POST"))
def requests_(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET Service Requests (filters, 90-day window, pages) or POST Service Request."""
    if request.method == "POST":
        return _post(request, fmt)
    return _get_list(request, fmt)


@_endpoint(("GET",))
def request_detail(request: HttpRequest, number: str, *, fmt: str) -> HttpResponse:
    """GET Service Request: a one-item list, as the spec shows; 404 if unknown."""
    return respond(fmt, "service_requests", [selectors.public_request(number)])


@_endpoint(("GET",))
def token(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    """GET service_request_id from a token (the case's tracking token)."""
    return respond(fmt, "service_requests", [selectors.request_by_token(token)])


@_endpoint(("GET", "POST", "PUT", "PATCH", "DELETE"))
def unknown(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """Anything else under v2/: a 404 in the spec's format."""
    raise Open311Error(404, "没有这个接口；见 /open311/discovery.xml")
