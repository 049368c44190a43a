"""Writes for the Open311 interface: a POSTed service request becomes a case.

Everything is checked before anything is written, so a refused request creates nothing. The
case itself is opened by ``cases.services.open_case`` (channel ``open311``); the details the
case model has no field for (attribute values, media URL, the reporter's e-mail, the key that
sent it) go into the payload of the case's first event, which is written once, complete
(``open_case(report_payload=...)``), in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from jiayuan.cases.models import Case
from jiayuan.cases.services import open_case
from jiayuan.core.errors import DomainError
from jiayuan.open311.attributes import validate_attributes
from jiayuan.open311.errors import Open311Error, from_domain
from jiayuan.open311.params import ParamError, parse_point
from jiayuan.open311.selectors import active_category, attribute_table, service_notice
from jiayuan.registry.models import Entrance, Subdistrict

MAX_DESCRIPTION = 2000  # open_case's limit; the spec allows 4,000
MAX_IDEMPOTENCY_KEY = 200


@dataclass
class Submission:
    """The POST form, as strings (empty when absent)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _idempotency_key(key_id: str, header: str | None) -> str | None:
    if header is None or not header.strip():
        return None
    header = header.strip()
    if len(header) > MAX_IDEMPOTENCY_KEY:
        raise Open311Error(400, f"Idempotency-Key：不能超过 {MAX_IDEMPOTENCY_KEY} 个字符")
    # Scoped to the API key, so two clients choosing the same key never meet.
    return "open311:" + hashlib.sha256(f"{key_id}\n{header}".encode()).hexdigest()


def _check(sub: Submission) -> tuple[Any, dict[str, Any], dict[str, Any], list[str]]:
    """Validate everything; returns (category, open_case kwargs, payload, problems)."""
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    code = sub.service_code.strip()
    if not code:
        raise Open311Error(400, "service_code：必填")
    category = active_category(code)  # 404 when unknown

    point = None
    try:
        point = parse_point(sub.lat, sub.long)
    except ParamError as exc:
        problems.append(str(exc))
    address_id = sub.address_id.strip()
    address = sub.address_string.strip()
    if address_id:
        entrance = Entrance.objects.filter(code=address_id).first()
        if entrance is None:
            problems.append(f"address_id：没有编码为“{address_id}”的门牌")
        kwargs["entrance"] = entrance
    if point is not None:
        from jiayuan.registry.geo import CoordinateError
        from jiayuan.registry.selectors import locate

        try:
            _, loc = locate(point[1], point[0], "wgs84")
        except CoordinateError as exc:
            problems.append(f"lat/long：{exc}")
        else:
            if loc.subdistrict is None and Subdistrict.objects.exists():
                problems.append("lat/long：该位置不在本辖区范围内")
        kwargs.update(lat=point[0], lng=point[1], crs="wgs84")
    if point is None and not address and not address_id and not problems:
        problems.append("位置：须提供 lat 与 long、address_string 或 address_id 之一")
    if len(address) > 200:
        problems.append("address_string：不能超过 200 字")
    kwargs["address"] = address

    description = sub.description.strip() or category.name
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"description：不能超过 {MAX_DESCRIPTION} 字")
    kwargs["description"] = description

    clean, attr_problems = validate_attributes(
        attribute_table().get(category.code, ()), sub.attributes,
        tz=timezone.get_default_timezone())
    problems.extend(attr_problems)
    if clean:
        payload["attributes"] = clean

    email = sub.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append("email：格式不正确")
        payload["reporter_email"] = email
    if sub.media_url.strip():
        try:
            URLValidator(schemes=["http", "https"])(sub.media_url.strip())
        except ValidationError:
            problems.append("media_url：须为 http 或 https 网址")
        payload["media_url"] = sub.media_url.strip()
    phone = sub.phone.strip()
    if phone and (len(phone) > 30 or not all(ch.isdigit() or ch in "+-() " for ch in phone)):
        problems.append("phone：须为不超过 30 位的电话号码")
    # Chinese order: family name first.
    name = f"{sub.last_name.strip()}{sub.first_name.strip()}"
    if len(name) > 50:
        problems.append("first_name/last_name：合计不能超过 50 字")
    kwargs.update(reporter_name=name, reporter_phone=phone)
    return category, kwargs, payload, problems


def submit_request(sub: Submission, *, key_id: str,
                   idempotency_header: str | None = None) -> tuple[Case, bool]:
    """Open a case from a POSTed service request; returns ``(case, created)``.

    Refuses (``Open311Error``) a missing service code (400), an unknown one (404), a missing
    or unreadable location, bad attribute values, e-mail, phone or media URL (400, every
    problem listed), and an ``Idempotency-Key`` reused for a different service (400). A
    retry with the same key returns the first case and creates nothing.
    """
    idem = _idempotency_key(key_id, idempotency_header)
    category, kwargs, payload, problems = _check(sub)
    if problems:
        raise Open311Error(400, problems)
    payload["api_key_id"] = key_id
    try:
        with transaction.atomic():
            # The request's details go into the report event as it is written (once, whole).
            case, created = open_case(channel="open311", category_code=category.code,
                                      idempotency_key=idem, report_payload={"open311": payload},
                                      **kwargs)
    except DomainError as exc:
        raise from_domain(exc) from None
    if not created and (case.channel != "open311" or case.category_id != category.pk):
        raise Open311Error(400, "Idempotency-Key：该键已用于另一个请求")
    return case, created


def receipt(case: Case) -> dict[str, Any]:
    """The POST response item: the case number as service_request_id, no token."""
    return {"service_request_id": case.number, "service_notice": service_notice(case),
            "account_id": None}
