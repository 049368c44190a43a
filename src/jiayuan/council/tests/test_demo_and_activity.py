"""Demo data and the activity selector the index's deriver reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from jiayuan.core.errors import Conflict
from jiayuan.council import demo
from jiayuan.council.models import (
    Consultation,
    Council,
    LedgerEntry,
    Meeting,
    SelfGovernanceGrant,
    Topic,
)
from jiayuan.council.rules import owners as ow
from jiayuan.council.selectors import activity_by_compound
from jiayuan.council.services import consultations as cs
from jiayuan.council.services import meetings as ms
from jiayuan.council.services import projects as ps
from jiayuan.council.services.projects import ledger_of
from jiayuan.council.services.topics import raise_topic, resolve_topic
from jiayuan.registry.models import Household


def _dwellings(tiny):
    for key, e in tiny.entrances.items():
        for i in range(6):
            Household.objects.create(entrance=e, compound=tiny.compounds[key], room=f"{i + 1}01",
                                     floor_area_m2=Decimal(60 + 10 * i))


def test_demo_feeds_every_neighbourhood_and_its_ledger_replays(tiny):
    _dwellings(tiny)
    end = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    counts = demo.generate_councils(7, end=end, votes_every=2)
    assert counts["councils"] == Council.objects.count() == 4
    assert counts["topics"] == 48 and counts["owners_votes"] == 2
    kinds = set(Meeting.objects.filter(status="held").values_list("kind", flat=True))
    assert kinds == {"hearing", "coordination", "evaluation"}
    for c in Consultation.objects.filter(kind="owners_vote"):
        again = ow.decide(**cs.vote_inputs(c))
        assert again.digest == c.result_digest
    for fund_id in LedgerEntry.objects.values_list("fund_id", flat=True).distinct():
        state = ledger_of(LedgerEntry.objects.filter(fund_id=fund_id).first().fund)
        assert all(g.balance >= 0 for g in state.grants.values())
    assert all(g.spent <= g.approved for g in SelfGovernanceGrant.objects.all())
    activity = activity_by_compound(end - dt.timedelta(days=365), end)
    assert sum(sum(a["meetings"].values()) for a in activity.values()) > 0
    with pytest.raises(Conflict):
        demo.generate_councils(7, end=end)
    demo.clear_councils()
    assert not Topic.objects.exists() and not Council.objects.exists()


def test_activity_by_compound_counts_by_hand(env, flats):
    now = timezone.now()
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    cid = env.compound.pk
    t1, _ = raise_topic(env.council, actor=env.staff, title="a", compound=env.compound)
    raise_topic(env.council, actor=env.staff, title="b", compound=env.compound)
    resolve_topic(t1, actor=env.staff)
    m = ms.schedule_meeting(env.council, actor=env.staff, kind="evaluation", title="评议会",
                            starts_at=now, compound=env.compound)
    ms.hold_meeting(m, actor=env.staff, minutes="ok")
    ms.schedule_meeting(env.council, actor=env.staff, kind="hearing", title="未举行",
                        starts_at=now, compound=env.compound)
    vote = cs.open_owners_vote(env.council, actor=env.staff, title="v", matter="covenant",
                               scope="compound", scope_code=env.compound.code)
    cs.cast_ballot(vote, actor=env.staff, household_id=flats["101"].pk, choice="yes",
                   source="paper", cast_by="A", paper_number="P-001")
    p = ps.create_project(env.council, actor=env.staff, title="p", compound=env.compound)
    ps.credit_fund(env.council, actor=env.staff, amount="500")
    g = ps.approve_grant(ps.apply_grant(p, actor=env.staff, amount="300"), actor=env.staff,
                         amount="300")
    ps.spend(g, actor=env.staff, amount="120.50", receipt="R1")
    row = activity_by_compound(start, end)[cid]
    assert row == {"meetings": {"hearing": 0, "coordination": 0, "evaluation": 1},
                   "topics_raised": 2, "topics_resolved": 1, "consultations": 1,
                   "consultation_participants": 1, "consultation_eligible": 4,
                   "funds_spent": Decimal("120.50")}
    assert activity_by_compound(end, end + dt.timedelta(days=1)) == {}


def test_demo_votes_name_who_cast_or_entered_every_ballot(tiny, make_user):
    from jiayuan.council.models import OwnerLink, VoteBallot

    _dwellings(tiny)
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    admin = make_user("admin", "admin")
    resident = make_user("resident", "resident")
    demo.generate_councils(7, end=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), votes_every=3)
    ballots = list(VoteBallot.objects.select_related("consultation__council"))
    assert ballots
    for b in ballots:
        if b.source == "paper":
            expected = staff if b.consultation.council.neighbourhood_id == \
                tiny.neighbourhoods["S1N1"].pk else admin
            assert b.entered_by == expected and b.paper_number
        else:
            assert b.source == "online" and b.cast_by_user == resident
            assert OwnerLink.objects.get(user=resident, status="verified").owner.owner_ref \
                == b.cast_by
    assert sum(b.source == "online" for b in ballots) == 1
    for c in Consultation.objects.filter(kind="owners_vote"):
        assert ow.decide(**cs.vote_inputs(c)).digest == c.result_digest
