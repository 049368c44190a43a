"""Render an alarm event as an OASIS CAP 1.2 message (XML), for exchange with emergency
systems. Pure, standard library only (xml.etree).

raise → msgType ``Alert``; update → ``Update``; clear → ``Cancel`` (update and cancel carry
``references`` to the original alert). Times are written in Asia/Shanghai with an explicit
offset and no fractional seconds, as CAP requires (no "Z"). Community alarms default to
scope ``Restricted`` (staff and responders, not a public broadcast).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - we only build XML here, never parse input
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jiayuan.sensors.rules.model import Action, AlarmEvent, Severity

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_MSG_TYPE = {Action.RAISE: "Alert", Action.UPDATE: "Update", Action.CLEAR: "Cancel"}
_URGENCY = {Severity.EXTREME: "Immediate", Severity.SEVERE: "Immediate",
            Severity.MODERATE: "Expected", Severity.MINOR: "Expected",
            Severity.UNKNOWN: "Unknown"}


class CapError(ValueError):
    """An event or area that cannot be expressed in CAP."""


@dataclass(frozen=True, slots=True)
class Area:
    """``areaDesc`` plus a circle (WGS-84 centre and radius in km) or a closed polygon of
    (lat, lon) pairs."""

    description: str
    circle: tuple[float, float, float] | None = None  # lat, lon, radius_km
    polygon: Sequence[tuple[float, float]] = ()


def cap_time(at: datetime) -> str:
    """CAP dateTime: ``2026-11-23T10:15:00+08:00``. Refuses naive datetimes."""
    if at.tzinfo is None:
        raise CapError("naive datetime")
    return at.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    el.text = text
    return el


def _area(info: ET.Element, area: Area) -> None:
    el = ET.SubElement(info, f"{{{CAP_NS}}}area")
    _sub(el, "areaDesc", area.description)
    if area.polygon:
        pts = list(area.polygon)
        if len(pts) < 3:
            raise CapError("polygon needs at least three points")
        if pts[0] != pts[-1]:
            pts.append(pts[0])
        for lat, lon in pts:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise CapError("polygon point out of range")
        _sub(el, "polygon", " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in pts))
    if area.circle is not None:
        lat, lon, radius = area.circle
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius < 0:
            raise CapError("circle out of range")
        _sub(el, "circle", f"{lat:.6f},{lon:.6f} {radius:g}")


def render_cap(
    event: AlarmEvent,
    *,
    identifier: str,
    sender: str,
    area: Area,
    sent: datetime | None = None,
    references: str | None = None,
    scope: str = "Restricted",
    restriction: str = "仅限社区工作人员与处置部门",
    sender_name: str = "家园平台",
) -> str:
    """Return the CAP 1.2 XML of an alarm event (raise, update or clear).

    ``references`` ("sender,identifier,sent" of the original alert) is required for update
    and clear. Refuses (``CapError``) device-health events, a missing reference, and
    identifiers or senders with spaces, commas or ``<``/``&`` (CAP forbids them).
    """
    msg_type = _MSG_TYPE.get(event.action)
    if msg_type is None:
        raise CapError(f"{event.action} is not an alarm event")
    for name, value in (("identifier", identifier), ("sender", sender)):
        if not value or any(ch in value for ch in " ,<&"):
            raise CapError(f"{name} must be non-empty without spaces, commas, < or &")
    if msg_type != "Alert" and not references:
        raise CapError("update and cancel must reference the original alert")
    if scope not in ("Public", "Restricted", "Private"):
        raise CapError("scope must be Public, Restricted or Private")
    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", identifier)
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(sent or event.at))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", msg_type)
    _sub(root, "scope", scope)
    if scope == "Restricted":
        _sub(root, "restriction", restriction)
    if references:
        _sub(root, "references", references)
    info = ET.SubElement(root, f"{{{CAP_NS}}}info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", event.category)
    _sub(info, "event", event.title or event.rule_id)
    if msg_type == "Cancel":
        _sub(info, "responseType", "AllClear")
    _sub(info, "urgency", "Past" if msg_type == "Cancel" else _URGENCY[event.severity])
    _sub(info, "severity", event.severity.value)
    _sub(info, "certainty", "Observed")
    _sub(info, "senderName", sender_name)
    _sub(info, "headline", (event.title or event.rule_id)[:160])
    _sub(info, "description", event.message)
    param = ET.SubElement(info, f"{{{CAP_NS}}}parameter")
    _sub(param, "valueName", "deviceCode")
    _sub(param, "value", event.device_code)
    param = ET.SubElement(info, f"{{{CAP_NS}}}parameter")
    _sub(param, "valueName", "ruleId")
    _sub(param, "value", event.rule_id)
    _area(info, area)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
