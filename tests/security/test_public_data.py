"""Issue #12 item 6: the public Open311 interface shows only what may be public.

Only public channels and public categories are listed; the free text of internal channels
(video analytics: camera code, snapshot URL with its NVR token) never leaves; residents'
positions are coarsened unless they agreed on the form; the Open311 reporter's e-mail is
masked for staff and its reveal logged.
"""

from __future__ import annotations

import hashlib
import json
import math
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from jiayuan.accounts.models import PersonalDataAccess
from jiayuan.cases.models import Case, Category
from jiayuan.cases.services import open_case
from jiayuan.sensors.services.categories import ensure_category

KEY = "security-test-key"
# Inside compound S1N1C1 of the tiny district, near its entrance.
EXACT_LAT, EXACT_LNG = 31.151234, 121.423456


@pytest.fixture(autouse=True)
def open311_keys(settings):
    settings.JIAYUAN_OPEN311_KEYS = f"sha256:{hashlib.sha256(KEY.encode()).hexdigest()}"
    settings.DEMO_MODE = False
    cache.clear()
    yield
    cache.clear()


def listed(client, fmt="json", **params) -> tuple[bytes, dict[str, dict]]:
    r = client.get(f"/open311/v2/requests.{fmt}", params)
    assert r.status_code == 200
    rows = {x["service_request_id"]: x for x in json.loads(r.content)} if fmt == "json" else {}
    return r.content, rows


def metres(lat1, lng1, lat2, lng2) -> float:
    dy = (lat1 - lat2) * 111_320
    dx = (lng1 - lng2) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


def test_video_cases_with_camera_code_and_nvr_token_are_never_public(client, tiny, settings):
    video, _ = open_case(
        channel="video_ai", category_code="06013", lng=121.425, lat=31.15,
        description="【视频智能识别】占道（置信度 0.93），视频通道 CAM-S1-0042，测试路1号。"
                    "截图：http://10.1.2.3/nvr/snap.jpg?token=NVR-SECRET-TOKEN")
    road, _ = open_case(channel="open311", category_code="06013", lng=121.425, lat=31.15,
                        description="道路破损大坑")
    for fmt in ("json", "xml"):
        content, _rows = listed(client, fmt)
        assert video.number.encode() not in content
        assert b"CAM-S1-0042" not in content and b"NVR-SECRET-TOKEN" not in content
        assert road.number.encode() in content
    assert client.get(f"/open311/v2/requests/{video.number}.json").status_code == 404
    assert client.get(f"/open311/v2/tokens/{video.tracking_token}.json").status_code == 404
    # An operator who lists the channel anyway cannot make an internal channel public.
    settings.JIAYUAN_OPEN311_PUBLIC_CHANNELS = ["open311", "video_ai"]
    content, _rows = listed(client)
    assert video.number.encode() not in content and b"NVR-SECRET-TOKEN" not in content


def test_internal_categories_are_neither_services_nor_listed_nor_accepted(client, tiny):
    code = ensure_category("S-care")  # 独居老人异常: an alarm in a resident's flat
    assert Category.objects.get(code=code).public is False
    alarm, _ = open_case(channel="grid_patrol", category_code=code, lng=121.425, lat=31.15,
                         description="独居老人家中门磁 36 小时未开启")
    services = {s["service_code"] for s in json.loads(client.get(
        "/open311/v2/services.json").content)}
    assert code not in services and "06013" in services
    assert client.get(f"/open311/v2/services/{code}.json").status_code == 404
    content, _rows = listed(client)
    assert alarm.number.encode() not in content and "门磁".encode() not in content
    r = client.post("/open311/v2/requests.json", data=urlencode({
        "api_key": KEY, "service_code": code, "lat": "31.15", "long": "121.425"}),
        content_type="application/x-www-form-urlencoded")
    assert r.status_code == 404 and json.loads(r.content)[0]["code"] == 404
    assert Case.objects.count() == 1


def report(client, entrance, key, **fields):
    data = {"description": "3号楼502室门口堆物，我是502的李阿姨 13812345678",
            "category": "06013", "idempotency_key": key,
            "lng": str(EXACT_LNG), "lat": str(EXACT_LAT), **fields}
    r = client.post(f"/h/{entrance.home_code}/report/", data, REMOTE_ADDR="10.9.9.9")
    assert r.status_code == 302, r.content.decode()[:500]
    return Case.objects.get(idempotency_key=f"home_code:{key}")


def test_home_code_reports_are_coarse_and_without_free_text_unless_the_resident_agreed(
        client, tiny):
    entrance = tiny.entrances["S1N1C1"]
    private = report(client, entrance, "p" * 20)
    agreed = report(client, entrance, "a" * 20, exact_position_public="on")
    assert (private.exact_position_public, agreed.exact_position_public) == (False, True)
    assert agreed.events.get(seq=1).payload["consent"] == {"exact_position_public": True}
    content, rows = listed(client)
    assert "李阿姨".encode() not in content and b"13812345678" not in content
    assert b"502" not in content

    p = rows[private.number]
    assert p["description"] is None
    assert (p["lat"], p["long"]) != (EXACT_LAT, EXACT_LNG)
    assert 10 < metres(p["lat"], p["long"], EXACT_LAT, EXACT_LNG) < 150
    assert p["address_id"] is None and p["address"] != entrance.door_plate

    a = rows[agreed.number]
    assert (a["lat"], a["long"]) == (EXACT_LAT, EXACT_LNG)
    assert a["address_id"] == entrance.code and a["description"] is None

    # The XML says the same.
    xml = client.get(f"/open311/v2/requests/{private.number}.xml").content.decode()
    assert f"<lat>{EXACT_LAT}</lat>" not in xml and entrance.code not in xml


def test_the_report_form_asks_for_consent_and_explains_it_in_chinese(client, tiny):
    entrance = tiny.entrances["S1N1C1"]
    body = client.get(f"/h/{entrance.home_code}/report/").content.decode()
    assert 'name="exact_position_public"' in body and 'type="checkbox"' in body
    assert "在公开地图上显示精确位置" in body and "约 150 米" in body
    assert "checked" not in body.split('name="exact_position_public"')[1].split(">")[0]


def test_coarse_grid_is_about_150_m_and_stable_within_a_square():
    from jiayuan.open311.policy import coarsen

    centre = coarsen(EXACT_LAT, EXACT_LNG)
    assert coarsen(*centre) == centre  # the centre lies in its own square
    # Every point maps to a centre at most half a diagonal away.
    for dlat in (-0.0007, 0.0, 0.0007):
        for dlng in (-0.0007, 0.0, 0.0007):
            c = coarsen(EXACT_LAT + dlat, EXACT_LNG + dlng)
            assert metres(c[0], c[1], EXACT_LAT + dlat, EXACT_LNG + dlng) <= 150 * 0.72


def test_open311_reporter_email_is_masked_for_staff_and_its_reveal_is_logged(
        client, tiny, make_user):
    r = client.post("/open311/v2/requests.json", data=urlencode({
        "api_key": KEY, "service_code": "06010", "lat": "31.15", "long": "121.425",
        "email": "zhang.san@example.com", "description": "路面塌陷"}),
        content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    number = json.loads(r.content)[0]["service_request_id"]
    content, _rows = listed(client)
    assert b"zhang.san" not in content

    staff = make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client.force_login(staff)
    api = client.get(f"/api/v1/cases/cases/{number}")
    assert api.status_code == 200
    assert "zhang.san@example.com" not in api.content.decode()
    assert api.json()["events"][0]["payload"]["open311"]["reporter_email"] == "z***@example.com"
    page = client.get(f"/cases/{number}/").content.decode()
    assert "zhang.san@example.com" not in page and "z***@example.com" in page
    assert not PersonalDataAccess.objects.exists()

    shown = client.post(f"/cases/{number}/reporter/", HTTP_HX_REQUEST="true")
    assert "zhang.san@example.com" in shown.content.decode()
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.object_id) == (staff, number)
    assert "reporter_email" in log.fields

    # The back office shows the event's payload masked too.
    from jiayuan.cases.models import CaseEvent

    admin = make_user("root", "admin")
    client.force_login(admin)
    event = CaseEvent.objects.get(case__number=number, seq=1)
    page = client.get(f"/admin/cases/caseevent/{event.pk}/change/")
    assert page.status_code == 200
    assert "zhang.san@example.com" not in page.content.decode()
    assert "z***@example.com" in page.content.decode()
