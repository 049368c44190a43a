"""Project progress (weighted roll-up) and the self-governance grant ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from fractions import Fraction as F
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.council.progress import (
    CODES,
    FundCredited,
    GrantApplied,
    GrantApproved,
    GrantRejected,
    GrantSpent,
    GrantStatus,
    Ledger,
    LedgerEvent,
    ProgressError,
    Result,
    apply_event,
    compute_progress,
    replay,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=SH)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def refused(code: str, fn: object, *args: object) -> ProgressError:
    with pytest.raises(ProgressError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.code == code
    return info.value


# --- progress ---------------------------------------------------------------------------------------

def test_weighted_parent_progress_is_the_weighted_mean_of_children() -> None:
    # (2·60 + 1·90) / 3 = 70.
    root = Result("ramp", children=(Result("design", progress=60, weight=2),
                                    Result("build", progress=90, weight=1)))
    p = compute_progress(root)
    assert p.progress == 70 and p.weighted


def test_decidim_style_weights_that_add_up_to_one_work_the_same() -> None:
    root = Result("p", children=(Result("a", progress=100, weight=D("0.25")),
                                 Result("b", progress=20, weight=D("0.75"))))
    assert compute_progress(root).progress == 40  # 25 + 15


def test_unweighted_parent_progress_is_the_plain_mean() -> None:
    root = Result("p", children=(Result("a", progress=100), Result("b", progress=0),
                                 Result("c", progress=50)))
    p = compute_progress(root)
    assert p.progress == 50 and not p.weighted


def test_progress_rolls_up_through_several_levels_exactly() -> None:
    # c1 = mean(30, 60) = 45; root = (1·45 + 2·100) / 3 = 245/3.
    root = Result("root", children=(
        Result("c1", weight=1, children=(Result("g1", progress=30), Result("g2", progress=60))),
        Result("c2", weight=2, progress=0, children=(Result("g3", progress=100),)),
    ))
    p = compute_progress(root)
    assert p.find("c1").progress == 45
    assert p.find("c2").progress == 100  # a parent's own progress field is ignored
    assert p.progress == F(245, 3)
    assert p.percent() == "81.7%" and p.percent(0) == "82%"


def test_a_leaf_without_progress_counts_as_zero() -> None:
    root = Result("p", children=(Result("a"), Result("b", progress=D("50.5"))))
    assert compute_progress(root).progress == F(101, 4)


def test_mixing_weighted_and_unweighted_children_is_refused() -> None:
    root = Result("p", children=(Result("a", progress=10, weight=1), Result("b", progress=10)))
    err = refused("mixed_weights", compute_progress, root)
    assert err.details == {"result": "p"}


@pytest.mark.parametrize("weight", [0, -1, 0.5, D("NaN")])
def test_bad_weights_are_refused(weight: object) -> None:
    root = Result("p", children=(Result("a", progress=10, weight=weight),  # type: ignore[arg-type]
                                 Result("b", progress=10, weight=1)))
    refused("invalid_weight", compute_progress, root)


@pytest.mark.parametrize("progress", [-1, 101, 33.3, "50"])
def test_progress_outside_zero_to_hundred_or_inexact_is_refused(progress: object) -> None:
    refused("invalid_progress", compute_progress, Result("a", progress=progress))  # type: ignore[arg-type]


def test_a_result_id_used_twice_is_refused() -> None:
    root = Result("p", children=(Result("a", progress=1), Result("a", progress=2)))
    refused("duplicate_result", compute_progress, root)


leaf_progress = st.integers(min_value=0, max_value=100)
weights = st.integers(min_value=1, max_value=50)


@settings(max_examples=200)
@given(st.lists(st.tuples(leaf_progress, weights), min_size=1, max_size=10),
       st.integers(min_value=1, max_value=7))
def test_weighted_progress_lies_between_children_and_ignores_weight_scale(
        kids: list[tuple[int, int]], k: int) -> None:
    def tree(scale: int) -> Result:
        return Result("p", children=tuple(Result(f"c{i}", progress=p, weight=w * scale)
                                          for i, (p, w) in enumerate(kids)))
    p = compute_progress(tree(1)).progress
    assert min(x for x, _ in kids) <= p <= max(x for x, _ in kids)
    assert compute_progress(tree(k)).progress == p


# --- the grant ledger ----------------------------------------------------------------------------

def funded(amount: str = "10000.00") -> list[LedgerEvent]:
    return [FundCredited("nb-2026", D(amount), at(0), "subdistrict"),
            GrantApplied("g1", "nb-2026", "楼道微更新", D("3000.00"), at(1), "captain-1")]


def test_a_grant_is_applied_approved_and_spent_against_receipts() -> None:
    ledger = replay([*funded(),
                     GrantApproved("g1", D("2500.00"), at(2), "council"),
                     GrantSpent("g1", D("1000.00"), "FP-001", at(3), "captain-1"),
                     GrantSpent("g1", D("1500"), "FP-002", at(4), "captain-1")])
    g = ledger.grants["g1"]
    assert (g.status, g.requested, g.approved, g.spent, g.balance) == (
        GrantStatus.APPROVED, D("3000"), D("2500"), D("2500"), D("0"))
    assert g.receipts == (("FP-001", D("1000.00")), ("FP-002", D("1500.00")))
    assert ledger.funds["nb-2026"].available == D("7500.00")
    assert ledger.events == 5


def test_spending_that_would_make_the_balance_negative_is_refused_and_changes_nothing() -> None:
    before = replay([*funded(), GrantApproved("g1", D("2500.00"), at(2), "council"),
                     GrantSpent("g1", D("2000.00"), "FP-001", at(3), "captain-1")])
    snapshot = (dict(before.grants), dict(before.funds), before.receipts, before.events)
    err = refused("overspend", apply_event, before,
                  GrantSpent("g1", D("500.01"), "FP-002", at(4), "captain-1"))
    assert "500.01" in err.message and err.details["balance"] == "500.00"
    assert (dict(before.grants), dict(before.funds), before.receipts, before.events) == snapshot
    # Exactly the balance is fine.
    after = apply_event(before, GrantSpent("g1", D("500.00"), "FP-002", at(4), "captain-1"))
    assert after.grants["g1"].balance == 0


def test_spending_before_approval_or_after_rejection_is_refused() -> None:
    refused("invalid_state", replay, [*funded(), GrantSpent("g1", D("1"), "r", at(2), "x")])
    refused("invalid_state", replay, [*funded(), GrantRejected("g1", at(2), "council", "重复申请"),
                                      GrantSpent("g1", D("1"), "r", at(3), "x")])


def test_a_rejected_grant_reserves_nothing() -> None:
    ledger = replay([*funded(), GrantRejected("g1", at(2), "council", "不属于自治范围")])
    assert ledger.grants["g1"].status is GrantStatus.REJECTED
    assert ledger.funds["nb-2026"].available == D("10000.00")


def test_approval_is_capped_by_the_request_and_by_what_the_fund_has_left() -> None:
    refused("approval_exceeds_request", replay,
            [*funded(), GrantApproved("g1", D("3000.01"), at(2), "council")])
    events = [*funded("4000"), GrantApproved("g1", D("3000"), at(2), "council"),
              GrantApplied("g2", "nb-2026", "花园", D("1500"), at(3), "captain-2"),
              GrantApproved("g2", D("1500"), at(4), "council")]
    err = refused("fund_exhausted", replay, events)
    assert err.details["available"] == "1000.00" and err.details["event_index"] == 4


def test_approving_twice_is_refused() -> None:
    refused("invalid_state", replay, [*funded(), GrantApproved("g1", D("1"), at(2), "c"),
                                      GrantApproved("g1", D("1"), at(3), "c")])


@pytest.mark.parametrize("receipt", ["", "   "])
def test_spending_needs_a_receipt(receipt: str) -> None:
    refused("receipt_missing", replay, [*funded(), GrantApproved("g1", D("100"), at(2), "c"),
                                        GrantSpent("g1", D("10"), receipt, at(3), "x")])


def test_a_receipt_cannot_be_used_twice_even_across_grants() -> None:
    refused("duplicate_receipt", replay, [
        *funded(), GrantApproved("g1", D("100"), at(2), "c"),
        GrantApplied("g2", "nb-2026", "b", D("100"), at(3), "y"),
        GrantApproved("g2", D("100"), at(4), "c"),
        GrantSpent("g1", D("10"), "FP-9", at(5), "x"),
        GrantSpent("g2", D("10"), "FP-9", at(6), "y")])


def test_unknown_funds_and_grants_and_duplicate_grants_are_refused() -> None:
    refused("unknown_fund", replay, [GrantApplied("g1", "nowhere", "p", D("1"), at(0), "x")])
    refused("unknown_grant", replay, [*funded(), GrantApproved("g9", D("1"), at(2), "c")])
    refused("duplicate_grant", replay, [*funded(),
                                        GrantApplied("g1", "nb-2026", "p", D("1"), at(2), "x")])


@pytest.mark.parametrize("amount", [0, -5, 12.5, D("0.001"), D("NaN"), True])
def test_amounts_must_be_positive_yuan_with_at_most_two_places(amount: object) -> None:
    refused("invalid_amount", replay, [FundCredited("f", amount, at(0), "x")])  # type: ignore[arg-type]


def test_naive_and_out_of_order_times_are_refused() -> None:
    refused("naive_datetime", replay, [FundCredited("f", D("1"), datetime(2026, 3, 1), "x")])
    err = refused("out_of_order", replay, [FundCredited("f", D("1"), at(5), "x"),
                                          FundCredited("f", D("1"), at(4), "x")])
    assert err.details["event_index"] == 1
    # The same instant in another zone is not earlier.
    same = at(5).astimezone(UTC)
    assert replay([FundCredited("f", D("1"), at(5), "x"),
                   FundCredited("f", D("1"), same, "x")]).funds["f"].credited == 2


def test_every_ledger_error_code_has_a_chinese_message() -> None:
    for code, message in CODES.items():
        assert ProgressError(code).message == message and any("\u4e00" <= ch <= "\u9fff" for ch in message)


def money(low: str, high: str) -> st.SearchStrategy[D]:
    return st.decimals(min_value=D(low), max_value=D(high), places=2)


@st.composite
def event_streams(draw: st.DrawFn) -> list[LedgerEvent]:
    """Mostly plausible streams (so spending really happens), with every kind of slip mixed in."""
    out: list[LedgerEvent] = [FundCredited("f", draw(money("1000", "20000")), at(0), "s")]
    for i in range(1, draw(st.integers(min_value=1, max_value=40))):
        g = f"g{draw(st.integers(min_value=0, max_value=3))}"
        kind = draw(st.sampled_from(["credit", "apply", "approve", "reject", "spend", "spend"]))
        options: dict[str, LedgerEvent] = {
            "credit": FundCredited("f", draw(money("0.01", "5000")), at(i), "s"),
            "apply": GrantApplied(g, "f", "p", draw(money("1000", "5000")), at(i), "x"),
            "approve": GrantApproved(g, draw(money("1", "3000")), at(i), "c"),
            "reject": GrantRejected(g, at(i), "c", "no"),
            "spend": GrantSpent(g, draw(money("0.01", "800")), f"r{draw(st.integers(0, 60))}",
                                at(i), "x"),
        }
        out.append(options[kind])
    return out


@settings(max_examples=300)
@given(event_streams())
def test_no_sequence_of_events_makes_a_balance_negative(events: list[LedgerEvent]) -> None:
    ledger = Ledger()
    for e in events:
        try:
            ledger = apply_event(ledger, e)
        except ProgressError:
            continue
    fund = ledger.funds["f"]
    assert fund.available >= 0
    assert fund.reserved == sum((g.approved for g in ledger.grants.values()), D(0))
    for g in ledger.grants.values():
        assert 0 <= g.spent <= g.approved <= g.requested
        assert g.balance >= 0
        assert g.spent == sum((a for _, a in g.receipts), D(0))
    assert len(ledger.receipts) == sum(len(g.receipts) for g in ledger.grants.values())
