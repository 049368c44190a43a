"""OASIS CAP 1.2 XML and NGSI-LD Device/Alert JSON of alarm events."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from jiayuan.sensors.cap import CAP_NS, Area, CapError, render_cap
from jiayuan.sensors.ngsi import alert_entity, device_entity
from jiayuan.sensors.rules.catalogue import load_device_kinds, rule_set_for
from jiayuan.sensors.rules.model import Action

from .support import T0, at, feed

NS = {"cap": CAP_NS}
REQUIRED = ["identifier", "sender", "sent", "status", "msgType", "scope"]
REQUIRED_INFO = ["category", "event", "urgency", "severity", "certainty"]


def _shed_events():
    rules = rule_set_for("ebike_shed")
    _, events = feed(rules, [(0, {"temperature_c": 72}), (300, {"temperature_c": 50})])
    raise_, clear = [e for e in events if e.rule_id == "ebike_shed.overheat"]
    return raise_, clear


def test_raise_renders_as_a_cap_alert_with_the_required_elements():
    raise_, _ = _shed_events()
    xml = render_cap(raise_, identifier="JY-310115-1", sender="ops@310115.jiayuan",
                     area=Area("欣韵小区 3号车棚", circle=(31.28, 121.59, 0.05)))
    root = ET.fromstring(xml)
    assert root.tag == f"{{{CAP_NS}}}alert"
    for tag in REQUIRED:
        assert root.find(f"cap:{tag}", NS) is not None, tag
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00",
                        root.findtext("cap:sent", namespaces=NS))
    info = root.find("cap:info", NS)
    for tag in REQUIRED_INFO:
        assert info.find(f"cap:{tag}", NS) is not None, tag
    assert info.findtext("cap:language", namespaces=NS) == "zh-CN"
    assert info.findtext("cap:category", namespaces=NS) == "Fire"
    assert info.findtext("cap:severity", namespaces=NS) == "Extreme"
    assert info.findtext("cap:urgency", namespaces=NS) == "Immediate"
    assert info.findtext("cap:headline", namespaces=NS) == "车棚温度过高"
    assert "72°C" in info.findtext("cap:description", namespaces=NS)
    area = info.find("cap:area", NS)
    assert area.findtext("cap:areaDesc", namespaces=NS) == "欣韵小区 3号车棚"
    assert area.findtext("cap:circle", namespaces=NS) == "31.280000,121.590000 0.05"


def test_clear_renders_as_a_cancel_referencing_the_alert_with_a_closed_polygon():
    _, clear = _shed_events()
    xml = render_cap(clear, identifier="JY-310115-2", sender="ops@310115.jiayuan",
                     references="ops@310115.jiayuan,JY-310115-1,2026-11-23T16:00:00+08:00",
                     area=Area("车棚", polygon=[(31.0, 121.0), (31.0, 121.1), (31.1, 121.1)]))
    root = ET.fromstring(xml)
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert root.findtext("cap:references", namespaces=NS).count(",") == 2
    polygon = root.findtext("cap:info/cap:area/cap:polygon", namespaces=NS).split()
    assert len(polygon) == 4 and polygon[0] == polygon[-1]


def test_update_maps_to_cap_update():
    rules = rule_set_for("ebike_shed")
    _, events = feed(rules, [(0, {"temperature_c": 72}), (300, {"temperature_c": 78})])
    update = next(e for e in events if e.action is Action.UPDATE)
    xml = render_cap(update, identifier="u1", sender="s", references="s,a1,x",
                     area=Area("车棚"))
    assert ET.fromstring(xml).findtext("cap:msgType", namespaces=NS) == "Update"


def test_cap_refuses_health_events_missing_references_and_bad_identifiers():
    raise_, clear = _shed_events()
    rules = rule_set_for("smoke_detector")
    _, faults = feed(rules, [(0, {"temperature_c": 999})])
    with pytest.raises(CapError):
        render_cap(faults[0], identifier="x", sender="s", area=Area("a"))
    with pytest.raises(CapError):
        render_cap(clear, identifier="x", sender="s", area=Area("a"))
    with pytest.raises(CapError):
        render_cap(raise_, identifier="has space", sender="s", area=Area("a"))


def test_ngsi_device_uses_smart_data_model_fields():
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


def test_ngsi_alert_maps_severity_and_points_at_its_device():
    raise_, _ = _shed_events()
    entity = alert_entity("A1", raise_, lon=121.59, lat=31.28)
    assert entity["id"] == "urn:ngsi-ld:Alert:A1" and entity["type"] == "Alert"
    assert entity["severity"]["value"] == "critical"
    assert entity["category"]["value"] == "security"
    assert entity["subCategory"]["value"] == "buildingFire"
    assert entity["alertSource"] == {"type": "Relationship",
                                     "object": "urn:ngsi-ld:Device:D1"}
    assert entity["dateIssued"]["value"]["@value"] == at(0).isoformat().replace("+00:00", "Z")


def test_ngsi_refuses_out_of_range_coordinates():
    raise_, _ = _shed_events()
    with pytest.raises(ValueError):
        alert_entity("A1", raise_, lon=31.28, lat=121.59)
