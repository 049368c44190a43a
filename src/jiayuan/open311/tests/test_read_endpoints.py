"""GET endpoints in JSON and XML: discovery, services, definitions, requests, tokens."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jiayuan.cases.models import Case
from jiayuan.cases.services import open_case

from .conftest import INSIDE, PLAIN_KEY, body, error_descriptions, post_form

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def reported(tiny, client):
    """Three public cases (one closed, one in another service) and two that are not public."""
    def make(code, text, channel="open311", **kw):
        case, _ = open_case(channel=channel, category_code=code, description=text,
                            lng=121.425, lat=31.15, **kw)
        return case
    road = make("06013", "道路破损大坑", address="测试路1号")
    noise = make("06028", "夜间施工噪声")
    closed = make("06013", "人行道砖松动")
    Case.objects.filter(pk=closed.pk).update(state="closed", closed_at=timezone.now())
    sensor = make("06013", "烟感告警：独居老人家中", channel="sensor")
    hotline = make("06013", "来电人王某某 13900000000 反映", channel="hotline_12345")
    return {"road": road, "noise": noise, "closed": closed, "sensor": sensor,
            "hotline": hotline}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_v2_endpoint_and_both_formats(client, fmt):
    r = client.get(f"/open311/discovery.{fmt}")
    assert r.status_code == 200
    data = body(r)
    if fmt == "json":
        (endpoint,) = data["endpoints"]
        assert endpoint["url"].endswith("/open311/v2")
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert set(endpoint["formats"]) == {"text/xml", "application/json"}
        assert endpoint["type"] == "production"
    else:
        assert r["Content-Type"] == "text/xml; charset=utf-8"
        assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        formats = [f.text for f in data.findall("endpoints/endpoint/formats/format")]
        assert formats == ["text/xml", "application/json"]


def test_discovery_says_test_in_demo_mode(client, settings):
    settings.DEMO_MODE = True
    assert body(client.get("/open311/discovery.json"))["endpoints"][0]["type"] == "test"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_list_active_categories_with_metadata_when_attributes_exist(db, client, fmt):
    from django.utils import timezone

    from jiayuan.cases.models import Category

    Category.objects.filter(code="06001").update(active=False, updated_at=timezone.now())
    r = client.get(f"/open311/v2/services.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        services = {s["service_code"]: s for s in body(r)}
        road = services["06013"]
        assert (road["service_name"], road["metadata"], road["type"], road["group"]) == (
            "道路破损", True, "realtime", "市容环境类")
        assert "坑洼" in road["keywords"]
        assert services["06010"]["metadata"] is False
    else:
        services = {s.findtext("service_code"): s for s in body(r).findall("service")}
        assert services["06013"].findtext("metadata") == "true"
        assert services["06010"].findtext("metadata") == "false"
    assert "06001" not in services


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_lists_attributes_in_order_with_values(db, client, fmt):
    r = client.get(f"/open311/v2/services/06028.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        d = body(r)
        assert d["service_code"] == "06028"
        assert [a["code"] for a in d["attributes"]] == ["noise_source", "noise_started_at"]
        first = d["attributes"][0]
        assert (first["datatype"], first["required"], first["order"]) == (
            "multivaluelist", True, 1)
        assert {"key": "shop", "name": "商铺"} in first["values"]
    else:
        attrs = body(r).findall("attributes/attribute")
        assert [a.findtext("code") for a in attrs] == ["noise_source", "noise_started_at"]
        assert "shop" in [v.findtext("key") for v in attrs[0].findall("values/value")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_of_unknown_service_is_404_in_the_spec_format(db, client, fmt):
    r = client.get(f"/open311/v2/services/NOPE.{fmt}")
    assert r.status_code == 404
    assert "NOPE" in error_descriptions(r)[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_list_only_public_channels_with_open_closed_status(client, reported, fmt):
    r = client.get(f"/open311/v2/requests.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        rows = {x["service_request_id"]: x for x in body(r)}
    else:
        rows = {x.findtext("service_request_id"): {c.tag: c.text for c in x}
                for x in body(r).findall("request")}
    assert set(rows) == {reported[k].number for k in ("road", "noise", "closed")}
    assert rows[reported["closed"].number]["status"] == "closed"
    road = rows[reported["road"].number]
    assert road["status"] == "open" and road["status_notes"] == "已上报"
    assert road["address"] == "测试路1号"
    assert road["requested_datetime"].endswith("+08:00")
    assert float(road["lat"]) == 31.15 and float(road["long"]) == 121.425


def test_requests_filter_by_code_status_and_ids(client, reported):
    def ids(**params):
        return {x["service_request_id"]
                for x in body(client.get("/open311/v2/requests.json", params))}
    road, noise, closed = (reported[k].number for k in ("road", "noise", "closed"))
    assert ids(service_code="06028") == {noise}
    assert ids(status="closed") == {closed}
    assert ids(status="open", service_code="06013") == {road}
    assert ids(status="open,closed") == {road, noise, closed}
    # service_request_id overrides every other filter, even a window that excludes it.
    assert ids(service_request_id=f"{road},{closed}", status="open",
               end_date="2001-01-01T00:00:00Z") == {road, closed}
    # Not public: never returned, even asked for by number.
    assert ids(service_request_id=reported["sensor"].number) == set()


def test_requests_default_to_the_last_90_days_and_honour_the_window(client, reported):
    old = reported["noise"]
    Case.objects.filter(pk=old.pk).update(reported_at=timezone.now() - dt.timedelta(days=100))

    def ids(**params):
        return {x["service_request_id"]
                for x in body(client.get("/open311/v2/requests.json", params))}
    assert old.number not in ids()
    start = (timezone.now() - dt.timedelta(days=120)).astimezone(SH)
    assert ids(start_date=start.isoformat(), end_date=(start + dt.timedelta(days=30))
               .isoformat()) == {old.number}


@pytest.mark.parametrize(("params", "fragment"), [
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90"),
    ({"start_date": "2026-01-01T00:00:00"}, "start_date"),
    ({"status": "pending"}, "status"),
    ({"page": "0"}, "page"),
    ({"page_size": "5000"}, "page_size"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_search_parameters_are_400_in_the_spec_format(db, client, params, fragment, fmt):
    r = client.get(f"/open311/v2/requests.{fmt}", params)
    assert r.status_code == 400
    assert fragment in error_descriptions(r)[0]


def test_pages_follow_one_another_with_a_next_link(client, reported):
    first = client.get("/open311/v2/requests.json", {"page_size": "2"})
    assert len(body(first)) == 2 and 'rel="next"' in first["Link"]
    second = client.get("/open311/v2/requests.json", {"page_size": "2", "page": "2"})
    assert len(body(second)) == 1 and not second.has_header("Link")
    seen = {x["service_request_id"] for x in body(first) + body(second)}
    assert len(seen) == 3
    assert len(body(client.get("/open311/v2/requests.json", {"max_requests": "1"}))) == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_by_id_is_a_one_item_list(client, reported, fmt):
    number = reported["road"].number
    r = client.get(f"/open311/v2/requests/{number}.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        (item,) = body(r)
        assert item["service_request_id"] == number and item["service_code"] == "06013"
    else:
        (item,) = body(r).findall("request")
        assert item.findtext("service_request_id") == number


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_or_private_request_id_is_404(client, reported, fmt):
    for number in ("JY00000000000000", reported["hotline"].number):
        r = client.get(f"/open311/v2/requests/{number}.{fmt}")
        assert r.status_code == 404
        assert number in error_descriptions(r)[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_token_gives_the_service_request_id(client, reported, fmt):
    case = reported["road"]
    r = client.get(f"/open311/v2/tokens/{case.tracking_token}.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        assert body(r) == [{"service_request_id": case.number, "token": case.tracking_token}]
    else:
        assert body(r).findtext("request/service_request_id") == case.number
    missing = client.get(f"/open311/v2/tokens/not-a-token.{fmt}")
    assert missing.status_code == 404 and error_descriptions(missing)


def test_public_get_carries_no_personal_data(client, tiny):
    form = {"api_key": PLAIN_KEY, "service_code": "06010", "description": "垃圾堆在路口",
            "first_name": "晓明", "last_name": "欧阳", "phone": "13812345678",
            "email": "ouyang@example.cn", "device_id": "dev-778899", "account_id": "acc-5566",
            **INSIDE}
    number = body(post_form(client, "json", form))[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.reporter_name == "欧阳晓明" and case.reporter_phone == "13812345678"
    for url in (f"/open311/v2/requests/{number}", "/open311/v2/requests"):
        for fmt in ("json", "xml"):
            text = client.get(f"{url}.{fmt}").content.decode()
            assert number in text
            for secret in ("晓明", "欧阳", "13812345678", "ouyang@example.cn", "dev-778899",
                           "acc-5566", case.tracking_token, PLAIN_KEY):
                assert secret not in text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_path_and_wrong_method_answer_in_the_spec_format(db, client, fmt):
    r = client.get(f"/open311/v2/nothing.{fmt}")
    assert r.status_code == 404 and error_descriptions(r)
    r = client.post(f"/open311/v2/services.{fmt}")
    assert r.status_code == 405 and r["Allow"] == "GET" and error_descriptions(r)


def test_listing_costs_the_same_queries_for_few_or_many_requests(tiny, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = f"department:{tiny.departments['S1'].code}"

    def add(n):
        for i in range(n):
            case, _ = open_case(channel="open311", category_code="06013",
                                description=f"破损 {i}", lng=121.425, lat=31.15)
            Case.objects.filter(pk=case.pk).update(lead_unit=lead)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/open311/v2/requests.json").status_code == 200
        return len(ctx.captured_queries)
    add(2)
    few = queries()
    add(20)
    assert queries() == few
