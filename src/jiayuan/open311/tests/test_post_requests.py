"""POST Service Request: form-encoded, keyed, validated, idempotent; refusals create nothing."""

from __future__ import annotations

import pytest

from jiayuan.cases.models import Case, CaseEvent

from .conftest import HASHED_KEY, INSIDE, PLAIN_KEY, body, error_descriptions, post_form

GOOD = {"api_key": PLAIN_KEY, "service_code": "06013", "description": "人行道上有个大坑",
        "attribute[damage_size]": "medium", **INSIDE}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_opens_an_open311_case_and_answers_with_its_number(tiny, client, fmt):
    r = post_form(client, fmt, {**GOOD, "attribute[hazard]": "yes",
                                "media_url": "https://img.example.cn/a.jpg"})
    assert r.status_code == 200
    case = Case.objects.get()
    assert (case.channel, case.category.code, case.description) == (
        "open311", "06013", "人行道上有个大坑")
    assert case.compound == tiny.compounds["S1N1C1"]
    if fmt == "json":
        assert body(r) == [{"service_request_id": case.number,
                            "service_notice": body(r)[0]["service_notice"], "account_id": None}]
        assert "道路破损" in body(r)[0]["service_notice"]
    else:
        item = body(r).find("request")
        assert item.findtext("service_request_id") == case.number
        assert item.find("account_id") is not None and item.findtext("account_id") == ""
    details = CaseEvent.objects.get(case=case, seq=1).payload["open311"]
    assert details["attributes"] == {"damage_size": "medium", "hazard": "yes"}
    assert details["media_url"] == "https://img.example.cn/a.jpg"
    got = body(client.get(f"/open311/v2/requests/{case.number}.json"))[0]
    assert got["media_url"] == "https://img.example.cn/a.jpg"


def test_hashed_key_and_address_only_and_address_id_are_accepted(tiny, client):
    entrance = tiny.entrances["S1N1C1"]
    base = {k: v for k, v in GOOD.items() if k not in ("lat", "long")}
    r1 = post_form(client, "json", {**base, "api_key": HASHED_KEY, "address_string": "测试路1号"})
    r2 = post_form(client, "json", {**base, "address_id": entrance.code})
    assert (r1.status_code, r2.status_code) == (200, 200)
    by_address = Case.objects.get(number=body(r1)[0]["service_request_id"])
    by_entrance = Case.objects.get(number=body(r2)[0]["service_request_id"])
    assert by_address.address == "测试路1号" and by_address.lat is None
    assert by_entrance.entrance == entrance
    assert body(client.get(f"/open311/v2/requests/{by_entrance.number}.json"))[0][
        "address_id"] == entrance.code


def test_multivaluelist_attribute_accepts_the_bracket_form(tiny, client):
    form = [("api_key", PLAIN_KEY), ("service_code", "06028"), ("lat", "31.15"),
            ("long", "121.425"), ("attribute[noise_source][]", "shop"),
            ("attribute[noise_source][]", "traffic")]
    r = post_form(client, "json", form)
    assert r.status_code == 200
    case = Case.objects.get()
    assert case.description == "噪声扰民"  # the service name when no description is given
    payload = CaseEvent.objects.get(case=case, seq=1).payload["open311"]
    assert payload["attributes"] == {"noise_source": ["shop", "traffic"]}


REFUSALS = [
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "NOPE"}, 404, "NOPE"),
    ({"lat": "north"}, 400, "数字"),
    ({"lat": "31.15", "long": ""}, 400, "同时"),
    ({"lat": "30.0", "long": "120.0"}, 400, "辖区"),
    ({"lat": "", "long": ""}, 400, "位置"),
    ({"address_id": "NO-SUCH-DOOR"}, 400, "address_id"),
    ({"attribute[damage_size]": "huge"}, 400, "huge"),
    ({"attribute[damage_size]": ""}, 400, "damage_size"),
    ({"attribute[colour]": "red"}, 400, "colour"),
    ({"email": "not-an-email"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"phone": "call me maybe"}, 400, "phone"),
    ({"description": "长" * 2001}, 400, "description"),
    ({"api_key": ""}, 403, "api_key"),
    ({"api_key": "guessed-key"}, 403, "api_key"),
    ({"api_key": "demo-open311-key"}, 403, "演示"),
]


@pytest.mark.parametrize(("change", "status", "fragment"), REFUSALS)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_refused_post_answers_in_the_spec_format_and_creates_nothing(
        tiny, client, fmt, change, status, fragment):
    r = post_form(client, fmt, {**GOOD, **change})
    assert r.status_code == status
    assert any(fragment in d for d in error_descriptions(r))
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_every_problem_is_listed_at_once(tiny, client):
    r = post_form(client, "json", {**GOOD, "attribute[damage_size]": "huge",
                                   "email": "nope", "lat": "95"})
    assert r.status_code == 400
    assert len(error_descriptions(r)) == 3


def test_demo_key_is_valid_only_in_demo_mode(tiny, client, settings):
    settings.DEMO_MODE = True
    assert post_form(client, "json", {**GOOD, "api_key": "demo-open311-key"}).status_code == 200
    settings.DEMO_MODE = False
    assert post_form(client, "json", {**GOOD, "api_key": "demo-open311-key"}).status_code == 403
    assert Case.objects.count() == 1


def test_keys_come_from_the_environment_when_not_in_settings(tiny, client, settings,
                                                             monkeypatch):
    del settings.JIAYUAN_OPEN311_KEYS
    monkeypatch.setenv("JIAYUAN_OPEN311_KEYS", "env-key")
    assert post_form(client, "json", {**GOOD, "api_key": "env-key"}).status_code == 200
    assert post_form(client, "json", GOOD).status_code == 403


def test_idempotency_key_retry_returns_the_same_case_and_creates_one(tiny, client):
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = post_form(client, "json", GOOD, headers)
    again = post_form(client, "xml", GOOD, headers)
    assert first.status_code == again.status_code == 200
    assert Case.objects.count() == 1
    assert body(again).findtext("request/service_request_id") == body(first)[0][
        "service_request_id"]
    assert again["Idempotent-Replayed"] == "true"
    # Without the header a second post is a second case.
    post_form(client, "json", GOOD)
    assert Case.objects.count() == 2


def test_idempotency_key_is_scoped_to_the_api_key(tiny, client):
    headers = {"Idempotency-Key": "same-key"}
    post_form(client, "json", GOOD, headers)
    post_form(client, "json", {**GOOD, "api_key": HASHED_KEY}, headers)
    assert Case.objects.count() == 2


def test_idempotency_key_reused_for_another_service_is_refused(tiny, client):
    headers = {"Idempotency-Key": "k1"}
    post_form(client, "json", GOOD, headers)
    r = post_form(client, "json", {**GOOD, "service_code": "06010",
                                   "attribute[damage_size]": ""}, headers)
    assert r.status_code == 400 and "Idempotency-Key" in error_descriptions(r)[0]
    assert Case.objects.count() == 1


def test_posts_past_the_rate_limit_are_429_and_create_nothing(tiny, client, settings):
    settings.JIAYUAN_OPEN311_POSTS_PER_MINUTE = 2
    statuses = [post_form(client, "json", GOOD).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert Case.objects.count() == 2
