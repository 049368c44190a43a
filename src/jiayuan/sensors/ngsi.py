"""NGSI-LD (normalised) JSON for a Device and an Alert, with FIWARE Smart Data Models field
names (dataModel.Device ``Device``, dataModel.Alert ``Alert``), for exchange with a
context broker. Pure; locations are WGS-84 GeoJSON ``[lon, lat]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from jiayuan.sensors.rules.model import AlarmEvent, DeviceKind, Severity

CONTEXT = [
    "https://smart-data-models.github.io/dataModel.Device/context.jsonld",
    "https://smart-data-models.github.io/dataModel.Alert/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]
# Smart Data Models Alert.severity values
SDM_SEVERITY = {Severity.EXTREME: "critical", Severity.SEVERE: "high",
                Severity.MODERATE: "medium", Severity.MINOR: "low",
                Severity.UNKNOWN: "informational"}
# CAP category -> Smart Data Models Alert.category / subCategory ("" = no good match in
# the model's list; pass ``sub_category`` to alert_entity to be specific)
SDM_CATEGORY = {
    "Fire": ("security", "buildingFire"),
    "Met": ("weather", "flood"),
    "Safety": ("security", ""),
    "Security": ("security", "suspiciousAction"),
    "Rescue": ("health", ""),
    "Health": ("health", ""),
    "Infra": ("environment", ""),
}


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _geo(lon: float, lat: float) -> dict[str, Any]:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("coordinates out of range")
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def device_id(device_code: str) -> str:
    return f"urn:ngsi-ld:Device:{device_code}"


def device_entity(
    device_code: str,
    kind: DeviceKind,
    *,
    lon: float,
    lat: float,
    state: str = "ok",
    last_reported: datetime | None = None,
    battery: float | None = None,
    values: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Device entity: ``controlledProperty`` from the kind's metrics, ``deviceState``
    ("ok", "silent", "fault", "maintenance"), ``dateLastValueReported``, ``location``;
    ``batteryLevel`` as a 0–1 fraction, as the model defines it; the latest ``value``
    as a ``name=value;...`` string. Refuses naive datetimes and out-of-range coordinates."""
    props = sorted({m.ngsi_property for m in kind.metrics
                    if m.ngsi_property and m.name not in ("battery", "rssi")})
    entity: dict[str, Any] = {
        "id": device_id(device_code),
        "type": "Device",
        "name": _prop(device_code),
        "category": _prop(["sensor"]),
        "controlledProperty": _prop(props),
        "description": _prop(kind.label),
        "deviceState": _prop(state),
        "location": _geo(lon, lat),
        "@context": CONTEXT,
    }
    if last_reported is not None:
        entity["dateLastValueReported"] = _prop(
            {"@type": "DateTime", "@value": _iso(last_reported)})
    if battery is not None:
        entity["batteryLevel"] = _prop(round(battery / 100, 4))
    if values:
        entity["value"] = _prop(";".join(f"{k}={v:g}" for k, v in sorted(values.items())))
    return entity


def alert_entity(
    alert_id: str,
    event: AlarmEvent,
    *,
    lon: float,
    lat: float,
    valid_to: datetime | None = None,
    address: Sequence[str] = (),
    sub_category: str | None = None,
) -> dict[str, Any]:
    """Alert entity for a raised alarm: ``category``/``subCategory`` from the rule's CAP
    category, ``severity`` in the model's words, ``dateIssued``, ``alertSource`` pointing
    at the Device entity, ``description`` in Chinese. Refuses naive datetimes."""
    category, sub = SDM_CATEGORY.get(event.category, ("security", ""))
    if sub_category is not None:
        sub = sub_category
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Alert:{alert_id}",
        "type": "Alert",
        "name": _prop(event.title or event.rule_id),
        "category": _prop(category),
        "severity": _prop(SDM_SEVERITY[event.severity]),
        "dateIssued": _prop({"@type": "DateTime", "@value": _iso(event.at)}),
        "alertSource": {"type": "Relationship", "object": device_id(event.device_code)},
        "description": _prop(event.message),
        "location": _geo(lon, lat),
        "@context": CONTEXT,
    }
    if sub:
        entity["subCategory"] = _prop(sub)
    if valid_to is not None:
        entity["validTo"] = _prop({"@type": "DateTime", "@value": _iso(valid_to)})
    if address:
        entity["address"] = _prop({"streetAddress": " ".join(address)})
    return entity
