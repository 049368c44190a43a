"""Properties of the owners' vote and consent rules over generated compounds (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction as F

from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.council.rules import (
    Answer,
    Ballot,
    Bound,
    Choice,
    ConsentAnswer,
    ConsentCampaign,
    ConsentRule,
    ConsentStatus,
    Dwelling,
    Electorate,
    Matter,
    Outcome,
    OwnersDecision,
    Proxy,
    Scope,
    Source,
    decide,
    tally_consent,
)

PEOPLE = [f"p{i}" for i in range(8)]


@dataclass(frozen=True)
class Case:
    """A compound, each owner-person's choice (None: did not vote), and who cast it how."""

    electorate: Electorate
    person_choice: dict[frozenset[str], Choice | None]
    casts: dict[str, Source]  # dwelling -> source, for the dwellings that cast a ballot
    matter: Matter

    def ballots(self) -> list[Ballot]:
        out = []
        for d in self.electorate.dwellings:
            choice = self.person_choice[d.owners]
            if choice is None or d.dwelling_id not in self.casts:
                continue
            source = self.casts[d.dwelling_id]
            by = f"holder-{d.dwelling_id}" if source is Source.PROXY else min(d.owners)
            out.append(Ballot(d.dwelling_id, choice, source, by,
                              "staff" if source is Source.PAPER else None))
        return out

    def proxies(self) -> list[Proxy]:
        return [Proxy(d.dwelling_id, min(d.owners), f"holder-{d.dwelling_id}", "v")
                for d in self.electorate.dwellings]

    def decide(self, ballots: list[Ballot] | None = None) -> OwnersDecision:
        return decide(vote_id="v", matter=self.matter, electorate=self.electorate,
                      ballots=self.ballots() if ballots is None else ballots,
                      proxies=self.proxies())


areas = st.decimals(min_value=Decimal("20.00"), max_value=Decimal("300.00"), places=2)
owner_sets = st.frozensets(st.sampled_from(PEOPLE), min_size=1, max_size=2)
choices = st.one_of(st.none(), st.sampled_from(list(Choice)))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(min_value=1, max_value=12))
    dwellings = tuple(Dwelling(f"d{i:02d}", draw(areas), draw(owner_sets)) for i in range(n))
    keys = sorted({d.owners for d in dwellings}, key=sorted)
    person_choice = {k: draw(choices) for k in keys}
    casts = {d.dwelling_id: s for d in dwellings
             if (s := draw(st.one_of(st.none(), st.sampled_from(list(Source))))) is not None}
    matter = draw(st.sampled_from(list(Matter)))
    return Case(Electorate(Scope.BUILDING, "b", dwellings), person_choice, casts, matter)


def with_one_more_yes(case: Case, pick: int) -> Case:
    """The same case where one owner-person (not yet all-yes) says yes on at least one dwelling."""
    keys = sorted(case.person_choice, key=sorted)
    key = keys[pick % len(keys)]
    choice = dict(case.person_choice)
    choice[key] = Choice.YES
    casts = dict(case.casts)
    theirs = [d.dwelling_id for d in case.electorate.dwellings if d.owners == key]
    if not any(d in casts for d in theirs):
        casts[theirs[0]] = Source.ONLINE
    return Case(case.electorate, choice, casts, case.matter)


@settings(max_examples=300)
@given(cases(), st.integers(min_value=0))
def test_adding_a_yes_never_turns_a_pass_into_a_fail(case: Case, pick: int) -> None:
    before = case.decide()
    after = with_one_more_yes(case, pick).decide()
    if before.outcome is Outcome.PASSED:
        assert after.outcome is Outcome.PASSED
    if before.outcome is not Outcome.NO_QUORUM:
        assert after.outcome is not Outcome.NO_QUORUM
    assert after.yes.area >= before.yes.area and after.yes.owners >= before.yes.owners


@settings(max_examples=200)
@given(cases(), st.randoms(use_true_random=False))
def test_the_order_of_ballots_never_changes_the_result(case: Case, rnd: object) -> None:
    ballots = case.ballots()
    shuffled = list(ballots)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert case.decide(shuffled) == case.decide(ballots)


@settings(max_examples=300)
@given(cases())
def test_the_outcome_is_consistent_with_the_counts_and_bounded_by_the_electorate(case: Case) -> None:
    d = case.decide()
    e, p = d.eligible, d.participating
    parts = (d.yes, d.no, d.abstain, d.spoiled)
    # Counts add up and never exceed the electorate.
    assert sum(c.dwellings for c in parts) == p.dwellings <= e.dwellings
    assert sum(c.owners for c in parts) == p.owners <= e.owners
    assert sum((c.area for c in parts), F(0)) == p.area <= e.area
    assert all(c.dwellings >= 0 and c.area >= 0 for c in parts)
    assert len(d.not_voted) + p.dwellings == e.dwellings == len(case.electorate.dwellings)
    assert e.area == sum((F(x.area) for x in case.electorate.dwellings), F(0))
    # Each criterion is the exact comparison it claims to be.
    for c in d.criteria:
        expect = (c.denominator > 0 and (c.numerator >= c.threshold * c.denominator
                                          if c.bound is Bound.AT_LEAST
                                          else c.numerator > c.threshold * c.denominator))
        assert c.passed == expect
        assert 0 <= c.achieved <= 1
    quorum = d.criterion("participation_area").passed and d.criterion("participation_owners").passed
    approved = d.criterion("approval_area").passed and d.criterion("approval_owners").passed
    assert d.outcome in set(Outcome)
    assert d.outcome is (Outcome.NO_QUORUM if not quorum
                         else Outcome.PASSED if approved else Outcome.FAILED)


@settings(max_examples=100)
@given(cases())
def test_the_same_inputs_give_the_same_digest_and_it_is_recomputable(case: Case) -> None:
    a, b = case.decide(), case.decide()
    assert a.digest == b.digest and a == b


members = st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=1, max_size=15,
                   unique=True)
rules = st.one_of(
    st.just(ConsentRule.unanimity()),
    st.builds(ConsentRule.share,
              st.fractions(min_value=F(1, 20), max_value=1).filter(lambda f: 0 < f <= 1),
              st.just(Bound.AT_LEAST)),
    st.builds(ConsentRule.share,
              st.fractions(min_value=F(1, 20), max_value=F(19, 20)), st.just(Bound.MORE_THAN)),
)


@settings(max_examples=300)
@given(members, rules, st.data())
def test_consent_status_follows_the_counts_and_one_more_consent_never_undoes_it(
        names: list[str], rule: ConsentRule, data: st.DataObject) -> None:
    answers = {m: data.draw(st.one_of(st.none(), st.sampled_from(list(Answer))), label=m)
               for m in names}
    camp = ConsentCampaign("c", tuple(names), rule)
    given_answers = [ConsentAnswer(m, a) for m, a in answers.items() if a is not None]
    r = tally_consent(camp, given_answers)
    assert r.consents + r.refusals + len(r.missing) == r.members == len(names)
    reached = (r.consents >= rule.threshold * r.members if rule.bound is Bound.AT_LEAST
               else r.consents > rule.threshold * r.members)
    assert (r.status is ConsentStatus.REACHED) == reached
    if rule.unanimous:
        assert (r.status is ConsentStatus.FAILED) == (r.refusals > 0)
    if r.missing:
        one_more = given_answers + [ConsentAnswer(r.missing[0], Answer.CONSENT)]
        after = tally_consent(camp, one_more)
        if r.status is ConsentStatus.REACHED:
            assert after.status is ConsentStatus.REACHED
        if r.status is ConsentStatus.FAILED:
            assert after.status is ConsentStatus.FAILED
