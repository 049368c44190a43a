"""Registering devices: one at a time, or a whole spreadsheet (all rows or none)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from jiayuan.core.errors import DomainError, ValidationFailed
from jiayuan.core.uploads import Limits, web_limits
from jiayuan.registry.models import Building, Compound, Entrance
from jiayuan.registry.selectors import the_district
from jiayuan.sensors.messages import _DEVICE_RE, _DISTRICT_RE
from jiayuan.sensors.models import CAMERA_KIND, Device
from jiayuan.sensors.rules.catalogue import load_device_kinds
from jiayuan.sensors.rules.model import MaintenanceWindow, RuleConfigError, RuleSet

FIELDS = ("code", "kind", "model", "name", "district_code", "compound", "building",
          "entrance", "lng", "lat", "address", "owner_unit", "installed_at",
          "expected_interval_s", "overrides", "maintenance_windows")

# Spreadsheet headers (Chinese, as the district's staff fill them in) → field.
HEADERS = {
    "设备编码": "code", "设备类型": "kind", "型号": "model", "名称": "name",
    "区划代码": "district_code", "小区编码": "compound", "楼栋编码": "building",
    "单元编码": "entrance", "经度": "lng", "纬度": "lat", "地址": "address",
    "维护单位": "owner_unit", "安装日期": "installed_at", "上报间隔秒": "expected_interval_s",
}


# The fields of a device its rules are derived from (a change is logged for the workers).
RULE_INPUTS = ("kind", "overrides", "expected_interval_s", "maintenance_windows")


def parse_windows(raw: Any) -> tuple[MaintenanceWindow, ...]:
    """``[{"start": iso, "end": iso}, ...]`` → windows; refuses anything else."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise ValidationFailed("维护时段应为列表", details={"maintenance_windows": ["格式有误"]})
    out = []
    for item in raw:
        try:
            start = dt.datetime.fromisoformat(item["start"])
            end = dt.datetime.fromisoformat(item["end"])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed("维护时段应含 ISO-8601 格式的 start 和 end",
                                   details={"maintenance_windows": ["格式有误"]}) from None
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValidationFailed("维护时段应带时区，且结束晚于开始",
                                   details={"maintenance_windows": ["时段有误"]})
        out.append(MaintenanceWindow(start, end))
    return tuple(out)


def rules_of(device: Device) -> RuleSet | None:
    """The rule set a device is judged by (None for a video channel: no readings): the
    catalogue's defaults, the district's settings of its kind, its own overrides
    (``services.rule_config``)."""
    from jiayuan.sensors.services.rule_config import rule_set_of

    return rule_set_of(device)


def _place(values: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve the place fields; the most specific given wins. Refuses unknown codes."""
    out: dict[str, Any] = {"compound": None, "building": None, "entrance": None}
    entrance_code = str(values.get("entrance") or "").strip()
    building_code = str(values.get("building") or "").strip()
    compound_code = str(values.get("compound") or "").strip()
    if entrance_code:
        e = Entrance.objects.select_related("building__compound").filter(
            code=entrance_code).first()
        if e is None:
            raise ValidationFailed(f"未知的单元编码“{entrance_code}”",
                                   details={"entrance": [entrance_code]})
        out.update(entrance=e, building=e.building, compound=e.building.compound, path=e.path,
                   lng=e.lng or e.building.compound.lng, lat=e.lat or e.building.compound.lat)
    elif building_code:
        b = Building.objects.select_related("compound").filter(code=building_code).first()
        if b is None:
            raise ValidationFailed(f"未知的楼栋编码“{building_code}”",
                                   details={"building": [building_code]})
        out.update(building=b, compound=b.compound, path=b.path,
                   lng=b.lng or b.compound.lng, lat=b.lat or b.compound.lat)
    elif compound_code:
        c = Compound.objects.filter(code=compound_code).first()
        if c is None:
            raise ValidationFailed(f"未知的小区编码“{compound_code}”",
                                   details={"compound": [compound_code]})
        out.update(compound=c, path=c.path, lng=c.lng, lat=c.lat)
    lng, lat = values.get("lng"), values.get("lat")
    if lng not in (None, "") and lat not in (None, ""):
        try:
            x, y = float(lng), float(lat)
        except (TypeError, ValueError):
            raise ValidationFailed("经纬度应为数值", details={"lng": ["格式有误"]}) from None
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise ValidationFailed("经纬度超出范围", details={"lng": ["超出范围"]})
        out["lng"], out["lat"] = x, y
        if "path" not in out:
            out["path"] = _path_of_point(x, y)
    if "path" not in out:
        raise ValidationFailed("请填写设备位置：单元、楼栋、小区编码或经纬度",
                               details={"place": ["必填"]})
    return out


def _path_of_point(x: float, y: float) -> str:
    from jiayuan.registry.models import Neighbourhood, Subdistrict
    from jiayuan.registry.selectors import locate

    try:
        _, loc = locate(x, y, "wgs84")
    except Exception:  # noqa: BLE001 - outside every known place
        loc = None
    if loc is not None:
        if loc.compound:
            return str(Compound.objects.get(code=loc.compound).path)
        if loc.neighbourhood:
            return str(Neighbourhood.objects.get(code=loc.neighbourhood).path)
        if loc.subdistrict:
            return str(Subdistrict.objects.get(code=loc.subdistrict).path)
    district = the_district()
    return district.path if district else ""


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one device's fields; returns model field values. Refuses with Chinese messages
    and ``details`` naming the field."""
    code = str(values.get("code") or "").strip()
    if not _DEVICE_RE.fullmatch(code):
        raise ValidationFailed("设备编码应为 1–64 个字母、数字或 _.-",
                               details={"code": [code[:64]]})
    kind = str(values.get("kind") or "").strip()
    kinds = load_device_kinds()
    if kind not in kinds and kind != CAMERA_KIND:
        raise ValidationFailed(f"未知的设备类型“{kind}”",
                               details={"kind": sorted([*kinds, CAMERA_KIND])})
    district = str(values.get("district_code") or "").strip()
    if not district:
        d = the_district()
        district = d.code if d else ""
    if not _DISTRICT_RE.fullmatch(district):
        raise ValidationFailed("区划代码应为 6 位数字", details={"district_code": [district]})
    out: dict[str, Any] = {"code": code, "kind": kind, "district_code": district}
    for name, limit in (("model", 80), ("name", 120), ("address", 200), ("owner_unit", 60)):
        text = str(values.get(name) or "").strip()
        if len(text) > limit:
            raise ValidationFailed(f"{name} 不能超过 {limit} 个字符", details={name: ["过长"]})
        out[name] = text
    if out["owner_unit"]:
        from jiayuan.cases.services.units import resolve

        resolve(out["owner_unit"])
    installed = values.get("installed_at")
    if installed in (None, ""):
        out["installed_at"] = None
    elif isinstance(installed, dt.datetime):
        out["installed_at"] = installed.date()
    elif isinstance(installed, dt.date):
        out["installed_at"] = installed
    else:
        try:
            out["installed_at"] = dt.date.fromisoformat(str(installed).strip()[:10])
        except ValueError:
            raise ValidationFailed("安装日期格式应为 YYYY-MM-DD",
                                   details={"installed_at": [str(installed)]}) from None
    interval = values.get("expected_interval_s")
    if interval in (None, ""):
        out["expected_interval_s"] = None
    else:
        try:
            n = int(float(interval))
        except (TypeError, ValueError):
            n = 0
        if n <= 0:
            raise ValidationFailed("上报间隔应为正整数（秒）",
                                   details={"expected_interval_s": [str(interval)]})
        out["expected_interval_s"] = n
    overrides = values.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ValidationFailed("规则覆盖配置应为 JSON 对象", details={"overrides": ["格式有误"]})
    windows = values.get("maintenance_windows") or []
    parse_windows(windows)
    out["overrides"], out["maintenance_windows"] = overrides, windows
    out.update(_place(values))
    probe = Device(**{k: v for k, v in out.items() if k in ("kind", "overrides",
                                                            "expected_interval_s",
                                                            "maintenance_windows")})
    try:
        rules_of(probe)
    except RuleConfigError as exc:
        raise ValidationFailed(f"规则覆盖配置有误：{exc.message}",
                               details={"overrides": [exc.message]}) from None
    return out


@transaction.atomic
def register_device(values: Mapping[str, Any], *, user: Any = None) -> tuple[Device, bool]:
    """Create or update the device ``values["code"]``; returns ``(device, created)``. With a
    ``user``, both the new place and an existing device's place must lie in their area."""
    cleaned = clean(values)
    code = cleaned.pop("code")
    if user is not None:
        from jiayuan.accounts.scope import scope_for

        scope = scope_for(user)
        scope.require(cleaned["path"])
        existing = Device.objects.filter(code=code).first()
        if existing is not None:
            scope.require(existing.path)
    before = Device.objects.filter(code=code).values(*RULE_INPUTS).first()
    device, created = Device.objects.update_or_create(code=code, defaults=cleaned)
    after = {k: getattr(device, k) for k in RULE_INPUTS}
    if before is not None and before != after:
        # A running worker re-derives this device's rules when the log grows.
        from jiayuan.sensors.services.rule_config import log_device_change

        log_device_change(device, user=user, before=before, after=after,
                          note="设备登记信息更新")
    return device, created


def set_overrides(device: Device, overrides: Any, *, user: Any = None) -> Device:
    """Staff edit of a device's rule overrides; refuses invalid ones, changing nothing.
    Audited (``RuleChange``), and seen by running ingest workers within seconds."""
    from jiayuan.sensors.services.rule_config import set_device_overrides

    return set_device_overrides(device, overrides, user=user)


# --- bulk import ------------------------------------------------------------------------------

@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFailed(ValidationFailed):
    code = "import_failed"
    default_message = "导入失败，未保存任何设备"


def import_devices(name: str, data: bytes, *, user: Any = None,
                   limits: Limits | None = None) -> ImportReport:
    """Import devices from an .xlsx or .csv (Chinese headers, see ``HEADERS``).

    Every row is checked; on any error nothing is stored and ``ImportFailed`` carries the
    row-level errors in ``details["rows"]`` (row number as in the file, field, message).
    The file is read within ``limits`` (default: the web's, ``core.uploads.web_limits``):
    over them ``FileTooLarge`` or ``TooManyRows`` (413).
    """
    from jiayuan.registry.io.files import SourceError, read_bytes

    try:
        sheets, _ = read_bytes(name, data, limits=limits or web_limits())
    except SourceError as exc:
        raise ValidationFailed(str(exc), details={"file": [name]}) from None
    report = ImportReport()
    rows: list[tuple[int, dict[str, Any]]] = []
    for sheet in sheets:
        if not sheet.rows:
            continue
        header_row = sheet.rows[0][1]
        columns = [HEADERS.get(str(h or "").strip(), str(h or "").strip()) for h in header_row]
        missing = {"code", "kind"} - set(columns)
        if missing:
            raise ValidationFailed(
                "表头缺少：" + "、".join(k for k, v in HEADERS.items() if v in missing),
                details={"headers": [str(h) for h in header_row]})
        for number, cells in sheet.rows[1:]:
            if not any(str(c or "").strip() for c in cells):
                continue
            values = {col: cells[i] if i < len(cells) else None
                      for i, col in enumerate(columns) if col in FIELDS}
            rows.append((number, values))
    if not rows:
        raise ValidationFailed("文件里没有设备数据", details={"file": [name]})
    seen: dict[str, int] = {}
    try:
        with transaction.atomic():
            for number, values in rows:
                code = str(values.get("code") or "").strip()
                if code in seen:
                    report.errors.append({"row": number, "field": "code",
                                          "message": f"设备编码与第 {seen[code]} 行重复"})
                    continue
                seen[code] = number
                try:
                    with transaction.atomic():
                        _, created = register_device(values, user=user)
                except DomainError as exc:
                    field_name = next(iter(exc.details), "") if isinstance(exc.details,
                                                                          dict) else ""
                    report.errors.append({"row": number, "field": field_name,
                                          "message": exc.message})
                    continue
                if created:
                    report.created += 1
                else:
                    report.updated += 1
            if report.errors:
                raise _Rollback()
    except _Rollback:
        raise ImportFailed(f"共 {len(report.errors)} 行有误，未保存任何设备",
                           details={"rows": report.errors}) from None
    return report


class _Rollback(Exception):
    pass
