"""Owners' decisions under Civil Code art. 278, on hand-computed cases.

Each case states its figures; the expected fractions were worked out by hand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction as F

import pytest

from jiayuan.core.errors import ValidationFailed
from jiayuan.council.rules import (
    ARTICLE_278,
    CODES,
    Ballot,
    Bound,
    Choice,
    CouncilRuleError,
    Dwelling,
    Electorate,
    Matter,
    Outcome,
    OwnersDecision,
    Scope,
    Source,
    canonical_json,
    decide,
    parse_matter,
    rule_for,
    verify,
)

from .builders import ballots, by_proxy, electorate, equal_flats, flat, online, paper, proxy

Y, N, A, S = Choice.YES, Choice.NO, Choice.ABSTAIN, Choice.SPOILED
CJK = re.compile(r"[\u4e00-\u9fff]")


def count(matter: Matter | str, elect: Electorate, bs: list[Ballot], **kw: object) -> OwnersDecision:
    return decide(vote_id="v1", matter=matter, electorate=elect, ballots=bs, **kw)  # type: ignore[arg-type]


def refused(code: str, matter: Matter | str, elect: Electorate, bs: list[Ballot],
            **kw: object) -> CouncilRuleError:
    with pytest.raises(CouncilRuleError) as info:
        count(matter, elect, bs, **kw)
    assert info.value.code == code
    return info.value


# --- the rule table: art. 278 items -------------------------------------------------------------

@pytest.mark.parametrize(("matter", "item"), [
    (Matter.MAINTENANCE_FUND_RAISE, 6), (Matter.REBUILD_OR_ALTER, 7),
    (Matter.COMMON_PARTS_USE, 8), (Matter.ELEVATOR_RETROFIT, 7),
])
def test_items_six_to_eight_and_elevators_need_three_quarters_inclusive(matter: Matter, item: int) -> None:
    rule = rule_for(matter)
    assert (rule.article_item, rule.approval, rule.approval_bound) == (item, F(3, 4), Bound.AT_LEAST)


@pytest.mark.parametrize(("matter", "item"), [
    (Matter.PROCEDURAL_RULES, 1), (Matter.COVENANT, 2), (Matter.COMMITTEE_ELECTION, 3),
    (Matter.PROPERTY_COMPANY, 4), (Matter.MAINTENANCE_FUND_USE, 5), (Matter.OTHER_MAJOR, 9),
])
def test_other_items_need_more_than_half_exclusive(matter: Matter, item: int) -> None:
    rule = rule_for(matter)
    assert (rule.article_item, rule.approval, rule.approval_bound) == (item, F(1, 2), Bound.MORE_THAN)


def test_every_matter_needs_two_thirds_participation_inclusive() -> None:
    for matter in Matter:
        rule = rule_for(matter)
        assert (rule.participation, rule.participation_bound) == (F(2, 3), Bound.AT_LEAST)
    assert set(ARTICLE_278) == set(Matter)


def test_unknown_matter_is_refused_with_its_name_in_the_message() -> None:
    with pytest.raises(CouncilRuleError) as info:
        parse_matter("paint_the_gate")
    assert info.value.code == "unknown_matter"
    assert "paint_the_gate" in info.value.message
    refused("unknown_matter", "paint_the_gate", equal_flats(3), ballots("yyy"))


def test_matter_may_be_given_by_its_code() -> None:
    assert count("covenant", equal_flats(3), ballots("yyy")).matter is Matter.COVENANT


# --- participation quorum (2/3 of area AND of owners, inclusive) ---------------------------------

def test_exactly_two_thirds_participation_is_a_quorum() -> None:
    # 6 equal flats, 4 vote: 4/6 = 2/3 of area and of owners.
    d = count(Matter.COVENANT, equal_flats(6), ballots("yyyy.."))
    assert d.criterion("participation_area").achieved == F(2, 3)
    assert d.criterion("participation_owners").achieved == F(2, 3)
    assert d.outcome is Outcome.PASSED


def test_just_under_two_thirds_participation_is_no_quorum_even_if_all_say_yes() -> None:
    # 10 equal flats, 6 vote yes: 6/10 < 2/3.
    d = count(Matter.COVENANT, equal_flats(10), ballots("yyyyyy...."))
    assert d.outcome is Outcome.NO_QUORUM
    assert not d.criterion("participation_area").passed
    assert "法定比例" in d.reason_zh and "No quorum" in d.reason_en


def test_no_ballots_at_all_is_no_quorum_with_every_dwelling_listed_as_not_voted() -> None:
    d = count(Matter.COVENANT, equal_flats(3), [])
    assert d.outcome is Outcome.NO_QUORUM
    assert d.not_voted == ("d1", "d2", "d3")
    assert d.participating.dwellings == 0 and d.participating.area == 0
    assert d.criterion("approval_area").achieved == 0
    assert not d.criterion("approval_area").passed


def test_quorum_by_area_but_not_by_headcount_is_no_quorum() -> None:
    # A 200 m², B 50, C 50 (total 300). Only A votes: area 200/300 = 2/3, owners 1/3.
    elect = electorate(flat("A", 200), flat("B", 50), flat("C", 50))
    d = count(Matter.COVENANT, elect, [online("A", Y)])
    assert d.criterion("participation_area").passed
    assert d.criterion("participation_owners").achieved == F(1, 3)
    assert not d.criterion("participation_owners").passed
    assert d.outcome is Outcome.NO_QUORUM


def test_quorum_by_headcount_but_not_by_area_is_no_quorum() -> None:
    # Same compound; B and C vote: owners 2/3, area 100/300 = 1/3.
    elect = electorate(flat("A", 200), flat("B", 50), flat("C", 50))
    d = count(Matter.COVENANT, elect, [online("B", Y), online("C", Y)])
    assert d.criterion("participation_owners").passed
    assert d.criterion("participation_area").achieved == F(1, 3)
    assert d.outcome is Outcome.NO_QUORUM


def test_decimal_areas_are_compared_exactly_at_the_two_thirds_bound() -> None:
    # 33.33 + 33.33 + 33.34 = 100.00 m². 33.33+33.34 = 66.67 ≥ 2/3·100; 33.33+33.33 = 66.66 < it.
    elect = electorate(flat("a", "33.33"), flat("b", "33.33"), flat("c", "33.34"))
    above = count(Matter.COVENANT, elect, [online("a", Y), online("c", Y)])
    below = count(Matter.COVENANT, elect, [online("a", Y), online("b", Y)])
    assert above.criterion("participation_area").achieved == F(6667, 10000)
    assert above.criterion("participation_area").passed
    assert below.criterion("participation_area").achieved == F(6666, 10000)
    assert not below.criterion("participation_area").passed
    assert below.outcome is Outcome.NO_QUORUM


def test_two_of_three_equal_decimal_areas_is_exactly_two_thirds() -> None:
    # 10.1 m² each; floats would give 20.2/30.3 = 0.6666666666666666, we get 2/3 exactly.
    elect = electorate(flat("a", "10.1"), flat("b", "10.1"), flat("c", "10.1"))
    d = count(Matter.COVENANT, elect, [online("a", Y), online("b", Y)])
    assert d.criterion("participation_area").achieved == F(2, 3)
    assert d.outcome is Outcome.PASSED


# --- approval: more than half (exclusive) ---------------------------------------------------------

def test_a_tie_at_exactly_half_fails_more_than_half() -> None:
    d = count(Matter.COMMITTEE_ELECTION, equal_flats(4), ballots("yynn"))
    assert d.criterion("approval_area").achieved == F(1, 2)
    assert not d.criterion("approval_area").passed
    assert not d.criterion("approval_owners").passed
    assert d.outcome is Outcome.FAILED


def test_one_more_yes_than_half_passes_more_than_half() -> None:
    d = count(Matter.COMMITTEE_ELECTION, equal_flats(5), ballots("yyynn"))
    assert d.criterion("approval_owners").achieved == F(3, 5)
    assert d.outcome is Outcome.PASSED


def test_simple_majority_counts_against_participants_not_all_owners() -> None:
    # 6 flats, 4 take part (quorum), 3 yes: 3/4 of participants though only 1/2 of all owners.
    d = count(Matter.PROPERTY_COMPANY, equal_flats(6), ballots("yyyn.."))
    assert d.criterion("approval_owners").achieved == F(3, 4)
    assert d.outcome is Outcome.PASSED


def test_maintenance_fund_use_is_a_simple_majority_matter() -> None:
    # Item (5) use of the fund: 3 of 5 suffice; item (6) raising it does not (3/5 < 3/4).
    assert count(Matter.MAINTENANCE_FUND_USE, equal_flats(5), ballots("yyynn")).outcome is Outcome.PASSED
    assert count(Matter.MAINTENANCE_FUND_RAISE, equal_flats(5), ballots("yyynn")).outcome is Outcome.FAILED


# --- approval: at least three-quarters (inclusive) -------------------------------------------------

def test_elevator_vote_passes_at_exactly_three_quarters_of_participating_area_and_owners() -> None:
    d = count(Matter.ELEVATOR_RETROFIT, equal_flats(4), ballots("yyyn"))
    assert d.criterion("approval_area").achieved == F(3, 4)
    assert d.criterion("approval_owners").achieved == F(3, 4)
    assert d.outcome is Outcome.PASSED


def test_elevator_vote_needs_three_quarters_of_participating_area() -> None:
    # Participating: y 50, y 50, y 50, n 250 → owners 3/4 pass, area 150/400 = 3/8 fails.
    elect = electorate(flat("d1", 50), flat("d2", 50), flat("d3", 50), flat("d4", 250))
    d = count(Matter.ELEVATOR_RETROFIT, elect, ballots("yyyn"))
    assert d.criterion("approval_owners").passed
    assert d.criterion("approval_area").achieved == F(3, 8)
    assert not d.criterion("approval_area").passed
    assert d.outcome is Outcome.FAILED


def test_elevator_vote_needs_three_quarters_of_participating_owners() -> None:
    # Participating: y 150, y 150, n 100 → area 300/400 = 3/4 passes, owners 2/3 fails.
    elect = electorate(flat("d1", 150), flat("d2", 150), flat("d3", 100))
    d = count(Matter.ELEVATOR_RETROFIT, elect, ballots("yyn"))
    assert d.criterion("approval_area").achieved == F(3, 4)
    assert d.criterion("approval_area").passed
    assert d.criterion("approval_owners").achieved == F(2, 3)
    assert d.outcome is Outcome.FAILED
    assert "未达到" in d.reason_zh


def test_just_under_three_quarters_fails() -> None:
    # 7 of 10 participants yes = 7/10 < 3/4.
    d = count(Matter.COMMON_PARTS_USE, equal_flats(10), ballots("yyyyyyynnn"))
    assert d.outcome is Outcome.FAILED


def test_elevator_electorate_is_one_entrance_and_refuses_other_entrances() -> None:
    entrance = electorate(*(flat(f"3-{i}", 70) for i in range(1, 7)), scope=Scope.ENTRANCE,
                          code="310101002003/B3/E1")
    d = count(Matter.ELEVATOR_RETROFIT, entrance,
              [online(f"3-{i}", Y) for i in range(1, 6)] + [online("3-6", N)])
    assert (d.scope, d.eligible.dwellings, d.outcome) == (Scope.ENTRANCE, 6, Outcome.PASSED)
    err = refused("not_in_electorate", Matter.ELEVATOR_RETROFIT, entrance, [online("4-1", Y)])
    assert "4-1" in err.message and err.details == {"dwelling": "4-1"}


# --- abstentions and spoiled ballots ----------------------------------------------------------------

def test_abstentions_take_part_but_do_not_consent() -> None:
    # 3 flats: y, a, . → quorum 2/3 met; approval 1/2 is not more than half.
    d = count(Matter.COVENANT, equal_flats(3), ballots("ya."))
    assert d.outcome is Outcome.FAILED
    assert (d.participating.dwellings, d.abstain.dwellings, d.yes.dwellings) == (2, 1, 1)
    assert d.criterion("participation_owners").passed


def test_spoiled_ballots_take_part_but_do_not_consent_and_are_counted_apart() -> None:
    # 4 flats: y y s s → quorum; approval 2/4 not more than half.
    d = count(Matter.COVENANT, equal_flats(4), ballots("yyss"))
    assert d.spoiled.dwellings == 2 and d.spoiled.area == 200
    assert d.participating.dwellings == 4
    assert d.outcome is Outcome.FAILED


def test_silence_is_not_consent() -> None:
    # 9 flats, 6 vote 4 yes 2 no: passes among participants; the 3 silent are not counted as yes.
    d = count(Matter.COVENANT, equal_flats(9), ballots("yyyynn..."))
    assert d.yes.dwellings == 4 and d.not_voted == ("d7", "d8", "d9")


# --- co-owners and owners of several dwellings ---------------------------------------------------

def test_co_owners_of_one_dwelling_count_once_by_area_and_by_head() -> None:
    elect = electorate(flat("d1", 100, "wife", "husband"), flat("d2", 100), flat("d3", 100))
    d = count(Matter.COVENANT, elect, [online("d1", Y, by="husband"), online("d2", Y)])
    assert d.eligible.owners == 3
    assert (d.participating.owners, d.participating.area) == (2, F(200))


def test_either_co_owner_may_vote_but_only_once_per_source() -> None:
    elect = electorate(flat("d1", 100, "wife", "husband"), flat("d2", 100))
    assert count(Matter.COVENANT, elect, [online("d1", Y, by="wife")]).yes.owners == 1
    refused("duplicate_ballot", Matter.COVENANT, elect,
            [online("d1", Y, by="wife"), online("d1", Y, by="husband")])


def test_one_owner_of_several_dwellings_counts_once_by_head_with_areas_summed() -> None:
    # X owns d1 and d2; Y owns d3; Z owns d4 (100 m² each): 3 owners, 400 m².
    elect = electorate(flat("d1", 100, "X"), flat("d2", 100, "X"), flat("d3", 100, "Y"),
                       flat("d4", 100, "Z"))
    d = count(Matter.COVENANT, elect, [online("d1", Y, by="X"), online("d2", Y, by="X"),
                                       online("d3", N, by="Y")])
    assert (d.eligible.owners, d.eligible.area) == (3, F(400))
    assert (d.participating.owners, d.participating.area) == (2, F(300))
    # Area 200/300 yes, owners 1/2 yes → headcount fails more-than-half.
    assert d.criterion("approval_area").passed
    assert not d.criterion("approval_owners").passed
    assert d.outcome is Outcome.FAILED


def test_an_owner_voting_for_one_of_two_dwellings_takes_part_by_head_but_with_that_area_only() -> None:
    elect = electorate(flat("d1", 100, "X"), flat("d2", 100, "X"), flat("d3", 100, "Y"))
    d = count(Matter.COVENANT, elect, [online("d1", Y, by="X")])
    assert (d.participating.owners, d.participating.area) == (1, F(100))
    assert d.criterion("participation_owners").achieved == F(1, 2)


def test_a_couple_and_one_spouse_alone_are_two_buyers() -> None:
    elect = electorate(flat("d1", 100, "wife", "husband"), flat("d2", 100, "wife"))
    assert count(Matter.COVENANT, elect, []).eligible.owners == 2


def test_developers_unsold_units_count_as_one_owner() -> None:
    elect = electorate(*(flat(f"u{i}", 90, "developer") for i in range(5)), flat("d1", 90))
    d = count(Matter.COVENANT, elect, [online("d1", Y)])
    assert (d.eligible.dwellings, d.eligible.owners) == (6, 2)


def test_one_owner_voting_differently_for_two_dwellings_is_refused() -> None:
    elect = electorate(flat("d1", 100, "X"), flat("d2", 100, "X"))
    err = refused("owner_split_vote", Matter.COVENANT, elect,
                  [online("d1", Y, by="X"), online("d2", N, by="X")])
    assert err.details == {"owners": ["X"]}


def test_someone_not_an_owner_cannot_cast_an_own_ballot() -> None:
    refused("not_an_owner", Matter.COVENANT, equal_flats(3), [online("d1", Y, by="neighbour")])
    refused("not_an_owner", Matter.COVENANT, equal_flats(3), [paper("d1", Y, by="neighbour")])


# --- proxies ---------------------------------------------------------------------------------------

def test_a_valid_proxy_ballot_counts_like_the_owners_own() -> None:
    d = count(Matter.COVENANT, equal_flats(3), [by_proxy("d1", Y, "lawyer"), online("d2", Y)],
              proxies=[proxy("d1", "lawyer")])
    assert d.yes.dwellings == 2
    assert dict(d.by_source) == {Source.ONLINE: 1, Source.PAPER: 0, Source.PROXY: 1}


def test_one_proxy_holder_may_vote_for_several_dwellings() -> None:
    d = count(Matter.COVENANT, equal_flats(3),
              [by_proxy(f"d{i}", Y, "captain") for i in (1, 2, 3)],
              proxies=[proxy(f"d{i}", "captain") for i in (1, 2, 3)])
    assert (d.yes.dwellings, d.yes.owners, d.outcome) == (3, 3, Outcome.PASSED)


def test_the_procedural_rules_may_cap_how_many_dwellings_one_holder_represents() -> None:
    bs = [by_proxy(f"d{i}", Y, "captain") for i in (1, 2, 3)]
    ps = [proxy(f"d{i}", "captain") for i in (1, 2, 3)]
    assert count(Matter.COVENANT, equal_flats(3), bs, proxies=ps,
                 max_dwellings_per_proxy=3).outcome is Outcome.PASSED
    err = refused("proxy_limit_exceeded", Matter.COVENANT, equal_flats(3), bs, proxies=ps,
                  max_dwellings_per_proxy=2)
    assert err.details == {"holders": ["captain"], "limit": 2}


@pytest.mark.parametrize("why", ["none", "other_vote", "revoked", "other_holder", "not_owner"])
def test_a_proxy_ballot_without_a_proxy_valid_for_this_vote_is_refused(why: str) -> None:
    proxies = {
        "none": [],
        "other_vote": [proxy("d1", "lawyer", vote_id="v0")],
        "revoked": [proxy("d1", "lawyer", revoked=True)],
        "other_holder": [proxy("d1", "cousin")],
        "not_owner": [proxy("d1", "lawyer", granted_by="tenant")],
    }[why]
    refused("invalid_proxy", Matter.COVENANT, equal_flats(3), [by_proxy("d1", Y, "lawyer")],
            proxies=proxies)


def test_in_person_beats_proxy_for_the_same_dwelling_and_the_proxy_is_listed() -> None:
    # The proxy said yes, the owner came in person and said no: no is counted, once.
    d = count(Matter.COVENANT, equal_flats(3),
              [by_proxy("d1", Y, "lawyer"), online("d1", N), online("d2", Y), online("d3", Y)],
              proxies=[proxy("d1", "lawyer")])
    assert (d.participating.dwellings, d.no.dwellings, d.yes.dwellings) == (3, 1, 2)
    assert d.superseded_proxy_ballots == ("d1",)
    assert dict(d.by_source)[Source.PROXY] == 0


def test_two_proxy_ballots_for_one_dwelling_are_a_duplicate() -> None:
    refused("duplicate_ballot", Matter.COVENANT, equal_flats(3),
            [by_proxy("d1", Y, "lawyer"), by_proxy("d1", Y, "cousin")],
            proxies=[proxy("d1", "lawyer"), proxy("d1", "cousin")])


# --- paper ballots ---------------------------------------------------------------------------------

def test_paper_ballots_entered_by_staff_count_the_same_as_online() -> None:
    on = count(Matter.COVENANT, equal_flats(4), ballots("yyyn"))
    on_paper = count(Matter.COVENANT, equal_flats(4),
                     [paper("d1", Y), paper("d2", Y), online("d3", Y), paper("d4", N)])
    assert on_paper.outcome is on.outcome is Outcome.PASSED
    assert on_paper.criteria == on.criteria
    assert dict(on_paper.by_source)[Source.PAPER] == 3


def test_a_paper_ballot_without_the_entering_staff_is_refused() -> None:
    refused("paper_without_staff", Matter.COVENANT, equal_flats(3), [paper("d1", Y, staff=None)])


def test_the_same_choice_online_and_on_paper_counts_once() -> None:
    d = count(Matter.COVENANT, equal_flats(3), [online("d1", Y), paper("d1", Y), online("d2", Y)])
    assert d.participating.dwellings == 2 and d.yes.area == 200


def test_different_choices_online_and_on_paper_are_refused_for_a_person_to_check() -> None:
    refused("conflicting_ballots", Matter.COVENANT, equal_flats(3),
            [online("d1", Y), paper("d1", N)])


def test_two_paper_ballots_for_one_dwelling_are_a_duplicate() -> None:
    err = refused("duplicate_ballot", Matter.COVENANT, equal_flats(3), [paper("d1", Y), paper("d1", Y)])
    assert err.details == {"dwelling": "d1", "source": "paper"}


# --- the electorate --------------------------------------------------------------------------------

def test_an_electorate_with_no_dwellings_has_zero_area_and_is_refused() -> None:
    refused("empty_electorate", Matter.COVENANT, electorate(), [])


@pytest.mark.parametrize("area", [0, -5, 85.5, Decimal("NaN"), Decimal("Infinity"), True, "85"])
def test_areas_must_be_exact_and_positive(area: object) -> None:
    elect = Electorate(Scope.COMPOUND, "c", (Dwelling("d1", area, frozenset({"x"})),))  # type: ignore[arg-type]
    refused("invalid_area", Matter.COVENANT, elect, [])


def test_fraction_and_int_areas_are_accepted() -> None:
    elect = Electorate(Scope.COMPOUND, "c", (Dwelling("d1", F(1, 3), frozenset({"x"})),
                                             Dwelling("d2", 2, frozenset({"y"}))))
    assert count(Matter.COVENANT, elect, []).eligible.area == F(7, 3)


def test_a_dwelling_listed_twice_is_refused() -> None:
    refused("duplicate_dwelling", Matter.COVENANT, electorate(flat("d1", 90), flat("d1", 90)), [])


def test_a_dwelling_without_owner_is_refused() -> None:
    elect = Electorate(Scope.COMPOUND, "c", (Dwelling("d1", 90, frozenset()),))
    refused("dwelling_without_owner", Matter.COVENANT, elect, [])


def test_every_error_code_has_a_chinese_message_and_maps_to_422() -> None:
    for code, message in CODES.items():
        err = CouncilRuleError(code)
        assert CJK.search(message) and err.message == message
        assert isinstance(err, ValidationFailed) and err.status == 422
        assert err.as_dict()["code"] == code
    with pytest.raises(KeyError):
        CouncilRuleError("made_up")


# --- the auditable result ----------------------------------------------------------------------------

def _sample() -> tuple[Electorate, list[Ballot]]:
    elect = electorate(flat("d1", "89.35", "X"), flat("d2", "60.65", "X"), flat("d3", "120"),
                       flat("d4", "75.5", "p", "q"), flat("d5", "80"))
    return elect, [online("d1", Y, "X"), paper("d2", Y, "X"), online("d3", N),
                   by_proxy("d4", A, "lawyer"), online("d5", Y)]


def test_the_decision_carries_every_count_hand_checked() -> None:
    elect, bs = _sample()
    d = count(Matter.REBUILD_OR_ALTER, elect, bs, proxies=[proxy("d4", "lawyer", granted_by="q")])
    # Owners: X (d1+d2), o-d3, {p,q}, o-d5 → 4. Area 89.35+60.65+120+75.5+80 = 425.5.
    assert (d.eligible.dwellings, d.eligible.owners, d.eligible.area) == (5, 4, F(8510, 20))
    assert (d.yes.dwellings, d.yes.owners, d.yes.area) == (3, 2, F(230))
    assert (d.no.owners, d.no.area, d.abstain.owners, d.abstain.area) == (1, F(120), 1, F(151, 2))
    # Approval: area 230/425.5 = 460/851 < 3/4; owners 2/4 < 3/4 → failed.
    assert d.criterion("approval_area").achieved == F(460, 851)
    assert d.outcome is Outcome.FAILED
    assert "第二百七十八条" in d.reason_zh and "第（7）项" in d.reason_zh
    assert "art. 278" in d.reason_en


def test_the_digest_is_deterministic_and_independent_of_ballot_order() -> None:
    elect, bs = _sample()
    ps = [proxy("d4", "lawyer", granted_by="q")]
    first = count(Matter.REBUILD_OR_ALTER, elect, bs, proxies=ps)
    again = count(Matter.REBUILD_OR_ALTER, elect, list(reversed(bs)), proxies=ps)
    assert first == again
    assert re.fullmatch(r"[0-9a-f]{64}", first.digest)


def test_the_digest_changes_when_any_input_changes() -> None:
    elect, bs = _sample()
    ps = [proxy("d4", "lawyer", granted_by="q")]
    base = count(Matter.REBUILD_OR_ALTER, elect, bs, proxies=ps).digest
    changed_ballot = count(Matter.REBUILD_OR_ALTER, elect, bs[:-1] + [paper("d5", Y)], proxies=ps)
    changed_matter = count(Matter.ELEVATOR_RETROFIT, elect, bs, proxies=ps)
    assert len({base, changed_ballot.digest, changed_matter.digest}) == 3


def test_verify_accepts_the_true_result_and_rejects_a_tampered_one() -> None:
    elect, bs = _sample()
    ps = [proxy("d4", "lawyer", granted_by="q")]
    d = count(Matter.REBUILD_OR_ALTER, elect, bs, proxies=ps)
    assert verify(d, vote_id="v1", matter=Matter.REBUILD_OR_ALTER, electorate=elect,
                  ballots=bs, proxies=ps)
    forged = replace(d, outcome=Outcome.PASSED)
    assert not verify(forged, vote_id="v1", matter=Matter.REBUILD_OR_ALTER, electorate=elect,
                      ballots=bs, proxies=ps)
    assert not verify(d, vote_id="v1", matter=Matter.REBUILD_OR_ALTER, electorate=elect,
                      ballots=bs[1:], proxies=ps)


def test_the_canonical_form_is_stable() -> None:
    # Pinned: stored results are re-verified against this form, so it must not drift.
    assert canonical_json({"b": F(2, 3), "a": [Matter.COVENANT, Decimal("89.50")], "z": None}) == (
        '{"a":["covenant","179/2"],"b":"2/3","z":null}')
    d = count(Matter.COVENANT, equal_flats(1), ballots("y"))
    payload = {"inputs": {
        "vote_id": "v1", "matter": "covenant", "scope": "compound", "scope_code": "310101002003",
        "dwellings": [{"id": "d1", "area": "100", "owners": ["o-d1"]}],
        "ballots": [{"dwelling": "d1", "choice": "yes", "source": "online", "cast_by": "o-d1",
                     "entered_by": None}],
        "proxies": [], "max_dwellings_per_proxy": None,
    }, "result": d.as_dict()}
    assert d.digest == hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def test_as_dict_exposes_thresholds_and_achieved_fractions() -> None:
    d = count(Matter.ELEVATOR_RETROFIT, equal_flats(4), ballots("yyyn"))
    body = d.as_dict()
    crit = {c["name"]: c for c in body["criteria"]}
    assert crit["approval_owners"]["achieved"] == F(3, 4)
    assert crit["approval_owners"]["threshold"] == F(3, 4)
    assert body["outcome"] is Outcome.PASSED and body["article_item"] == 7


def test_a_ballot_given_with_plain_strings_counts_like_the_enums() -> None:
    b = Ballot("d1", "yes", "online", "o-d1")  # type: ignore[arg-type]
    assert count("covenant", equal_flats(1), [b]).outcome is Outcome.PASSED


@pytest.mark.parametrize(("choice", "source", "code"), [
    ("maybe", "online", "unknown_choice"), ("yes", "carrier_pigeon", "unknown_source")])
def test_unknown_choices_and_sources_are_refused(choice: str, source: str, code: str) -> None:
    b = Ballot("d1", choice, source, "o-d1")  # type: ignore[arg-type]
    refused(code, "covenant", equal_flats(1), [b])


def test_an_invalid_proxy_ballot_is_refused_even_when_the_owner_also_voted_in_person() -> None:
    # Staff must see the bad proxy rather than have it silently disappear behind the owner's ballot.
    refused("invalid_proxy", Matter.COVENANT, equal_flats(3),
            [online("d1", Y), by_proxy("d1", Y, "stranger")])
