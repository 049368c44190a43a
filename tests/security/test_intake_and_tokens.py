"""Trust at case intake and in the staff API's authentication (issue #12, items 1, 2, 8, 11).

- An idempotency key or a real-world id (a 12345 work-order number) never hands one caller
  the case, number or tracking token another caller opened; a replay with another body is 409.
- A Bearer token is judged alone: invalid or revoked is 401, even with a logged-in session;
  opening cases through the staff API or the video webhook is for staff roles only.
- A home-code report stays at its entrance: a browser position far away is refused.
- Edges: routing's possible duplicates name only cases the reader may see, and the intake
  answer never names the compound of a point outside the caller's area.
"""

from __future__ import annotations

import json

import pytest

from jiayuan.accounts.services import issue_token
from jiayuan.cases.models import Case
from jiayuan.cases.services import open_case
from jiayuan.cases.services.routing import clear_caches

URL = "/api/v1/cases/cases"
VIDEO = "/api/v1/sensors/video/detections"
IN_S1N1 = {"lng": 121.425, "lat": 31.15}  # compound S1N1C1
IN_S2N1 = {"lng": 121.525, "lat": 31.15}  # compound S2N1C1
BODY = {"channel": "hotline_12345", "description": "楼道里堆满了杂物，影响通行", **IN_S1N1}


@pytest.fixture(autouse=True)
def no_model(settings, tmp_path):
    settings.JIAYUAN = {**settings.JIAYUAN, "CLASSIFIER_PATH": str(tmp_path / "none.joblib")}
    clear_caches()


@pytest.fixture
def people(tiny, make_user):
    return {
        "a": make_user("staff-a", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]),
        "b": make_user("staff-b", "neighbourhood_staff", tiny.neighbourhoods["S2N1"]),
        "hub": make_user("hub", "duty_officer", tiny.district),
        "resident": make_user("resident", "resident"),
        "property": make_user("property", "property_company", tiny.compounds["S1N1C1"]),
    }


def post(client, url, body, token=None, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def bearer(user):
    return issue_token(user=user, name="test")


# --- 1. Case takeover through intake ------------------------------------------------------

def test_another_callers_idempotency_key_opens_a_new_case_never_theirs(client, people):
    mine = post(client, URL, BODY, bearer(people["a"]), HTTP_IDEMPOTENCY_KEY="wo-1")
    assert mine.status_code == 201
    theirs = post(client, URL, BODY, bearer(people["hub"]), HTTP_IDEMPOTENCY_KEY="wo-1")
    assert theirs.status_code == 201, theirs.content
    assert theirs.json()["number"] != mine.json()["number"]
    assert mine.json()["tracking_token"] not in theirs.content.decode()
    assert Case.objects.count() == 2


@pytest.mark.parametrize("key", ["sensors.alarm:42", "video:cam-7-0001"])
def test_a_guessable_internal_key_does_not_return_the_platforms_case(client, tiny, people,
                                                                     key):
    internal, _ = open_case(channel="sensor", description="烟感告警：1号楼1单元",
                            idempotency_key=key, **IN_S1N1)
    res = post(client, URL, BODY, bearer(people["a"]), HTTP_IDEMPOTENCY_KEY=key)
    assert res.status_code == 201
    assert internal.number not in res.content.decode()
    assert internal.tracking_token not in res.content.decode()


def test_a_replay_of_a_key_with_a_different_body_is_refused_and_creates_nothing(client, people):
    token = bearer(people["a"])
    first = post(client, URL, BODY, token, HTTP_IDEMPOTENCY_KEY="wo-2")
    assert first.status_code == 201
    again = post(client, URL, BODY, token, HTTP_IDEMPOTENCY_KEY="wo-2")
    assert again.status_code == 200 and again.json() == first.json()
    other = post(client, URL, {**BODY, "description": "别的事情：路灯不亮"}, token,
                 HTTP_IDEMPOTENCY_KEY="wo-2")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert first.json()["tracking_token"] not in other.content.decode()
    assert Case.objects.count() == 1


def test_another_callers_12345_work_order_id_is_refused_without_its_case(client, people):
    body = {**BODY, "external_id": "SH12345-20261207-0001"}
    first = post(client, URL, body, bearer(people["a"]))
    assert first.status_code == 201
    # The same caller retrying is answered with its case …
    assert post(client, URL, body, bearer(people["a"])).json() == first.json()
    # … another caller sending the same work-order id gets neither its number nor its token.
    res = post(client, URL, body, bearer(people["hub"]))
    assert res.status_code == 409 and res.json()["error"]["code"] == "idempotency_conflict"
    text = res.content.decode()
    assert first.json()["number"] not in text and first.json()["tracking_token"] not in text
    assert Case.objects.count() == 1


def test_a_batch_never_returns_another_callers_case_or_token(client, people):
    first = post(client, URL, BODY, bearer(people["a"]), HTTP_IDEMPOTENCY_KEY="b-1")
    taken = first.json()
    token = bearer(people["hub"])
    res = post(client, f"{URL}/batch", {"cases": [{**BODY, "idempotency_key": "b-1"}]}, token)
    assert res.status_code == 200, res.content
    [item] = res.json()["cases"]
    assert item["created"] is True and item["number"] != taken["number"]
    assert taken["tracking_token"] not in res.content.decode()
    # A batch carrying another caller's work-order id is refused whole, naming no case.
    post(client, URL, {**BODY, "external_id": "SH-9"}, bearer(people["a"]))
    before = Case.objects.count()
    res = post(client, f"{URL}/batch", {"cases": [{**BODY, "idempotency_key": "b-2"},
                                                  {**BODY, "external_id": "SH-9"}]}, token)
    assert res.status_code == 422
    assert res.json()["error"]["details"]["items"][0]["code"] == "idempotency_conflict"
    assert Case.objects.count() == before
    # The caller's own batch retry is still answered with its own cases.
    again = post(client, f"{URL}/batch", {"cases": [{**BODY, "idempotency_key": "b-1"}]}, token)
    assert again.json()["cases"][0]["number"] == item["number"]
    assert again.json()["cases"][0]["created"] is False


# --- 2. Bearer tokens and the staff-only check -------------------------------------------

def test_an_invalid_bearer_token_is_401_even_with_a_logged_in_session(client, people, login):
    login(people["resident"])
    res = post(client, URL, BODY, "jy_not-a-real-token")
    assert res.status_code == 401 and res.json()["error"]["code"] == "invalid_token"
    login(people["a"])  # a staff session does not rescue a bad token either
    assert post(client, URL, BODY, "jy_not-a-real-token").status_code == 401
    assert Case.objects.count() == 0


def test_a_revoked_token_is_401_even_with_a_staff_session(client, people, login):
    from django.utils import timezone

    from jiayuan.accounts.models import ApiToken

    token = bearer(people["a"])
    ApiToken.objects.update(revoked_at=timezone.now())
    login(people["a"])
    assert post(client, URL, BODY, token).status_code == 401
    assert Case.objects.count() == 0


def test_a_valid_token_of_a_resident_does_not_open_cases_through_the_staff_api(client, people):
    res = post(client, URL, BODY, bearer(people["resident"]))
    assert res.status_code == 403 and res.json()["error"]["code"] == "forbidden"
    assert post(client, f"{URL}/batch", {"cases": [BODY]},
                bearer(people["resident"])).status_code == 403
    assert Case.objects.count() == 0


def _camera(tiny):
    from jiayuan.sensors.tests.django_support import make_device

    return make_device(tiny, "CAM-1", "video_camera", address="测试路1号")


DETECTION = {"detection_id": "det-1", "camera": "CAM-1", "category": "fire_lane_blocked",
             "confidence": 0.95}


def test_the_video_webhook_refuses_a_bad_token_and_a_non_staff_token(client, tiny, people,
                                                                     login):
    _camera(tiny)
    login(people["property"])  # a session whose area holds the camera, with a junk token
    assert post(client, VIDEO, DETECTION, "jy_junk").status_code == 401
    client.logout()
    res = post(client, VIDEO, DETECTION, bearer(people["property"]))
    assert res.status_code == 403
    assert not Case.objects.filter(channel="video_ai").exists()
    assert post(client, VIDEO, DETECTION, bearer(people["a"])).status_code == 201


def test_another_callers_video_detection_id_is_refused_without_its_case(client, tiny, people):
    _camera(tiny)
    first = post(client, VIDEO, DETECTION, bearer(people["a"]))
    assert first.status_code == 201
    res = post(client, VIDEO, DETECTION, bearer(people["hub"]))
    assert res.status_code == 409 and first.json()["case"] not in res.content.decode()


# --- 8. A home code binds the place --------------------------------------------------------

def test_a_home_code_report_is_not_moved_into_another_neighbourhood_by_its_position(client,
                                                                                      tiny):
    entrance = tiny.entrances["S1N1C1"]
    res = client.post(f"/h/{entrance.home_code}/report/", {
        "description": "楼道灯坏了", "category": "other", "idempotency_key": "k" * 20,
        "lng": "121.525", "lat": "31.25"})  # in neighbourhood S2N2, kilometres away
    assert res.status_code == 400
    assert not Case.objects.exclude(neighbourhood=tiny.neighbourhoods["S1N1"]).exists()
    assert Case.objects.count() == 0
    # Sent again without the position (the form comes back without it), it is placed at
    # the entrance.
    res = client.post(f"/h/{entrance.home_code}/report/", {
        "description": "楼道灯坏了", "category": "other", "idempotency_key": "k" * 20})
    assert res.status_code == 302
    case = Case.objects.get()
    assert (case.entrance, case.compound) == (entrance, tiny.compounds["S1N1C1"])


def test_an_api_home_code_with_a_far_position_is_refused(client, tiny, people):
    body = {"channel": "home_code", "description": "楼道灯坏了",
            "home_code": tiny.entrances["S1N1C1"].home_code, **IN_S2N1}
    res = post(client, URL, body, bearer(people["hub"]))
    assert res.status_code == 422 and "position" in res.json()["error"]["details"]
    assert Case.objects.count() == 0


# --- 11. Leaks at the edges ----------------------------------------------------------------

def test_possible_duplicates_name_only_cases_in_the_readers_area(client, tiny, people, login):
    # Two reports of one problem 95 m apart, either side of the S1/S2 line.
    text = "路口井盖缺失，有人掉下去的危险"
    theirs, _ = open_case(channel="grid_patrol", description=text, lng=121.5005, lat=31.15)
    mine, _ = open_case(channel="grid_patrol", description=text, lng=121.4995, lat=31.15)
    assert theirs.neighbourhood == tiny.neighbourhoods["S2N1"]
    assert mine.neighbourhood == tiny.neighbourhoods["S1N1"]
    stored = mine.events.get(action="route").payload["possible_duplicates"]
    assert [d["number"] for d in stored] == [theirs.number]  # the district-wide suggestion
    login(people["a"])
    res = client.get(f"{URL}/{mine.number}")
    assert res.status_code == 200
    route = next(e for e in res.json()["events"] if e["action"] == "route")
    assert route["payload"]["possible_duplicates"] == []
    assert theirs.number not in res.content.decode()
    # A reader whose area holds both still sees the suggestion.
    login(people["hub"])
    route = next(e for e in client.get(f"{URL}/{mine.number}").json()["events"]
                 if e["action"] == "route")
    assert [d["number"] for d in route["payload"]["possible_duplicates"]] == [theirs.number]


def test_intake_does_not_tell_the_compound_of_a_point_outside_the_callers_area(client, tiny,
                                                                                people):
    res = post(client, URL, {**BODY, **IN_S2N1}, bearer(people["a"]))
    assert res.status_code == 422 and res.json()["error"]["code"] == "place_out_of_area"
    text = res.content.decode()
    assert tiny.compounds["S2N1C1"].code not in text
    assert tiny.neighbourhoods["S2N1"].code not in text
    assert Case.objects.count() == 0
    # Inside the area the answer names the compound as before.
    ok = post(client, URL, BODY, bearer(people["a"]))
    assert ok.status_code == 201 and ok.json()["compound"] == tiny.compounds["S1N1C1"].code
