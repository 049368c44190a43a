"""Consent campaigns and owners' votes, persisted and counted by the engines; hand-computed.

Electorate (fixture ``flats``): 101 100 m² {A}; 102 50 m² {B}; 103 50 m² {C}; 104 100 m²
{D, E}. Total 300 m², 4 owners by headcount."""

from __future__ import annotations

import pytest

from jiayuan.core.errors import Forbidden, ValidationFailed
from jiayuan.council.models import ConsentReply, Consultation, VoteBallot, VoteDwelling
from jiayuan.council.rules import CouncilRuleError
from jiayuan.council.rules import owners as ow
from jiayuan.council.services import consultations as cs
from jiayuan.council.services import owners

TENANTS = [(f"T{i:02d}", f"{i}号承租户") for i in range(1, 14)]


def _consent(env):
    return cs.open_consent(env.council, actor=env.staff, title="无障碍坡道书面征询",
                           members=TENANTS)


def test_consent_is_pending_until_the_thirteenth_tenant_agrees(env):
    c = _consent(env)
    assert c.result_status == "pending" and c.eligible == 13
    for key, _ in TENANTS[:12]:
        c = cs.answer_consent(c, actor=env.staff, member_key=key, answer="consent")
    assert c.result_status == "pending" and c.participants == 12
    c = cs.answer_consent(c, actor=env.staff, member_key="T13", answer="consent")
    assert c.result_status == "reached" and len(c.result_digest) == 64
    assert "同意13人" in c.result_reason


def test_one_refusal_fails_unanimity_and_answers_are_final(env):
    c = _consent(env)
    c = cs.answer_consent(c, actor=env.staff, member_key="T01", answer="refuse")
    assert c.result_status == "failed"
    with pytest.raises(CouncilRuleError) as err:
        cs.answer_consent(c, actor=env.staff, member_key="T01", answer="consent")
    assert err.value.code == "duplicate_answer"
    with pytest.raises(CouncilRuleError):
        cs.answer_consent(c, actor=env.staff, member_key="T99", answer="consent")
    with pytest.raises(ValidationFailed):
        cs.answer_consent(c, actor=env.staff, member_key="T02", answer="maybe")
    assert ConsentReply.objects.count() == 1


def test_closing_a_campaign_with_missing_answers_fails_it(env):
    c = _consent(env)
    for key, _ in TENANTS[:12]:
        c = cs.answer_consent(c, actor=env.staff, member_key=key, answer="consent")
    c = cs.close_consultation(c, actor=env.staff)
    assert c.result_status == "failed" and "征询已截止" in c.result_reason


def test_a_duplicated_member_list_is_refused_and_nothing_stored(env):
    with pytest.raises(CouncilRuleError):
        cs.open_consent(env.council, actor=env.staff, title="x", members=[("T1", "a"), ("T1", "b")])
    assert not Consultation.objects.exists()


def _vote(env, matter):
    return cs.open_owners_vote(env.council, actor=env.staff, title="表决", matter=matter,
                               scope="entrance", scope_code=env.entrance.code)


def _ballots(env, c, flats, choices):
    owner = {"101": "A", "102": "B", "103": "C", "104": "D"}
    for room, choice in choices.items():
        c = cs.cast_ballot(c, actor=env.staff, household_id=flats[room].pk, choice=choice,
                           source="paper", cast_by=owner[room], paper_number=f"P-{room}")
    return c


def test_the_electorate_is_frozen_with_area_and_co_owners(env, flats):
    c = _vote(env, "elevator_retrofit")
    assert VoteDwelling.objects.filter(consultation=c).count() == 4
    assert VoteDwelling.objects.get(household=flats["104"]).owners == ["D", "E"]
    assert c.result["eligible"] == {"area": "300", "dwellings": 4, "owners": 4}
    assert c.result_status == "no_quorum"


def test_elevator_passes_at_exactly_three_quarters_of_owners(env, flats):
    # yes 101+102+104 = 250/300 area (5/6), owners 3/4 exactly: "at least" includes the bound.
    c = _ballots(env, _vote(env, "elevator_retrofit"), flats,
                 {"101": "yes", "102": "yes", "103": "no", "104": "yes"})
    assert c.result_status == "passed"
    assert "第（7）项" in c.result_reason


def test_area_and_headcount_disagree_and_the_vote_fails(env, flats):
    # yes 102+103+104 = 200/300 area (2/3 < 3/4) but owners 3/4: the area test fails.
    c = _ballots(env, _vote(env, "elevator_retrofit"), flats,
                 {"101": "no", "102": "yes", "103": "yes", "104": "yes"})
    assert c.result_status == "failed"
    crit = {x["name"]: x["passed"] for x in c.result["criteria"]}
    assert crit == {"participation_area": True, "participation_owners": True,
                    "approval_area": False, "approval_owners": True}


def test_a_tie_is_not_more_than_half(env, flats):
    # covenant needs more than half: yes 101+102 = 150/300 area, 2/4 owners: both exactly half.
    c = _ballots(env, _vote(env, "covenant"), flats,
                 {"101": "yes", "102": "yes", "103": "no", "104": "no"})
    assert c.result_status == "failed"
    assert c.result["yes"] == {"area": "150", "dwellings": 2, "owners": 2}


def test_missing_participation_of_owners_is_no_quorum_even_with_two_thirds_of_area(env, flats):
    # 101 and 104 take part: 200/300 area = 2/3 (met, bound included), owners 2/4 < 2/3.
    c = _ballots(env, _vote(env, "covenant"), flats, {"101": "yes", "104": "yes"})
    assert c.result_status == "no_quorum"
    crit = {x["name"]: x["passed"] for x in c.result["criteria"]}
    assert crit["participation_area"] and not crit["participation_owners"]
    assert c.result["not_voted"] == sorted([str(flats["102"].pk), str(flats["103"].pk)])


def test_a_proxy_counts_only_with_a_valid_proxy_and_an_own_ballot_beats_it(env, flats):
    c = _vote(env, "covenant")
    h = flats["102"].pk
    with pytest.raises(CouncilRuleError) as err:
        cs.cast_ballot(c, actor=env.staff, household_id=h, choice="yes", source="proxy",
                       cast_by="H", paper_number="X-1")
    assert err.value.code == "invalid_proxy"
    assert not VoteBallot.objects.exists()  # the refused ballot was not kept
    with pytest.raises(CouncilRuleError):
        cs.grant_proxy(c, actor=env.staff, household_id=h, granted_by="A", holder="H")
    cs.grant_proxy(c, actor=env.staff, household_id=h, granted_by="B", holder="H")
    c = cs.cast_ballot(c, actor=env.staff, household_id=h, choice="yes", source="proxy",
                       cast_by="H", paper_number="X-1")
    assert c.result["by_source"]["proxy"] == 1
    c = cs.cast_ballot(c, actor=env.staff, household_id=h, choice="no", source="paper",
                       cast_by="B", paper_number="P-2")
    assert c.result["superseded_proxy_ballots"] == [str(h)]
    assert c.result["no"]["dwellings"] == 1 and c.result["yes"]["dwellings"] == 0


def test_conflicting_own_ballots_are_refused_and_not_kept(env, flats, make_user):
    c = _vote(env, "covenant")
    h = flats["101"].pk
    owner = make_user("owner_a", "resident")
    link = owners.request_owner_link(user=owner, household=flats["101"], name="业主A",
                                     id_last4="1234")
    owners.decide_owner_link(link=link, actor=env.staff, approve=True)
    cs.cast_ballot(c, actor=env.staff, household_id=h, choice="yes", source="paper", cast_by="A",
                   paper_number="P-1")
    with pytest.raises(CouncilRuleError) as err:
        cs.cast_ballot(c, actor=owner, household_id=h, choice="no", source="online")
    assert err.value.code == "conflicting_ballots"
    assert VoteBallot.objects.count() == 1
    with pytest.raises(CouncilRuleError):
        cs.cast_ballot(c, actor=env.staff, household_id=h, choice="yes", source="paper",
                       cast_by="A", paper_number="P-2")


def test_the_stored_result_is_what_the_engine_gives_again(env, flats):
    c = _ballots(env, _vote(env, "elevator_retrofit"), flats,
                 {"101": "yes", "102": "yes", "103": "abstain", "104": "yes"})
    again = ow.decide(**cs.vote_inputs(Consultation.objects.get(pk=c.pk)))
    assert again.digest == c.result_digest and again.outcome.value == c.result_status


def test_a_dwelling_without_area_or_owner_blocks_opening(env, flats):
    flats["103"].floor_area_m2 = None
    flats["103"].save()
    with pytest.raises(ValidationFailed):
        _vote(env, "covenant")
    with pytest.raises(CouncilRuleError):
        _vote(env, "lottery")
    assert not Consultation.objects.exists()


def test_only_staff_key_in_paper_ballots(env, flats):
    c = _vote(env, "covenant")
    with pytest.raises(Forbidden):
        cs.cast_ballot(c, actor=env.liaison, household_id=flats["101"].pk, choice="yes",
                       source="paper", cast_by="A")
