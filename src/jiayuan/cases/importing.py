"""Import 12345 hotline work orders (工单) from .xlsx or .csv.

Every row is validated first; if any row is bad the whole file is refused (``ImportRejected``
listing every problem with its spreadsheet row, column and a Chinese message) and nothing is
written. Good files are written in one transaction through ``open_case`` (channel
``hotline_12345``, ``external_id`` = 工单编号), so importing the same file again creates
nothing: rows already imported are counted as ``existing``. 来电时间 is read as Asia/Shanghai
time. New cases are routed (``route_new_case``); 诉求类型 and 承办单位 are kept in the report
event's payload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from jiayuan.cases.models import Case, Category
from jiayuan.cases.routing.io import Table, read_table
from jiayuan.cases.services.intake import MAX_DESCRIPTION, open_case
from jiayuan.cases.services.routing import route_new_case
from jiayuan.core.errors import IdempotencyConflict, ImportRejected
from jiayuan.core.uploads import Limits, cli_limits
from jiayuan.registry.geo import CoordinateError, to_wgs84

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHANNEL = "hotline_12345"

# field → (Chinese label used in messages, accepted column names)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "external_id": ("工单编号", ("工单编号", "工单号", "编号", "external_id", "ticket_id")),
    "reported_at": ("来电时间", ("来电时间", "受理时间", "反映时间", "reported_at", "call_time")),
    "request_type": ("诉求类型", ("诉求类型", "诉求性质", "request_type")),
    "category": ("问题分类", ("问题分类", "问题类别", "类别", "category")),
    "description": ("诉求内容", ("诉求内容", "反映内容", "来电内容", "description", "content")),
    "address": ("地址", ("地址", "事发地址", "发生地址", "address")),
    "lng": ("经度", ("经度", "lng", "longitude")),
    "lat": ("纬度", ("纬度", "lat", "latitude")),
    "contact_name": ("联系人", ("联系人", "来电人", "contact_name", "name")),
    "contact_phone": ("联系电话", ("联系电话", "来电号码", "contact_phone", "phone")),
    "handling_unit": ("承办单位", ("承办单位", "主办单位", "handling_unit")),
}
REQUIRED = ("external_id", "reported_at", "description")
# Presets: which column names a given source uses. ``hotline_12345`` accepts every alias above;
# ``english`` only the English names (exports of other systems).
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "hotline_12345": {f: names for f, (_, names) in FIELDS.items()},
    "english": {f: tuple(n for n in names if n.isascii()) for f, (_, names) in FIELDS.items()},
}
REQUEST_TYPES = {"咨询": "consultation", "求助": "help", "投诉": "complaint", "建议": "suggestion",
                 "举报": "report", "表扬": "praise", "其他": "other"}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y年%m月%d日 %H:%M:%S",
                "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分", "%Y%m%d%H%M%S")
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


@dataclass(frozen=True)
class WorkOrder:
    """One validated row."""

    row: int
    external_id: str
    reported_at: dt.datetime
    description: str
    request_type: str = ""
    category: str | None = None
    address: str = ""
    lng: float | None = None
    lat: float | None = None
    contact_name: str = ""
    contact_phone: str = ""
    handling_unit: str = ""


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    existing: int = 0
    numbers: list[str] = field(default_factory=list)
    triage: int = 0


def parse_time(text: str) -> dt.datetime | None:
    """来电时间 as an aware Asia/Shanghai datetime, or None if unreadable. A value that carries
    its own offset (ISO 8601) keeps it."""
    s = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(s)
        if parsed.tzinfo is not None:
            return parsed
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    return None


def _columns(table: Table, mapping: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """field → the header column that carries it (first alias found)."""
    out: dict[str, str] = {}
    headers = {h.strip(): h for h in table.header}
    for f, names in mapping.items():
        for name in names:
            if name in headers:
                out[f] = headers[name]
                break
    return out


def _categories() -> tuple[dict[str, str], dict[str, list[str]]]:
    codes: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    for code, name in Category.objects.filter(active=True).values_list("code", "name"):
        codes[code] = code
        names.setdefault(name, []).append(code)
    return codes, names


def validate(table: Table, *, mapping: str | Mapping[str, tuple[str, ...]] = "hotline_12345",
             crs: str = "wgs84", now: dt.datetime | None = None) -> list[WorkOrder]:
    """Every row as a ``WorkOrder``; refuses the whole table (``ImportRejected``) listing every
    problem: missing required columns, empty or over-long values, unreadable or future times,
    unknown categories or request types, half or impossible coordinates, malformed phones,
    工单编号 repeated within the file."""
    if isinstance(mapping, str):
        if mapping not in PRESETS:
            raise ImportRejected([{"row": None, "column": None,
                                   "message": f"未知的列映射“{mapping}”（可用：{'、'.join(PRESETS)}）"}])
        mapping = PRESETS[mapping]
    cols = _columns(table, mapping)
    missing = [FIELDS[f][0] for f in REQUIRED if f not in cols]
    if missing:
        raise ImportRejected([{"row": 1, "column": m, "message": f"缺少必需的列“{m}”"}
                              for m in missing])
    if not table.rows:
        raise ImportRejected([{"row": None, "column": None, "message": "文件中没有工单"}])
    now = now or timezone.now()
    codes, names = _categories()
    problems: list[dict[str, Any]] = []
    orders: list[WorkOrder] = []
    seen: dict[str, int] = {}
    for n, raw in table.rows:
        def get(f: str, raw: dict[str, str] = raw) -> str:
            return (raw.get(cols[f], "") or "").strip() if f in cols else ""

        def bad(f: str, message: str, n: int = n) -> None:
            problems.append({"row": n, "column": FIELDS[f][0], "message": message})

        before = len(problems)
        ext = get("external_id")
        if not ext:
            bad("external_id", "工单编号不能为空")
        elif len(ext) > 64:
            bad("external_id", "工单编号不能超过 64 个字符")
        elif ext in seen:
            bad("external_id", f"工单编号“{ext}”与第 {seen[ext]} 行重复")
        else:
            seen[ext] = n
        when_text = get("reported_at")
        when = parse_time(when_text) if when_text else None
        if not when_text:
            bad("reported_at", "来电时间不能为空")
        elif when is None:
            bad("reported_at", f"来电时间“{when_text}”无法识别（应如 2026-11-16 10:05）")
        elif when > now + dt.timedelta(minutes=5):
            bad("reported_at", f"来电时间“{when_text}”晚于当前时间")
        text = get("description")
        if not text:
            bad("description", "诉求内容不能为空")
        elif len(text) > MAX_DESCRIPTION:
            bad("description", f"诉求内容不能超过 {MAX_DESCRIPTION} 字")
        rtype = get("request_type")
        if rtype and rtype not in REQUEST_TYPES and rtype not in REQUEST_TYPES.values():
            bad("request_type", f"诉求类型“{rtype}”无效（可用：{'、'.join(REQUEST_TYPES)}）")
        cat_text = get("category")
        category: str | None = None
        if cat_text:
            if cat_text in codes:
                category = cat_text
            elif len(names.get(cat_text, [])) == 1:
                category = names[cat_text][0]
            elif cat_text in names:
                bad("category", f"问题分类“{cat_text}”对应多个类别，请填写类别代码")
            else:
                bad("category", f"未知的问题分类“{cat_text}”")
        address = get("address")
        if len(address) > 200:
            bad("address", "地址不能超过 200 个字符")
        lng_text, lat_text = get("lng"), get("lat")
        lng = lat = None
        if bool(lng_text) != bool(lat_text):
            bad("lng" if not lng_text else "lat", "经度和纬度须同时填写或同时留空")
        elif lng_text:
            try:
                lng, lat = to_wgs84(lng_text, lat_text, crs)
            except CoordinateError as exc:
                bad("lng", f"坐标无效：{exc}")
        phone = get("contact_phone")
        if phone and not _PHONE.match(phone):
            bad("contact_phone", f"联系电话“{phone}”格式不对")
        name = get("contact_name")
        if len(name) > 50:
            bad("contact_name", "联系人不能超过 50 个字符")
        unit = get("handling_unit")
        if len(unit) > 60:
            bad("handling_unit", "承办单位不能超过 60 个字符")
        if len(problems) == before and when is not None:
            orders.append(WorkOrder(
                row=n, external_id=ext, reported_at=when, description=text,
                request_type=REQUEST_TYPES.get(rtype, rtype), category=category,
                address=address, lng=lng, lat=lat, contact_name=name, contact_phone=phone,
                handling_unit=unit))
    if problems:
        raise ImportRejected(problems)
    return orders


def import_work_orders(path: str | Path, *, mapping: str | Mapping[str, tuple[str, ...]] =
                       "hotline_12345", crs: str = "wgs84", user: Any = None,
                       dry_run: bool = False, sheet: str | None = None,
                       limits: Limits | None = None) -> ImportResult:
    """Import a 12345 work-order file; returns what was created and what already existed.

    Refuses the whole file (``ImportRejected``) if any row is bad, writing nothing. With
    ``dry_run`` the file is only validated. The file is read within ``limits`` (default: the
    import commands', ``core.uploads.cli_limits``): over them ``FileTooLarge`` or
    ``TooManyRows``.
    """
    table = read_table(path, sheet=sheet, limits=limits or cli_limits())
    orders = validate(table, mapping=mapping, crs=crs)
    result = ImportResult(rows=len(orders))
    if dry_run:
        return result
    source = Path(path).name
    with transaction.atomic():
        for o in orders:
            try:
                case, created = open_case(
                    channel=CHANNEL, description=o.description, category_code=o.category,
                    lng=o.lng, lat=o.lat, crs="wgs84", address=o.address,
                    reporter_name=o.contact_name, reporter_phone=o.contact_phone,
                    external_id=o.external_id, reported_at=o.reported_at, actor=user,
                    report_payload={"import": source, "row": o.row,
                                    "request_type": o.request_type,
                                    "handling_unit": o.handling_unit})
            except IdempotencyConflict:
                # The work order came in through the API already (another caller's case,
                # refused before anything was written): it exists, and its number is not ours
                # to show.
                result.existing += 1
                continue
            if not created:
                result.existing += 1
                continue
            outcome = route_new_case(case)
            result.triage += outcome.source == "triage"
            result.created += 1
            result.numbers.append(case.number)
    return result


def imported_case(external_id: str) -> Case | None:
    """The case a 12345 work order became, if imported."""
    return Case.objects.filter(channel=CHANNEL, external_id=external_id).first()
