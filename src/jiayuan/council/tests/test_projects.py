"""Projects with weighted progress, the grant ledger (never negative), resources and needs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jiayuan.core.errors import ValidationFailed
from jiayuan.council.models import LedgerEntry, Project, SelfGovernanceGrant
from jiayuan.council.progress import ProgressError
from jiayuan.council.services import projects as ps


def _project(env, milestones=None):
    return ps.create_project(env.council, actor=env.staff, title="加装无障碍坡道", budget="20000",
                             milestones=milestones if milestones is not None else [
                                 ("设计", "1", "100"), ("施工", "3", "50")])


def test_weighted_progress_is_the_engines(env):
    p = _project(env)
    # (1*100 + 3*50) / 4 = 62.5
    assert p.progress == Decimal("62.50")
    m = p.milestones.get(title="施工")
    p = ps.set_milestone_progress(m, actor=env.staff, progress="100")
    assert p.progress == Decimal("100.00")


def test_mixed_weights_and_bad_progress_are_refused_and_nothing_stored(env):
    with pytest.raises(ProgressError) as err:
        _project(env, [("设计", "1", "100"), ("施工", None, "0")])
    assert err.value.code == "mixed_weights"
    assert not Project.objects.exists()
    p = _project(env)
    with pytest.raises(ProgressError):
        ps.set_milestone_progress(p.milestones.first(), actor=env.staff, progress="120")
    assert Project.objects.get(pk=p.pk).progress == Decimal("62.50")


def test_spending_that_would_go_negative_is_refused(env):
    p = _project(env)
    ps.credit_fund(env.council, actor=env.staff, amount="1000")
    g = ps.apply_grant(p, actor=env.staff, amount="500")
    g = ps.approve_grant(g, actor=env.staff, amount="400")
    assert g.status == "approved" and g.approved == Decimal("400.00")
    g = ps.spend(g, actor=env.staff, amount="300", receipt="FP-001")
    before = LedgerEntry.objects.count()
    with pytest.raises(ProgressError) as err:
        ps.spend(g, actor=env.staff, amount="100.01", receipt="FP-002")
    assert err.value.code == "overspend"
    assert LedgerEntry.objects.count() == before
    assert SelfGovernanceGrant.objects.get(pk=g.pk).spent == Decimal("300.00")
    with pytest.raises(ProgressError) as err:
        ps.spend(g, actor=env.staff, amount="10", receipt="FP-001")
    assert err.value.code == "duplicate_receipt"
    g = ps.spend(g, actor=env.staff, amount="100", receipt="FP-003")
    assert g.spent == Decimal("400.00")
    fund = ps.fund_of(env.council)
    assert fund.credited - fund.reserved == Decimal("600.00")


def test_approval_beyond_the_fund_is_refused(env):
    p = _project(env)
    ps.credit_fund(env.council, actor=env.staff, amount="100")
    g = ps.apply_grant(p, actor=env.staff, amount="500")
    with pytest.raises(ProgressError) as err:
        ps.approve_grant(g, actor=env.staff, amount="500")
    assert err.value.code == "fund_exhausted"
    with pytest.raises(ProgressError):
        ps.spend(g, actor=env.staff, amount="10", receipt="R1")  # not approved
    with pytest.raises(ValidationFailed):
        ps.credit_fund(env.council, actor=env.staff, amount="abc")


def test_needs_are_matched_by_category_place_and_capacity(env):
    near = ps.add_resource(env.council, actor=env.staff, provider="社区医院", title="上门体检",
                           category="health", capacity=2, compound=env.compound)
    far = ps.add_resource(env.council, actor=env.staff, provider="街道卫生站", title="义诊",
                          category="health", capacity=10)
    ps.add_resource(env.council, actor=env.staff, provider="律所", title="法律咨询",
                    category="legal", capacity=5)
    need = ps.add_need(env.council, actor=env.staff, title="独居老人体检", category="health",
                       size=2, compound=env.compound)
    assert [r.pk for r in ps.candidates(need)] == [near.pk, far.pk]
    assert ps.match_need(need, actor=env.staff).matched_resource == near
    second = ps.add_need(env.council, actor=env.staff, title="再体检", category="health",
                         size=1, compound=env.compound)
    assert [r.pk for r in ps.candidates(second)] == [far.pk]  # near is full
    big = ps.add_need(env.council, actor=env.staff, title="大型义诊", category="health", size=50)
    with pytest.raises(ValidationFailed):
        ps.match_need(big, actor=env.staff)
