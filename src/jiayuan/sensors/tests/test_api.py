"""Sensor API: devices (scoped, validated, imported all-or-nothing), alarms, exports, video."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiayuan.accounts.services import issue_token
from jiayuan.cases.models import Case
from jiayuan.sensors.models import Alarm, Device
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.tests.django_support import Clock, make_device, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(tiny, make_user):
    return make_user("duty-s1", "duty_officer", "310115001")


@pytest.fixture
def other(tiny, make_user):
    return make_user("duty-s2", "duty_officer", "310115002")


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_devices_are_listed_within_the_users_area_only(tiny, officer, other, client):
    make_device(tiny, "SMK-1", "smoke_detector", where="S1N1C1")
    make_device(tiny, "SMK-2", "smoke_detector", where="S2N1C1")
    client.force_login(officer)
    body = client.get("/api/v1/sensors/devices").json()
    assert [d["code"] for d in body["items"]] == ["SMK-1"]
    client.force_login(other)
    assert [d["code"] for d in client.get("/api/v1/sensors/devices").json()["items"]] == [
        "SMK-2"]


def test_register_refuses_bad_input_with_a_machine_readable_error(tiny, officer, client):
    client.force_login(officer)
    e = tiny.entrances["S1N1C1"].code
    r = _post(client, "/api/v1/sensors/devices", {"code": "bad code!", "kind": "ebike_shed",
                                                  "entrance": e})
    assert r.status_code == 422 and r.json()["error"]["details"]["code"]
    r = _post(client, "/api/v1/sensors/devices", {"code": "SHED-9", "kind": "toaster",
                                                  "entrance": e})
    assert r.status_code == 422 and "未知的设备类型" in r.json()["error"]["message"]
    r = _post(client, "/api/v1/sensors/devices", {
        "code": "SHED-9", "kind": "ebike_shed", "entrance": e,
        "overrides": {"rules": {"hot_and_loaded": {"thresholds": [55]}}}})
    assert r.status_code == 422 and "overrides" in r.json()["error"]["details"]
    r = _post(client, "/api/v1/sensors/devices", {"code": "SHED-9", "kind": "ebike_shed",
                                                  "entrance": tiny.entrances["S2N1C1"].code})
    assert r.status_code == 404  # outside the officer's subdistrict
    assert not Device.objects.exists()
    r = _post(client, "/api/v1/sensors/devices", {
        "code": "SHED-9", "kind": "ebike_shed", "entrance": e, "owner_unit": "department:PS1",
        "overrides": {"rules": {"hot_and_loaded": {"thresholds": [55, 80]}}}})
    assert r.status_code == 201, r.json()
    d = Device.objects.get(code="SHED-9")
    assert d.path == tiny.entrances["S1N1C1"].path and d.compound is not None


def test_staff_edit_overrides_and_bad_ones_change_nothing(tiny, officer, client):
    make_device(tiny, "SHED-1", "ebike_shed")
    client.force_login(officer)
    r = client.put("/api/v1/sensors/devices/SHED-1/overrides",
                   data=json.dumps({"overrides": {"rules": {"nope": {}}}}),
                   content_type="application/json")
    assert r.status_code == 422
    assert Device.objects.get(code="SHED-1").overrides == {}
    r = client.put("/api/v1/sensors/devices/SHED-1/overrides",
                   data=json.dumps({"overrides": {"rules": {"battery_low": {"enabled": False}}}}),
                   content_type="application/json")
    assert r.status_code == 422  # a shed has no battery rule
    r = client.put("/api/v1/sensors/devices/SHED-1/overrides",
                   data=json.dumps({"overrides": {"expected_interval_s": 600}}),
                   content_type="application/json")
    assert r.status_code == 200
    assert Device.objects.get(code="SHED-1").overrides == {"expected_interval_s": 600}


def test_import_is_all_or_nothing_with_row_errors(tiny, officer, client):
    client.force_login(officer)
    e1 = tiny.entrances["S1N1C1"].code
    e2 = tiny.entrances["S1N1C2"].code
    bad = ("设备编码,设备类型,单元编码,维护单位\n"
           f"SMK-10,smoke_detector,{e1},department:PS1\n"
           f"SMK-11,toaster,{e2},\n"
           f"SMK-10,smoke_detector,{e2},\n"
           f"SMK-12,smoke_detector,NOPE,\n").encode()
    r = client.post("/api/v1/sensors/devices/import",
                    {"file": SimpleUploadedFile("devices.csv", bad)})
    assert r.status_code == 422
    rows = r.json()["error"]["details"]["rows"]
    assert [x["row"] for x in rows] == [3, 4, 5]
    assert not Device.objects.exists()
    good = ("设备编码,设备类型,单元编码,维护单位,上报间隔秒\n"
            f"SMK-10,smoke_detector,{e1},department:PS1,\n"
            f"SHED-10,ebike_shed,{e2},,600\n").encode()
    r = client.post("/api/v1/sensors/devices/import",
                    {"file": SimpleUploadedFile("devices.csv", good)})
    assert r.status_code == 200 and r.json() == {"created": 2, "updated": 0}
    assert Device.objects.get(code="SHED-10").expected_interval_s == 600


def test_alarms_list_acknowledge_and_exports(tiny, officer, other, client):
    make_device(tiny, "GAS-1", "gas_detector", lng=121.5, lat=31.2)
    clock = Clock()
    Pipeline(clock=clock).process([message("GAS-1", clock.at(-10), {"gas_lel_pct": 30},
                                           msg_id="1")])
    alarm = Alarm.objects.get(rule_id__endswith="gas_high")
    client.force_login(other)
    assert client.get("/api/v1/sensors/alarms").json()["total"] == 0
    assert client.post(f"/api/v1/sensors/alarms/{alarm.pk}/acknowledge").status_code == 404
    client.force_login(officer)
    items = client.get("/api/v1/sensors/alarms").json()["items"]
    assert {i["rule"] for i in items} >= {"gas_detector.gas_high"}
    r = client.post(f"/api/v1/sensors/alarms/{alarm.pk}/acknowledge")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = client.post(f"/api/v1/sensors/alarms/{alarm.pk}/acknowledge")
    assert r.status_code == 409
    xml = client.get(f"/api/v1/sensors/alarms/{alarm.pk}/cap").content.decode()
    assert "<msgType>Alert</msgType>" in xml and "GAS-1" in xml
    alerts = client.get("/api/v1/sensors/ngsi/alerts").json()
    assert alerts and alerts[0]["type"] == "Alert"
    devices = client.get("/api/v1/sensors/ngsi/devices").json()
    assert devices[0]["id"] == "urn:ngsi-ld:Device:GAS-1"
    health = client.get("/api/v1/sensors/health").json()
    assert health["devices"] == 1 and health["open_alarms"] >= 1


def test_video_detection_webhook(tiny, make_user, client):
    system = make_user("video-platform", "admin")
    token = issue_token(user=system, name="video")
    make_device(tiny, "CAM-1", "video_camera", address="测试路1号")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = "/api/v1/sensors/video/detections"
    body = {"detection_id": "d-1", "camera": "CAM-1", "category": "fire_lane_blocked",
            "confidence": 0.55, "snapshot_url": "https://video.example/1.jpg"}
    r = client.post(url, data=json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 202 and r.json()["reason"] == "below_threshold"
    assert not Case.objects.filter(channel="video_ai").exists()
    body["confidence"] = 0.93
    r = client.post(url, data=json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 201
    case = Case.objects.get(channel="video_ai")
    assert case.category.code == "09012" and case.entrance is not None
    r = client.post(url, data=json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 200 and r.json()["case"] == case.number  # same detection
    body.update(detection_id="d-2", camera="CAM-404")
    r = client.post(url, data=json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 404
    body.update(camera="CAM-1", category="ufo")
    r = client.post(url, data=json.dumps(body), content_type="application/json", **auth)
    assert r.status_code == 422
    assert Case.objects.filter(channel="video_ai").count() == 1
    client.force_login(system)  # a browser session is not enough
    r = client.post(url, data=json.dumps(body), content_type="application/json")
    assert r.status_code in (401, 403)
