"""Written consent of a defined group: the 13 tenants of the 天津路 426 弄 ramp, and share rules."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from jiayuan.council.rules import (
    Answer,
    AnswerSource,
    Bound,
    ConsentAnswer,
    ConsentCampaign,
    ConsentResult,
    ConsentRule,
    ConsentStatus,
    CouncilRuleError,
    tally_consent,
)

TENANTS = tuple(f"tenant-{i:02d}" for i in range(1, 14))


def ramp(closed: bool = False) -> ConsentCampaign:
    return ConsentCampaign("ramp-426", TENANTS, ConsentRule.unanimity(), closed=closed)


def said(members: tuple[str, ...] | list[str], answer: Answer = Answer.CONSENT) -> list[ConsentAnswer]:
    return [ConsentAnswer(m, answer, AnswerSource.WRITTEN, "staff-1") for m in members]


def tally(campaign: ConsentCampaign, answers: list[ConsentAnswer]) -> ConsentResult:
    return tally_consent(campaign, answers)


def test_twelve_of_thirteen_tenants_consenting_is_pending_and_names_the_missing_one() -> None:
    r = tally(ramp(), said(TENANTS[:12]))
    assert r.status is ConsentStatus.PENDING
    assert r.missing == ("tenant-13",)
    assert (r.members, r.consents, r.refusals) == (13, 12, 0)
    assert "未答复1人" in r.reason_zh


def test_all_thirteen_tenants_consenting_reaches_consent() -> None:
    r = tally(ramp(), said(TENANTS))
    assert r.status is ConsentStatus.REACHED and r.missing == ()
    assert r.consent_share == 1


def test_one_refusal_fails_unanimity_even_while_others_have_not_answered() -> None:
    r = tally(ramp(), said(TENANTS[:5]) + said(["tenant-06"], Answer.REFUSE))
    assert r.status is ConsentStatus.FAILED
    assert r.refusals == 1 and len(r.missing) == 7


def test_a_closed_campaign_with_someone_missing_fails() -> None:
    assert tally(ramp(closed=True), said(TENANTS[:12])).status is ConsentStatus.FAILED
    assert "征询已截止" in tally(ramp(closed=True), said(TENANTS[:12])).reason_zh


def test_no_answers_yet_is_pending_with_everyone_missing_in_stable_order() -> None:
    r = tally(ConsentCampaign("c", tuple(reversed(TENANTS)), ConsentRule.unanimity()), [])
    assert r.status is ConsentStatus.PENDING and r.missing == TENANTS


def test_a_two_thirds_share_is_reached_at_exactly_two_thirds_of_all_members() -> None:
    c = ConsentCampaign("c", tuple(f"m{i}" for i in range(9)), ConsentRule.share(F(2, 3)))
    assert tally(c, said([f"m{i}" for i in range(6)])).status is ConsentStatus.REACHED
    assert tally(c, said([f"m{i}" for i in range(5)])).status is ConsentStatus.PENDING


def test_a_share_fails_once_it_cannot_be_reached_even_if_everyone_left_consents() -> None:
    c = ConsentCampaign("c", tuple(f"m{i}" for i in range(9)), ConsentRule.share(F(2, 3)))
    # 3 refusals of 9: at most 6/9 = 2/3 still possible → pending; a 4th refusal → failed.
    assert tally(c, said(["m0", "m1", "m2"], Answer.REFUSE)).status is ConsentStatus.PENDING
    assert tally(c, said(["m0", "m1", "m2", "m3"], Answer.REFUSE)).status is ConsentStatus.FAILED


def test_more_than_half_consent_is_not_reached_by_a_tie() -> None:
    c = ConsentCampaign("c", ("a", "b", "c", "d"), ConsentRule.share(F(1, 2), Bound.MORE_THAN))
    assert tally(c, said(["a", "b"]) + said(["c", "d"], Answer.REFUSE)).status is ConsentStatus.FAILED
    assert tally(c, said(["a", "b", "c"])).status is ConsentStatus.REACHED
    assert tally(c, said(["a", "b"])).status is ConsentStatus.PENDING


def test_the_share_base_is_all_members_not_those_who_answered() -> None:
    c = ConsentCampaign("c", tuple(f"m{i}" for i in range(10)), ConsentRule.share(F(2, 3)),
                        closed=True)
    # 3 consent, 0 refuse: 100% of answers but 3/10 of members.
    r = tally(c, said(["m0", "m1", "m2"]))
    assert r.status is ConsentStatus.FAILED and r.consent_share == F(3, 10)


def test_an_answer_from_outside_the_list_is_refused() -> None:
    with pytest.raises(CouncilRuleError) as info:
        tally(ramp(), said(["passer-by"]))
    assert info.value.code == "not_a_member" and "passer-by" in info.value.message


def test_a_member_answering_twice_is_refused() -> None:
    with pytest.raises(CouncilRuleError) as info:
        tally(ramp(), said(["tenant-01"]) + said(["tenant-01"], Answer.REFUSE))
    assert info.value.code == "duplicate_answer"


@pytest.mark.parametrize(("members", "code"), [((), "empty_campaign"),
                                               (("a", "b", "a"), "duplicate_member")])
def test_a_bad_member_list_is_refused(members: tuple[str, ...], code: str) -> None:
    with pytest.raises(CouncilRuleError) as info:
        tally(ConsentCampaign("c", members, ConsentRule.unanimity()), [])
    assert info.value.code == code


@pytest.mark.parametrize(("threshold", "bound"), [
    (F(0), Bound.AT_LEAST), (F(-1, 2), Bound.AT_LEAST), (F(3, 2), Bound.AT_LEAST),
    (F(1), Bound.MORE_THAN), (0.5, Bound.AT_LEAST),
])
def test_impossible_or_inexact_thresholds_are_refused(threshold: F, bound: Bound) -> None:
    with pytest.raises(CouncilRuleError) as info:
        ConsentRule.share(threshold, bound)
    assert info.value.code == "invalid_threshold"


def test_a_unanimity_rule_cannot_carry_a_lower_threshold() -> None:
    with pytest.raises(CouncilRuleError):
        ConsentRule(F(2, 3), Bound.AT_LEAST, True)


def test_the_consent_digest_ignores_answer_order_but_not_answers() -> None:
    answers = said(TENANTS[:12])
    a = tally(ramp(), answers)
    b = tally(ramp(), list(reversed(answers)))
    c = tally(ramp(), said(TENANTS[1:13]))
    assert a == b
    assert a.digest != c.digest
