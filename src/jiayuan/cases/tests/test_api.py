"""The case JSON API: intake (idempotent), scoped lists and details, actions, duplicates."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from jiayuan.accounts.services import issue_token
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services import open_case
from jiayuan.cases.services.routing import clear_caches

SH = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/cases/cases"


@pytest.fixture(autouse=True)
def no_model(settings, tmp_path):
    settings.JIAYUAN = {**settings.JIAYUAN, "CLASSIFIER_PATH": str(tmp_path / "none.joblib")}
    clear_caches()


@pytest.fixture
def people(tiny, make_user):
    return {
        "staff": make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]),
        "other": make_user("other", "neighbourhood_staff", tiny.neighbourhoods["S2N1"]),
        "resident": make_user("resident", "resident"),
        "system": make_user("sensors", "duty_officer", tiny.district),
    }


@pytest.fixture
def token(people):
    return issue_token(user=people["system"], name="sensors")


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def in_s1n1(text="楼道里堆满了杂物", **kw):
    case, _ = open_case(channel="grid_patrol", description=text, lng=121.425, lat=31.15, **kw)
    return case


def in_s2n1(text="楼道里堆满了杂物"):
    case, _ = open_case(channel="grid_patrol", description=text, lng=121.525, lat=31.15)
    return case


BODY = {"channel": "sensor", "description": "烟感告警：3号楼2单元", "category": "06036",
        "lng": 121.425, "lat": 31.15, "reporter_name": "张三丰", "reporter_phone": "13812345678"}


# --- POST /cases --------------------------------------------------------------------------------

def test_a_token_creates_a_case_and_a_retry_with_the_same_key_returns_it(client, tiny, token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "alarm-42"}
    first = post(client, URL, BODY, **auth)
    again = post(client, URL, BODY, **auth)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    body = first.json()
    assert body["compound"] == tiny.compounds["S1N1C1"].code and body["state"] == "reported"
    assert body["routing_source"] == "rule"
    assert Case.objects.count() == 1
    assert Case.objects.get().idempotency_key == "alarm-42"


def test_a_batch_opens_every_case_routed_and_a_retry_creates_nothing(client, tiny, token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    items = [
        {**BODY, "idempotency_key": "b-1"},
        {"channel": "hotline_12345", "description": "路面暴露垃圾没人清理", "lng": 121.425,
         "lat": 31.15, "idempotency_key": "b-2"},
        {"channel": "home_code", "description": "楼道灯坏了", "idempotency_key": "b-3",
         "home_code": tiny.entrances["S2N1C2"].home_code},
    ]
    first = post(client, f"{URL}/batch", {"cases": items}, **auth)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["created"] == 3 and [c["created"] for c in body["cases"]] == [True] * 3
    assert body["cases"][1]["category"] == "06010"  # routing named it
    assert body["cases"][2]["compound"] == tiny.compounds["S2N1C2"].code
    assert Case.objects.count() == 3
    assert all(c.events.filter(action="route").count() == 1 for c in Case.objects.all())
    again = post(client, f"{URL}/batch", {"cases": items}, **auth).json()
    assert again["created"] == 0 and [c["number"] for c in again["cases"]] == [
        c["number"] for c in body["cases"]]
    assert Case.objects.count() == 3


def test_a_later_item_of_a_batch_lists_an_earlier_one_as_a_possible_duplicate(client, tiny,
                                                                              token):
    # Given a batch holding the same report twice (two callers), and one far away
    items = [{**BODY, "idempotency_key": "d-1"},
             {**BODY, "lng": 121.525, "idempotency_key": "d-2"},
             {**BODY, "idempotency_key": "d-3"}]
    res = post(client, f"{URL}/batch", {"cases": items}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 200, res.content
    numbers = [c["number"] for c in res.json()["cases"]]
    # Then the repeat's routing names the first by its final number, and only the first
    dups = {c.idempotency_key: c.events.get(action="route").payload["possible_duplicates"]
            for c in Case.objects.all()}
    assert dups["d-1"] == [] and dups["d-2"] == []
    assert [d["number"] for d in dups["d-3"]] == [numbers[0]]
    assert Case.objects.get(idempotency_key="d-1").number == numbers[0]
    assert "同一类别" in "".join(dups["d-3"][0]["reasons"])


@pytest.mark.django_db(transaction=True)
def test_a_batch_racing_a_retry_of_one_of_its_items_opens_that_item_once(
        client, tiny, token, monkeypatch):
    import threading

    from django.db import connection, connections

    from jiayuan.cases.services import intake

    if connection.vendor != "postgresql":
        pytest.skip("ids drawn up front, and the race, need PostgreSQL")
    write = intake._Pending.write
    raced: list[str] = []

    def write_after_a_racer(self):
        if not raced:
            # Another request opens item r-2 and commits while this batch is being decided.
            def racer():
                try:
                    case, _ = open_case(channel="sensor", description="烟感告警：3号楼2单元",
                                        lng=121.425, lat=31.15, idempotency_key="r-2")
                    raced.append(case.number)
                finally:
                    connections.close_all()
            t = threading.Thread(target=racer)
            t.start()
            t.join()
        write(self)

    monkeypatch.setattr(intake._Pending, "write", write_after_a_racer)
    items = [{**BODY, "idempotency_key": f"r-{i}"} for i in (1, 2, 3)]
    res = post(client, f"{URL}/batch", {"cases": items}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 200, res.content
    body = res.json()
    # The batch ran again: r-2 answers the racer's case, the others are new, nothing twice.
    assert [c["created"] for c in body["cases"]] == [True, False, True]
    assert body["cases"][1]["number"] == raced[0]
    assert Case.objects.filter(idempotency_key__startswith="r-").count() == 3


def test_one_bad_item_refuses_the_whole_batch_with_its_index(client, tiny, token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    items = [{**BODY, "idempotency_key": "ok-1"},
             {**BODY, "category": "99999", "idempotency_key": "bad-1"},
             {**BODY, "lng": 500, "idempotency_key": "bad-2"}]
    res = post(client, f"{URL}/batch", {"cases": items}, **auth)
    assert res.status_code == 422
    error = res.json()["error"]
    assert error["code"] == "invalid" and "未创建任何工单" in error["message"]
    assert [p["index"] for p in error["details"]["items"]] == [1, 2]
    assert not Case.objects.exists()


@pytest.mark.parametrize("body", [{"cases": []}, {"cases": [{"channel": "sensor"}]},
                                  {"cases": [{**BODY, "idempotency_key": "x"}] * 2}])
def test_an_empty_malformed_or_self_repeating_batch_is_refused(client, tiny, token, body):
    res = post(client, f"{URL}/batch", body, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid", res.content
    assert not Case.objects.exists()


def test_a_batch_needs_staff_or_a_token(client, tiny):
    res = post(client, f"{URL}/batch", {"cases": [BODY]})
    assert res.status_code in (401, 403)
    assert not Case.objects.exists()


def test_an_external_id_retry_without_a_key_also_creates_one_case(client, tiny, token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {**BODY, "channel": "hotline_12345", "external_id": "SH-1"}
    assert post(client, URL, body, **auth).status_code == 201
    assert post(client, URL, body, **auth).status_code == 200
    assert Case.objects.count() == 1


def test_a_home_code_places_the_case_at_its_entrance(client, tiny, people, login):
    entrance = tiny.entrances["S2N1C2"]
    res = post(login(people["staff"]), URL, {"channel": "home_code", "description": "楼道灯坏了",
                                              "home_code": entrance.home_code})
    assert res.status_code == 201
    assert Case.objects.get().entrance == entrance


def test_an_address_without_position_is_matched_to_a_compound(client, tiny, token):
    res = post(client, URL, {"channel": "hotline_12345", "description": "楼道里堆满了杂物",
                             "address": "S1N2C1小区5号楼"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 201 and res.json()["compound"] == tiny.compounds["S1N2C1"].code


@pytest.mark.parametrize("change,status,code", [
    ({"description": ""}, 422, "invalid"),
    ({"channel": "fax"}, 422, "invalid"),
    ({"category": "99999"}, 422, "invalid"),
    ({"lng": 200}, 422, "invalid_coordinates"),
    ({"lng": "abc"}, 422, "invalid_coordinates"),
    ({"home_code": "no-such-code", "lng": None, "lat": None}, 422, "invalid"),
    ({"reported_at": "2026-11-16T10:00:00"}, 422, "invalid"),
    ({"reported_at": "2999-01-01T10:00:00+08:00"}, 422, "invalid"),
    ({"lat": None, "lng": None, "description": None}, 422, "invalid"),
])
def test_malformed_intake_is_refused_with_the_error_format_and_creates_nothing(
        client, tiny, token, change, status, code):
    res = post(client, URL, {**BODY, **change}, HTTP_AUTHORIZATION=f"Bearer {token}",
               HTTP_IDEMPOTENCY_KEY="k1")
    assert res.status_code == status
    assert res.json()["error"]["code"] == code and res.json()["error"]["message"]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_intake_needs_staff_or_a_token(client, tiny, people, login):
    assert post(client, URL, BODY).status_code == 401
    res = post(login(people["resident"]), URL, BODY)
    assert res.status_code == 403 and res.json()["error"]["code"] == "forbidden"
    assert not Case.objects.exists()


# --- GET /cases ---------------------------------------------------------------------------------

def test_the_list_shows_only_the_callers_area(client, tiny, people, login):
    mine, theirs = in_s1n1(), in_s2n1()
    res = login(people["staff"]).get(URL)
    assert res.status_code == 200
    numbers = [c["number"] for c in res.json()["items"]]
    assert numbers == [mine.number] and theirs.number not in numbers


def test_the_list_filters_and_pages(client, tiny, people, login):
    old = in_s1n1(reported_at=dt.datetime(2026, 1, 5, 10, tzinfo=SH))
    cases = [in_s1n1(f"楼道里堆满了杂物{i}") for i in range(3)]
    c = login(people["staff"])
    res = c.get(URL, {"overdue": "true"}).json()
    assert [x["number"] for x in res["items"]] == [old.number] and res["items"][0]["overdue"]
    page = c.get(URL, {"limit": 2, "offset": 1}).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    assert page["items"][0]["number"] == cases[1].number
    assert c.get(URL, {"reported_to": "2026-01-31"}).json()["count"] == 1
    assert c.get(URL, {"state": "accepted"}).json()["count"] == 0
    assert c.get(URL, {"limit": 0}).status_code == 422


def test_lists_and_details_are_for_staff_only(client, tiny, people, login):
    case = in_s1n1()
    c = login(people["resident"])
    assert c.get(URL).status_code == 403
    assert c.get(f"{URL}/{case.number}").status_code == 403


# --- GET /cases/{number} ------------------------------------------------------------------------

def test_the_detail_masks_the_reporter_and_lists_the_history(client, tiny, people, login):
    case = in_s1n1(reporter_name="张三丰", reporter_phone="13812345678")
    res = login(people["staff"]).get(f"{URL}/{case.number}")
    body = res.json()
    assert res.status_code == 200
    assert (body["reporter_name"], body["reporter_phone"]) == ("张**", "138****5678")
    assert [e["action"] for e in body["events"]] == ["report", "route"]


def test_another_neighbourhoods_case_is_out_of_scope(client, tiny, people, login):
    theirs = in_s2n1()
    c = login(people["staff"])
    res = c.get(f"{URL}/{theirs.number}")
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
    assert c.get(f"{URL}/JY000").status_code == 404
    assert post(c, f"{URL}/{theirs.number}/actions", {"kind": "accept"}).status_code == 404
    assert c.get(f"{URL}/{theirs.number}/duplicates").status_code == 404
    assert Case.objects.get(pk=theirs.pk).state == "reported"


# --- POST /cases/{number}/actions ---------------------------------------------------------------

def test_staff_accept_and_dispatch_through_the_api(client, tiny, people, login):
    case = in_s1n1()
    c = login(people["staff"])
    station = f"station:JS{tiny.neighbourhoods['S1N1'].code}"
    assert post(c, f"{URL}/{case.number}/actions", {"kind": "accept"}).status_code == 200
    res = post(c, f"{URL}/{case.number}/actions", {"kind": "dispatch", "lead_unit": station})
    assert res.status_code == 200
    assert res.json()["state"] == "dispatched" and res.json()["lead_unit"] == station
    again = post(c, f"{URL}/{case.number}/actions", {"kind": "accept"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    missing = post(c, f"{URL}/{case.number}/actions",
                   {"kind": "request_extension", "reason": "等材料", "extension_amount": 2,
                    "extension_unit": "fortnights"})
    assert missing.status_code == 422
    assert Case.objects.get(pk=case.pk).seq == 4  # report, route, accept, dispatch


def test_merge_through_the_api_makes_the_reporter_follow_the_survivor(client, tiny, people,
                                                                      login):
    survivor = in_s1n1("楼下酒吧很吵")
    dup = in_s1n1("楼下酒吧太吵了")
    c = login(people["staff"])
    res = post(c, f"{URL}/{dup.number}/actions",
               {"kind": "merge", "into_case": survivor.number, "reason": "同一酒吧"})
    assert res.status_code == 200 and res.json()["merged_into"] == survivor.number
    detail = c.get(f"{URL}/{survivor.number}").json()
    assert detail["merged_cases"] == [dup.number]
    assert post(c, f"{URL}/{dup.number}/actions", {"kind": "merge"}).status_code == 422


def test_an_unknown_action_is_refused(client, tiny, people, login):
    case = in_s1n1()
    res = post(login(people["staff"]), f"{URL}/{case.number}/actions", {"kind": "teleport"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid"


# --- GET /cases/{number}/duplicates --------------------------------------------------------------

def test_duplicates_endpoint_ranks_with_reasons(client, tiny, people, login):
    earlier = in_s1n1("楼下酒吧每天晚上很吵", category_code="06028")
    case = in_s1n1("楼下酒吧晚上很吵", category_code="06028")
    in_s2n1("楼下酒吧很吵")  # elsewhere, outside the area
    res = login(people["staff"]).get(f"{URL}/{case.number}/duplicates")
    assert res.status_code == 200
    body = res.json()
    assert [d["number"] for d in body] == [earlier.number]
    assert "同一类别（噪声扰民）" in body[0]["reasons"] and 0 < body[0]["score"] <= 1
