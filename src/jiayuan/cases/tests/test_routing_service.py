"""Routing at intake: table from the database or the shipped file, model or keywords, address."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jiayuan.cases.models import Case, CaseEvent, RoutingRule
from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.synthetic import generate
from jiayuan.cases.services import open_case
from jiayuan.cases.services.routing import (
    address_matcher,
    clear_caches,
    concrete_unit,
    current_rules,
    route_new_case,
)
from jiayuan.registry.models import Department, OperationsCentre
from jiayuan.registry.services import save_with_path

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_caches(settings, tmp_path):
    settings.JIAYUAN = {**settings.JIAYUAN, "CLASSIFIER_PATH": str(tmp_path / "none.joblib")}
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def units(tiny):
    s1 = tiny.subdistricts["S1"]
    cm = save_with_path(Department(code="CM1", name="第1城管中队", kind="city_management",
                                   district=tiny.district, subdistrict=s1))
    centre = save_with_path(OperationsCentre(code="OC1", name="第1街道城运中心",
                                             district=tiny.district, subdistrict=s1))
    return {"cm": cm, "centre": centre}


def test_keyword_suggestion_sets_category_tier_and_suggested_lead_without_dispatching(tiny, units):
    # Given a grid-patrol report of a car parked on the pavement, no category chosen
    case, _ = open_case(route=False, channel="grid_patrol", description="有辆小轿车一直停在人行道上，麻烦派人来看看",
                        entrance=tiny.entrances["S1N1C1"])
    # When it is routed with no model file and no database rules
    outcome = route_new_case(case)
    # Then keywords suggest 09009 and the shipped table sends it to the city-management squad
    # (the traffic police, lead in the table, do not exist here)
    case.refresh_from_db()
    assert outcome.source == "keywords" and case.routing_source == "keywords"
    assert case.category.code == "09009"
    assert case.tier == "cross_department"
    assert case.state == "reported" and case.lead_unit == ""
    event = CaseEvent.objects.get(case=case, action="route")
    assert event.seq == 2 and case.seq == 2 and event.actor_role == "system"
    assert event.payload["rule_id"] == "D-09009"
    assert event.payload["suggested_assisting_units"] == ["department:CM1"]
    assert event.payload["suggested_lead_unit"] is None


def test_an_unrecognised_text_goes_to_triage_and_keeps_no_category(tiny):
    case, _ = open_case(route=False, channel="hotline_12345", description="嗯嗯，那个，就是那个事情",
                        entrance=tiny.entrances["S1N1C1"])
    outcome = route_new_case(case)
    case.refresh_from_db()
    assert outcome.source == "triage" and outcome.triage_reason == "unsure"
    assert case.routing_source == "triage" and case.category is None
    assert CaseEvent.objects.get(case=case, action="route").reason == "转人工分拨"


def test_a_database_rule_overrides_the_shipped_table_and_resolves_concrete_units(tiny, units):
    RoutingRule.objects.create(category_prefix="06", path_prefix=tiny.subdistricts["S1"].path,
                               tier="neighbourhood", lead_unit="role:joint_station",
                               assisting_units=["department:CM1"])
    assert [r.rule_id for r in current_rules()] == [
        f"db-{RoutingRule.objects.get().pk}"]
    case, _ = open_case(route=False, channel="home_code", description="楼道里堆满了杂物", category_code="06036",
                        entrance=tiny.entrances["S1N1C1"])
    outcome = route_new_case(case)
    case.refresh_from_db()
    # A category the reporter chose is kept and the source says "rule", fully confident.
    assert (outcome.source, outcome.confidence) == ("rule", 1.0)
    assert outcome.lead_unit == f"station:JS{tiny.neighbourhoods['S1N1'].code}"
    assert outcome.assisting_units == ("department:CM1",)
    assert case.tier == "neighbourhood"


def test_a_category_without_any_rule_goes_to_triage_with_reason_no_route(tiny):
    RoutingRule.objects.create(category_prefix="09", tier="cross_department",
                               lead_unit="role:operations_centre")
    case, _ = open_case(route=False, channel="home_code", description="楼道里堆满了杂物", category_code="06036",
                        entrance=tiny.entrances["S1N1C1"])
    outcome = route_new_case(case)
    assert (outcome.source, outcome.triage_reason) == ("triage", "no_route")
    case.refresh_from_db()
    assert case.category.code == "06036"  # a chosen category is never dropped


def test_a_trained_model_file_is_used_when_present(tiny, settings, tmp_path):
    rows = generate(1500, seed=3)
    model = TextClassifier().fit([r.text for r in rows], [r.label for r in rows])
    path = model.save(tmp_path / "model.joblib")
    settings.JIAYUAN = {**settings.JIAYUAN, "CLASSIFIER_PATH": str(path)}
    case, _ = open_case(route=False, channel="hotline_12345",
                        description="市民来电反映：楼下酒吧每天晚上很吵，吵得睡不着",
                        entrance=tiny.entrances["S1N1C1"])
    outcome = route_new_case(case)
    assert outcome.source == "model" and outcome.category == "06028"
    assert 0.6 <= outcome.confidence <= 1.0
    assert outcome.alternatives[0][0] == "06028"


def test_address_text_without_a_position_places_the_case_at_the_compound(tiny):
    case, _ = open_case(route=False, channel="hotline_12345", description="楼道里堆满了杂物",
                        address="上海市浦东新区S2N1C2小区3号楼")
    assert case.compound is None
    outcome = route_new_case(case)
    case.refresh_from_db()
    compound = tiny.compounds["S2N1C2"]
    assert outcome.address_match["status"] == "matched"
    assert case.compound == compound and case.path == compound.path
    assert case.neighbourhood == tiny.neighbourhoods["S2N1"]


def test_the_address_matcher_is_rebuilt_when_compounds_change(tiny):
    first = address_matcher()
    assert address_matcher() is first
    c = tiny.compounds["S1N1C1"]
    c.name = "锦绣苑"
    c.save()
    second = address_matcher()
    assert second is not first and "锦绣苑" in {r.name for r in second.compounds.values()}


def test_routing_twice_changes_nothing_the_second_time(tiny):
    case, _ = open_case(route=False, channel="grid_patrol", description="垃圾桶满了没人清运",
                        entrance=tiny.entrances["S1N1C1"])
    first = route_new_case(case)
    again = route_new_case(case)
    assert first == again
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert Case.objects.get().seq == 2


def test_concrete_unit_passes_refs_through_and_resolves_table_refs(tiny, units):
    s1, n = tiny.subdistricts["S1"], tiny.neighbourhoods["S1N1"]
    assert concrete_unit("department:CM1", neighbourhood=n, subdistrict=s1) == "department:CM1"
    assert concrete_unit("department:NOPE", neighbourhood=n, subdistrict=s1) is None
    assert concrete_unit("dept:police_station", neighbourhood=n, subdistrict=s1) == \
        "department:PS1"
    assert concrete_unit("role:operations_centre", neighbourhood=n, subdistrict=s1) == \
        "centre:OC1"
    assert concrete_unit("dept:fire", neighbourhood=n, subdistrict=s1) is None


def test_routing_lists_earlier_reports_of_the_same_problem_as_possible_duplicates(tiny):
    first, _ = open_case(route=False, channel="grid_patrol", description="楼下酒吧每天晚上很吵，吵得睡不着",
                         lng=121.425, lat=31.15)
    route_new_case(first)
    again, _ = open_case(route=False, channel="hotline_12345", description="楼下酒吧晚上很吵，睡不着",
                         lng=121.426, lat=31.15)
    outcome = route_new_case(again)
    assert [d["number"] for d in outcome.possible_duplicates] == [first.number]
    payload = CaseEvent.objects.get(case=again, action="route").payload
    assert payload["possible_duplicates"][0]["number"] == first.number
    assert CaseEvent.objects.get(case=first, action="route").payload["possible_duplicates"] == []


def test_intake_routes_the_new_case_once(tiny):
    case, created = open_case(channel="hotline_12345", description="楼道里堆满了杂物",
                              address="上海市浦东新区S2N1C2小区3号楼")
    assert created and case.compound == tiny.compounds["S2N1C2"]
    assert list(case.events.values_list("action", flat=True).order_by("seq")) == [
        "report", "route"]
    again, created = open_case(channel="hotline_12345", description="楼道里堆满了杂物",
                               address="上海市浦东新区S2N1C2小区3号楼")
    assert created  # no key: a second report, routed on its own
    route_new_case(case)
    assert case.events.count() == 2


def test_a_category_chosen_by_routing_brings_its_own_time_limit(tiny):
    # Uncategorised, the platform default (5 working days, end of day) applies; routing names
    # 06010 暴露垃圾, whose limit is 4 working hours, and the deadline follows it.
    monday_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)
    kw = {"channel": "hotline_12345", "description": "路面暴露垃圾没人清理",
          "entrance": tiny.entrances["S1N1C1"], "reported_at": monday_10}
    unrouted, _ = open_case(route=False, **kw)
    routed, _ = open_case(**kw)
    assert unrouted.category is None
    assert unrouted.due_at.astimezone(SH) == dt.datetime(2026, 11, 23, 17, 30, tzinfo=SH)
    assert routed.category.code == "06010"
    assert routed.due_at.astimezone(SH) == dt.datetime(2026, 11, 16, 15, 0, tzinfo=SH)
    assert routed.warn_at < routed.due_at


def test_an_explicit_tier_survives_routing(tiny):
    case, _ = open_case(channel="council", description="加装电梯协调不成，需区级协调",
                        category_code="06010", entrance=tiny.entrances["S1N1C1"],
                        tier="operations_centre")
    assert case.tier == "operations_centre"
    assert case.events.filter(action="route").exists()


def test_a_unit_added_after_routing_is_found_by_the_next_case_without_a_restart(tiny):
    # Given a case routed where the table's squad does not exist (the answer is cached)
    first, _ = open_case(channel="grid_patrol", description="有辆小轿车一直停在人行道上",
                         entrance=tiny.entrances["S1N1C1"])
    assert CaseEvent.objects.get(case=first, action="route").payload[
        "suggested_assisting_units"] == []
    # When the subdistrict's city-management squad is registered
    save_with_path(Department(code="CM9", name="第9城管中队", kind="city_management",
                              district=tiny.district, subdistrict=tiny.subdistricts["S1"]))
    # Then the next case of the same place and category is routed to it
    second, _ = open_case(channel="grid_patrol", description="有辆小轿车一直停在人行道上",
                          entrance=tiny.entrances["S1N1C1"])
    assert CaseEvent.objects.get(case=second, action="route").payload[
        "suggested_assisting_units"] == ["department:CM9"]


def test_a_category_or_rule_edited_after_routing_applies_to_the_next_case_at_once(tiny):
    from jiayuan.cases.models import Category
    from jiayuan.core.errors import ValidationFailed

    # Given a case opened in a category (the catalogue is now kept in this process)
    first, _ = open_case(channel="grid_patrol", description="路面坑洼", category_code="06013",
                         entrance=tiny.entrances["S1N1C1"])
    assert first.category.code == "06013"
    # When staff deactivate that category, the next report in it is refused
    road = Category.objects.get(code="06013")
    road.active = False
    road.save()
    with pytest.raises(ValidationFailed):
        open_case(channel="grid_patrol", description="路面坑洼", category_code="06013",
                  entrance=tiny.entrances["S1N1C1"])
    # and when they add a routing rule, the next case follows it
    rule = RoutingRule.objects.create(category_prefix="06", path_prefix="",
                                      tier="operations_centre", lead_unit="department:ZZ1",
                                      priority=99)
    third, _ = open_case(channel="grid_patrol", description="井盖缺失", category_code="06001",
                         entrance=tiny.entrances["S1N1C1"])
    route = CaseEvent.objects.get(case=third, action="route").payload
    assert (third.tier, route["rule_id"]) == ("operations_centre", f"db-{rule.pk}")
