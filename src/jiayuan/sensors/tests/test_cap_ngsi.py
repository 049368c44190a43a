"""OASIS CAP 1.2 XML and NGSI-LD Device/Alert JSON of alarm events."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from jiayuan.sensors.cap import CAP_NS, Area, CapError, render_cap
from jiayuan.sensors.ngsi import alert_entity, device_entity
from jiayuan.sensors.rules.catalogue import load_device_kinds, rule_set_for
from jiayuan.sensors.rules.model import Action, AlarmEvent

from .support import T0, at, feed

NS = {"cap": CAP_NS}
REQUIRED = ["identifier", "sender", "sent", "status", "msgType", "scope"]
REQUIRED_INFO = ["category", "event", "urgency", "severity", "certainty"]


def _text(el: ET.Element | None, path: str) -> str:
    assert el is not None
    found = el.findtext(path, namespaces=NS)
    assert found is not None, path
    return found


def _find(el: ET.Element | None, path: str) -> ET.Element:
    assert el is not None
    found = el.find(path, NS)
    assert found is not None, path
    return found


def _shed_events() -> tuple[AlarmEvent, AlarmEvent]:
    rules = rule_set_for("ebike_shed")
    _, events = feed(rules, [(0, {"temperature_c": 72}), (300, {"temperature_c": 50})])
    raise_, clear = [e for e in events if e.rule_id == "ebike_shed.overheat"]
    return raise_, clear


def test_raise_renders_as_a_cap_alert_with_the_required_elements() -> None:
    raise_, _ = _shed_events()
    xml = render_cap(raise_, identifier="JY-310115-1", sender="ops@310115.jiayuan",
                     area=Area("欣韵小区 3号车棚", circle=(31.28, 121.59, 0.05)))
    root = ET.fromstring(xml)
    assert root.tag == f"{{{CAP_NS}}}alert"
    for tag in REQUIRED:
        assert root.find(f"cap:{tag}", NS) is not None, tag
    assert _text(root, "cap:status") == "Actual"
    assert _text(root, "cap:msgType") == "Alert"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00",
                        _text(root, "cap:sent"))
    info = _find(root, "cap:info")
    for tag in REQUIRED_INFO:
        assert info.find(f"cap:{tag}", NS) is not None, tag
    assert _text(info, "cap:language") == "zh-CN"
    assert _text(info, "cap:category") == "Fire"
    assert _text(info, "cap:severity") == "Extreme"
    assert _text(info, "cap:urgency") == "Immediate"
    assert _text(info, "cap:headline") == "车棚温度过高"
    assert "72°C" in _text(info, "cap:description")
    area = _find(info, "cap:area")
    assert _text(area, "cap:areaDesc") == "欣韵小区 3号车棚"
    assert _text(area, "cap:circle") == "31.280000,121.590000 0.05"


def test_clear_renders_as_a_cancel_referencing_the_alert_with_a_closed_polygon() -> None:
    _, clear = _shed_events()
    xml = render_cap(clear, identifier="JY-310115-2", sender="ops@310115.jiayuan",
                     references="ops@310115.jiayuan,JY-310115-1,2026-11-23T16:00:00+08:00",
                     area=Area("车棚", polygon=[(31.0, 121.0), (31.0, 121.1), (31.1, 121.1)]))
    root = ET.fromstring(xml)
    assert _text(root, "cap:msgType") == "Cancel"
    assert _text(root, "cap:references").count(",") == 2
    polygon = _text(root, "cap:info/cap:area/cap:polygon").split()
    assert len(polygon) == 4 and polygon[0] == polygon[-1]


def test_update_maps_to_cap_update() -> None:
    rules = rule_set_for("ebike_shed")
    _, events = feed(rules, [(0, {"temperature_c": 72}), (300, {"temperature_c": 78})])
    update = next(e for e in events if e.action is Action.UPDATE)
    xml = render_cap(update, identifier="u1", sender="s", references="s,a1,x",
                     area=Area("车棚"))
    assert ET.fromstring(xml).findtext("cap:msgType", namespaces=NS) == "Update"


def test_cap_refuses_health_events_missing_references_and_bad_identifiers() -> None:
    raise_, clear = _shed_events()
    rules = rule_set_for("smoke_detector")
    _, faults = feed(rules, [(0, {"temperature_c": 999})])
    with pytest.raises(CapError):
        render_cap(faults[0], identifier="x", sender="s", area=Area("a"))
    with pytest.raises(CapError):
        render_cap(clear, identifier="x", sender="s", area=Area("a"))
    with pytest.raises(CapError):
        render_cap(raise_, identifier="has space", sender="s", area=Area("a"))


def test_ngsi_device_uses_smart_data_model_fields() -> None:
    kind = load_device_kinds()["ebike_shed"]
    entity = device_entity("SHED-3", kind, lon=121.59, lat=31.28, last_reported=T0,
                           battery=80, values={"temperature_c": 41.5})
    assert entity["id"] == "urn:ngsi-ld:Device:SHED-3" and entity["type"] == "Device"
    assert "temperature" in entity["controlledProperty"]["value"]
    assert entity["location"] == {"type": "GeoProperty",
                                  "value": {"type": "Point", "coordinates": [121.59, 31.28]}}
    assert entity["dateLastValueReported"]["value"]["@value"] == "2026-11-23T08:00:00Z"
    assert entity["batteryLevel"]["value"] == 0.8
    assert entity["deviceState"]["value"] == "ok"


def test_ngsi_alert_maps_severity_and_points_at_its_device() -> None:
    raise_, _ = _shed_events()
    entity = alert_entity("A1", raise_, lon=121.59, lat=31.28)
    assert entity["id"] == "urn:ngsi-ld:Alert:A1" and entity["type"] == "Alert"
    assert entity["severity"]["value"] == "critical"
    assert entity["category"]["value"] == "security"
    assert entity["subCategory"]["value"] == "buildingFire"
    assert entity["alertSource"] == {"type": "Relationship",
                                     "object": "urn:ngsi-ld:Device:D1"}
    assert entity["dateIssued"]["value"]["@value"] == at(0).isoformat().replace("+00:00", "Z")


def test_ngsi_refuses_out_of_range_coordinates() -> None:
    raise_, _ = _shed_events()
    with pytest.raises(ValueError):
        alert_entity("A1", raise_, lon=31.28, lat=121.59)
