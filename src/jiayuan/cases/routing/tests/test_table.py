from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.cases.routing.errors import NoRouteFound, RoutingTableInvalid
from jiayuan.cases.routing.table import Rule, conflicts, load_rules, parse_rules_csv, resolve

S4 = "310115/310115004/"
N1 = "310115/310115004/310115004001/"
C2 = "310115/310115004/310115004001/310115004001002/"

RULES = [
    Rule("any", "*", "", "operations_centre", "role:operations_centre"),
    Rule("class06", "06*", "", "cross_department", "dept:greening_sanitation"),
    Rule("noise", "06028", "", "cross_department", "dept:police_station"),
    Rule("s4-class06", "06*", S4, "cross_department", "dept:city_management"),
    Rule("n1-noise", "06028", N1, "neighbourhood", "role:residents_committee",
         ("role:property_company",)),
    Rule("village-build", "06001", "", "cross_department", "dept:city_management",
         place_kind="village"),
]


def test_deepest_place_prefix_wins_over_a_more_specific_category():
    # 06010 in S4: the S4 rule for class 06 beats the district-wide class-06 rule.
    assert resolve("06010", C2, RULES).rule_id == "s4-class06"
    # 06028 in S4 but outside N1: S4's class-06 rule (deeper place) beats district-wide 06028.
    assert resolve("06028", S4 + "310115004009/", RULES).rule_id == "s4-class06"


def test_at_equal_place_depth_the_most_specific_category_wins():
    assert resolve("06028", "310115/310115001/", RULES).rule_id == "noise"
    assert resolve("06010", "310115/310115001/", RULES).rule_id == "class06"
    assert resolve("09009", "310115/310115001/", RULES).rule_id == "any"


def test_route_carries_tier_lead_and_assisting_units():
    route = resolve("06028", C2, RULES)
    assert (route.rule_id, route.tier, route.lead, route.assisting) == (
        "n1-noise", "neighbourhood", "role:residents_committee", ("role:property_company",))


def test_place_kind_rule_applies_only_to_places_of_that_kind():
    assert resolve("06001", "310115/310115002/", RULES).rule_id == "class06"
    assert resolve("06001", "310115/310115002/", RULES,
                   place_kinds={"village"}).rule_id == "village-build"


def test_path_prefix_matches_whole_codes_only():
    rules = [Rule("n1", "*", "310115/3101150/", "neighbourhood", "role:residents_committee")]
    with pytest.raises(NoRouteFound):
        resolve("06010", "310115/31011500/", rules)
    assert resolve("06010", "310115/3101150", rules).rule_id == "n1"  # trailing slash added


def test_no_matching_rule_is_a_clear_refusal_for_triage():
    with pytest.raises(NoRouteFound) as e:
        resolve("09009", C2, RULES[1:3])
    assert e.value.code == "no_route"
    assert "09009" in e.value.message


def test_equal_rules_tie_break_on_priority_then_smallest_id():
    a = Rule("b-rule", "06*", "", "cross_department", "dept:fire")
    b = Rule("a-rule", "06*", "", "cross_department", "dept:water")
    c = Rule("c-rule", "06*", "", "cross_department", "dept:power", priority=5)
    assert resolve("06010", C2, [a, b]).rule_id == "a-rule"
    assert resolve("06010", C2, [a, b, c]).rule_id == "c-rule"
    assert conflicts([a, b, c]) == [("a-rule", "b-rule")]


@given(st.permutations(RULES),
       st.sampled_from(["06010", "06028", "06001", "09009", "99001"]),
       st.sampled_from(["", "310115/", S4, N1, C2, "310115/310115002/"]),
       st.sampled_from([frozenset(), frozenset({"village"})]))
def test_resolution_does_not_depend_on_rule_order(rules, category, place, kinds):
    assert resolve(category, place, rules, place_kinds=kinds) == resolve(
        category, place, RULES, place_kinds=kinds)


def test_default_table_loads_and_routes_every_synthetic_category():
    from jiayuan.cases.routing.synthetic import CATEGORY_NAMES

    rules = load_rules()
    assert conflicts(rules) == []
    for code in CATEGORY_NAMES:
        assert resolve(code, C2, rules).lead


def test_table_with_errors_is_refused_listing_every_problem():
    text = ("rule_id,category,place,place_kind,tier,lead,assisting,priority\n"
            "r1,06*,,,cross_department,dept:fire,,0\n"
            "r1,0#6,,,sideways,fire brigade,,0\n"
            "r3,06,bad path,,neighbourhood,role:residents_committee,,x\n")
    with pytest.raises(RoutingTableInvalid) as e:
        parse_rules_csv(text)
    columns = sorted(p["column"] for p in e.value.details)
    assert columns == ["priority"]  # a non-integer priority stops parsing before validation
    with pytest.raises(RoutingTableInvalid) as e:
        parse_rules_csv(text.replace(",x\n", ",0\n"))
    columns = sorted(p["column"] for p in e.value.details)
    assert columns == ["category", "lead", "place", "rule_id", "tier"]
