"""Staff of one neighbourhood can neither read nor change another's data, by page or API."""

from __future__ import annotations

import json

import pytest

from jiayuan.accounts.scope import AreaScope, ancestors_of, scope_for
from jiayuan.registry.models import Compound, RegistryEvent


def test_scope_collapses_nested_grants():
    scope = AreaScope.of("a/b/", "a/", "c/d/")
    assert scope.paths == ("a/", "c/d/")
    assert scope.covers("a/b/x/") and scope.covers("c/d/") and not scope.covers("c/")
    assert scope.sees("c/") and not scope.sees("e/")


def test_ancestors_of_lists_proper_ancestors():
    assert ancestors_of("1/2/3/") == ["1/", "1/2/"]


def test_prefix_codes_do_not_leak_into_siblings():
    # "310115001/" must not cover "3101150011/" even though the code is a string prefix.
    assert not AreaScope.of("310115/310115001/").covers("310115/3101150011/")


def test_neighbourhood_staff_see_only_their_compounds(tiny, make_user, login):
    staff = make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client = login(staff)
    res = client.get("/api/v1/registry/compounds")
    assert res.status_code == 200
    codes = {c["code"] for c in res.json()["items"]}
    assert codes == {tiny.compounds["S1N1C1"].code, tiny.compounds["S1N1C2"].code}


def test_reading_another_neighbourhoods_compound_is_refused(tiny, make_user, login):
    staff = make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client = login(staff)
    other = tiny.compounds["S2N1C1"]
    res = client.get(f"/api/v1/registry/compounds/{other.code}")
    assert res.status_code == 404
    assert res.json()["error"]["code"] == "not_found"


def test_changing_another_neighbourhoods_compound_is_refused_and_changes_nothing(
    tiny, make_user, login
):
    staff = make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client = login(staff)
    other = tiny.compounds["S2N1C1"]
    res = client.patch(f"/api/v1/registry/compounds/{other.code}",
                       data=json.dumps({"households": 999}), content_type="application/json")
    assert res.status_code == 404
    other.refresh_from_db()
    assert other.households == 100
    assert not RegistryEvent.objects.exists()


def test_staff_can_change_their_own_compound_and_it_is_recorded(tiny, make_user, login):
    staff = make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client = login(staff)
    own = tiny.compounds["S1N1C1"]
    res = client.patch(f"/api/v1/registry/compounds/{own.code}",
                       data=json.dumps({"households": 321, "note": "普查更正"}),
                       content_type="application/json")
    assert res.status_code == 200, res.content
    own.refresh_from_db()
    assert own.households == 321
    event = RegistryEvent.objects.get()
    assert event.actor == staff and event.summary["before"] == {"households": 100}


def test_bad_values_are_refused_with_field_errors(tiny, make_user, login):
    staff = make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client = login(staff)
    own = tiny.compounds["S1N1C1"]
    res = client.patch(f"/api/v1/registry/compounds/{own.code}",
                       data=json.dumps({"compound_type": "castle"}),
                       content_type="application/json")
    assert res.status_code == 422
    assert "compound_type" in res.json()["error"]["details"]
    own.refresh_from_db()
    assert own.compound_type == "commodity"


def test_department_staff_may_not_edit_registry(tiny, make_user, login):
    staff = make_user("ps1", "department_staff", tiny.subdistricts["S1"],
                      department=tiny.departments["S1"])
    client = login(staff)
    own = tiny.compounds["S1N1C1"]
    res = client.patch(f"/api/v1/registry/compounds/{own.code}",
                       data=json.dumps({"households": 1}), content_type="application/json")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "forbidden"


def test_district_analyst_sees_the_whole_district(tiny, make_user, login):
    analyst = make_user("ana", "district_analyst")
    assert scope_for(analyst).everywhere
    res = login(analyst).get("/api/v1/registry/compounds?limit=500")
    assert res.json()["count"] == Compound.objects.count() == 8


def test_anonymous_api_calls_are_refused(tiny, client):
    res = client.get("/api/v1/registry/compounds")
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "unauthenticated"


def test_api_token_authenticates_and_keeps_scope(tiny, make_user, client):
    from jiayuan.accounts.services import issue_token

    staff = make_user("n22", "neighbourhood_staff", tiny.neighbourhoods["S2N2"])
    token = issue_token(user=staff, name="test")
    res = client.get("/api/v1/registry/compounds", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 200
    assert {c["code"] for c in res.json()["items"]} == {
        tiny.compounds["S2N2C1"].code, tiny.compounds["S2N2C2"].code}
    bad = client.get("/api/v1/registry/compounds", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 401


def test_a_tokens_last_use_is_kept_to_the_minute_not_written_per_request(tiny, make_user,
                                                                          client):
    import datetime as dt

    from django.utils import timezone

    from jiayuan.accounts.models import ApiToken
    from jiayuan.accounts.services import issue_token

    staff = make_user("n22", "neighbourhood_staff", tiny.neighbourhoods["S2N2"])
    token = issue_token(user=staff, name="test")
    row = ApiToken.objects.get(user=staff)
    assert row.last_used_at is None

    def use():
        res = client.get("/api/v1/registry/compounds", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert res.status_code == 200
        return ApiToken.objects.get(pk=row.pk).last_used_at

    first = use()
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=30)
    assert use() == first  # the next request within the minute writes nothing
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    assert use() > first  # older than a minute: written again


@pytest.mark.parametrize("role", ["neighbourhood_staff", "duty_officer", "department_staff"])
def test_staff_roles_need_an_area(db, role):
    from jiayuan.accounts.services import create_user
    from jiayuan.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        create_user(username="x", password="correct-horse-battery-9", role=role)
