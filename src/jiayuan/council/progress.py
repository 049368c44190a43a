"""Accountability for council projects: weighted progress and the self-governance grant ledger.

Pure, no Django. Two engines:

* **Progress** (after Decidim's accountability component): a project's results form a tree;
  a leaf carries its own progress (0–100 %); a parent's progress is computed from its children,
  weighted when every child has a weight (Σ wᵢ·pᵢ / Σ wᵢ — weights need not add up to 1) and the
  plain mean when none has. Mixing weighted and unweighted children is refused: it is always a
  data-entry slip, and guessing a weight would silently move the figure.
* **Grant ledger** (自治金 / 微实事): a fold over events — a fund is credited, a grant is
  applied for, approved (drawing on the fund) or rejected, and spent against numbered receipts.
  Any event that would make a fund or a grant balance negative is refused, as are spending
  without a receipt or before approval. Money is ``Decimal`` yuan with at most two places
  (分); floats are refused.

A refused event raises :class:`ProgressError` with a stable code and a Chinese message and leaves
the ledger passed in unchanged (states are immutable; every step returns a new one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final

from jiayuan.core.errors import ValidationFailed

CODES: Final[dict[str, str]] = {
    "invalid_progress": "进度必须是 0 到 100 之间的精确数值",
    "invalid_weight": "权重必须是大于零的精确数值",
    "mixed_weights": "同一上级结果下的子结果必须全部设置权重或全部不设置",
    "duplicate_result": "结果编号重复",
    "invalid_amount": "金额必须是大于零、最多两位小数的数值（单位：元）",
    "naive_datetime": "时间必须带时区",
    "out_of_order": "事件时间早于上一条事件",
    "unknown_fund": "自治金账户不存在",
    "unknown_grant": "自治金申请不存在",
    "duplicate_grant": "自治金申请编号重复",
    "invalid_state": "当前状态下不能执行该操作",
    "approval_exceeds_request": "批准金额不能超过申请金额",
    "fund_exhausted": "自治金账户余额不足，不能批准",
    "overspend": "支出将使项目余额为负，已拒绝",
    "receipt_missing": "支出必须附票据编号",
    "duplicate_receipt": "票据编号已使用",
}


class ProgressError(ValidationFailed):
    """A refusal of the progress or ledger engines; ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, message: str | None = None, *, details: Any = None) -> None:
        if code not in CODES:
            raise KeyError(f"unregistered progress error code {code!r}")
        self.code = code
        super().__init__(message or CODES[code], details=details)


def _exact(value: object, code: str, *, what: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Decimal | Fraction | int):
        raise ProgressError(code, details={"what": what, "value": repr(value)})
    if isinstance(value, Decimal) and not value.is_finite():
        raise ProgressError(code, details={"what": what, "value": str(value)})
    return Fraction(value)


# --- progress -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """One result of a project (a tree node). ``progress`` is read only on leaves (percent)."""

    result_id: str
    title: str = ""
    progress: Decimal | Fraction | int | None = None
    weight: Decimal | Fraction | int | None = None
    children: tuple[Result, ...] = ()


@dataclass(frozen=True)
class Progress:
    """The computed progress of a result (percent, exact) and of each of its children."""

    result_id: str
    progress: Fraction
    weighted: bool
    children: tuple[Progress, ...] = ()

    def percent(self, places: int = 1) -> str:
        """Progress for people, rounded half-up to ``places`` decimals, e.g. ``"62.5%"``."""
        scale = 10 ** places
        x = self.progress * scale
        rounded = (x.numerator * 2 + x.denominator) // (2 * x.denominator)
        whole, frac = divmod(rounded, scale)
        return f"{whole}.{frac:0{places}d}%" if places else f"{whole}%"

    def find(self, result_id: str) -> Progress:
        if self.result_id == result_id:
            return self
        for c in self.children:
            try:
                return c.find(result_id)
            except KeyError:
                continue
        raise KeyError(result_id)


def compute_progress(root: Result) -> Progress:
    """Compute the progress of ``root`` and every result below it.

    A leaf's progress is its own (``None`` counts as 0). A parent's is the weighted mean of its
    children when all have weights, else their plain mean. Refuses ``invalid_progress`` (outside
    0–100 or not exact), ``invalid_weight`` (non-positive or not exact), ``mixed_weights`` and
    ``duplicate_result``.
    """
    seen: set[str] = set()

    def walk(node: Result) -> Progress:
        if node.result_id in seen:
            raise ProgressError("duplicate_result", details={"result": node.result_id})
        seen.add(node.result_id)
        if not node.children:
            p = Fraction(0) if node.progress is None else _exact(
                node.progress, "invalid_progress", what=node.result_id)
            if not 0 <= p <= 100:
                raise ProgressError("invalid_progress", details={"result": node.result_id,
                                                                 "progress": str(node.progress)})
            return Progress(node.result_id, p, False)
        kids = tuple(walk(c) for c in node.children)
        weights = [c.weight for c in node.children]
        if all(w is None for w in weights):
            return Progress(node.result_id, sum((k.progress for k in kids), Fraction(0)) / len(kids),
                            False, kids)
        if any(w is None for w in weights):
            raise ProgressError("mixed_weights", details={"result": node.result_id})
        exact = [_exact(w, "invalid_weight", what=c.result_id)
                 for w, c in zip(weights, node.children, strict=True)]
        if any(w <= 0 for w in exact):
            raise ProgressError("invalid_weight", details={"result": node.result_id})
        total = sum(exact, Fraction(0))
        value = sum((w * k.progress for w, k in zip(exact, kids, strict=True)), Fraction(0)) / total
        return Progress(node.result_id, value, True, kids)

    return walk(root)


# --- the self-governance grant ledger ---------------------------------------------------------------

class GrantStatus(StrEnum):
    APPLIED = "applied"      # 已申请
    APPROVED = "approved"    # 已批准
    REJECTED = "rejected"    # 未批准


@dataclass(frozen=True)
class FundCredited:
    """Money put into a fund (e.g. a neighbourhood's yearly 自治金 allocation)."""

    fund_id: str
    amount: Decimal
    at: datetime
    by: str
    note: str = ""


@dataclass(frozen=True)
class GrantApplied:
    grant_id: str
    fund_id: str
    project: str
    amount: Decimal
    at: datetime
    by: str


@dataclass(frozen=True)
class GrantApproved:
    """Approval of ``amount`` (at most what was asked); it is reserved from the fund."""

    grant_id: str
    amount: Decimal
    at: datetime
    by: str


@dataclass(frozen=True)
class GrantRejected:
    grant_id: str
    at: datetime
    by: str
    reason: str


@dataclass(frozen=True)
class GrantSpent:
    """Spending on an approved grant, against a receipt (发票/收据) number."""

    grant_id: str
    amount: Decimal
    receipt: str
    at: datetime
    by: str
    note: str = ""


LedgerEvent = FundCredited | GrantApplied | GrantApproved | GrantRejected | GrantSpent


@dataclass(frozen=True)
class FundState:
    fund_id: str
    credited: Decimal = Decimal("0.00")
    reserved: Decimal = Decimal("0.00")

    @property
    def available(self) -> Decimal:
        """What is left to approve: credited minus approved grants."""
        return self.credited - self.reserved


@dataclass(frozen=True)
class GrantState:
    grant_id: str
    fund_id: str
    project: str
    requested: Decimal
    status: GrantStatus = GrantStatus.APPLIED
    approved: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")
    receipts: tuple[tuple[str, Decimal], ...] = ()

    @property
    def balance(self) -> Decimal:
        """Approved minus spent; never negative."""
        return self.approved - self.spent


def _empty_funds() -> Mapping[str, FundState]:
    return MappingProxyType({})


def _empty_grants() -> Mapping[str, GrantState]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Ledger:
    """The state after some events. Immutable: :func:`apply_event` returns a new ledger."""

    funds: Mapping[str, FundState] = field(default_factory=_empty_funds)
    grants: Mapping[str, GrantState] = field(default_factory=_empty_grants)
    receipts: frozenset[str] = frozenset()
    last_at: datetime | None = None
    events: int = 0


_CENT = Decimal("0.01")


def _money(value: object, *, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ProgressError("invalid_amount", details={"what": what, "value": repr(value)})
    d = Decimal(value)
    if not d.is_finite() or d <= 0 or d != d.quantize(_CENT):
        raise ProgressError("invalid_amount", details={"what": what, "value": str(value)})
    return d.quantize(_CENT)


def _with(mapping: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
    copy = dict(mapping)
    copy[key] = value
    return MappingProxyType(copy)


def apply_event(ledger: Ledger, event: LedgerEvent) -> Ledger:
    """Apply one event and return the new ledger; ``ledger`` itself is never changed.

    Refuses: ``naive_datetime``, ``out_of_order`` (earlier than the previous event),
    ``invalid_amount``, ``unknown_fund``, ``unknown_grant``, ``duplicate_grant``,
    ``invalid_state`` (approving twice, spending on a grant not approved, …),
    ``approval_exceeds_request``, ``fund_exhausted`` (approval above what the fund has left),
    ``receipt_missing``, ``duplicate_receipt`` and ``overspend`` (the grant balance would go
    below zero).
    """
    at = event.at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ProgressError("naive_datetime", details={"at": at.isoformat()})
    if ledger.last_at is not None and at < ledger.last_at:
        raise ProgressError("out_of_order", details={"at": at.isoformat(),
                                                     "previous": ledger.last_at.isoformat()})
    step = replace(ledger, last_at=at, events=ledger.events + 1)

    if isinstance(event, FundCredited):
        amount = _money(event.amount, what="fund")
        fund = ledger.funds.get(event.fund_id, FundState(event.fund_id))
        return replace(step, funds=_with(ledger.funds, event.fund_id,
                                         replace(fund, credited=fund.credited + amount)))

    if isinstance(event, GrantApplied):
        if event.fund_id not in ledger.funds:
            raise ProgressError("unknown_fund", details={"fund": event.fund_id})
        if event.grant_id in ledger.grants:
            raise ProgressError("duplicate_grant", details={"grant": event.grant_id})
        amount = _money(event.amount, what="request")
        applied = GrantState(event.grant_id, event.fund_id, event.project, amount)
        return replace(step, grants=_with(ledger.grants, event.grant_id, applied))

    grant = ledger.grants.get(event.grant_id)
    if grant is None:
        raise ProgressError("unknown_grant", details={"grant": event.grant_id})

    if isinstance(event, GrantApproved):
        if grant.status is not GrantStatus.APPLIED:
            raise ProgressError("invalid_state", f"自治金申请当前状态为“{grant.status.value}”，不能批准",
                                details={"grant": grant.grant_id, "status": grant.status.value})
        amount = _money(event.amount, what="approval")
        if amount > grant.requested:
            raise ProgressError("approval_exceeds_request", details={
                "grant": grant.grant_id, "requested": str(grant.requested), "approved": str(amount)})
        fund = ledger.funds[grant.fund_id]
        if amount > fund.available:
            raise ProgressError("fund_exhausted", details={
                "fund": fund.fund_id, "available": str(fund.available), "approved": str(amount)})
        return replace(
            step,
            funds=_with(ledger.funds, fund.fund_id, replace(fund, reserved=fund.reserved + amount)),
            grants=_with(ledger.grants, grant.grant_id,
                         replace(grant, status=GrantStatus.APPROVED, approved=amount)),
        )

    if isinstance(event, GrantRejected):
        if grant.status is not GrantStatus.APPLIED:
            raise ProgressError("invalid_state", details={"grant": grant.grant_id,
                                                          "status": grant.status.value})
        return replace(step, grants=_with(ledger.grants, grant.grant_id,
                                          replace(grant, status=GrantStatus.REJECTED)))

    # GrantSpent
    if grant.status is not GrantStatus.APPROVED:
        raise ProgressError("invalid_state", "自治金未获批准，不能支出",
                            details={"grant": grant.grant_id, "status": grant.status.value})
    receipt = event.receipt.strip()
    if not receipt:
        raise ProgressError("receipt_missing", details={"grant": grant.grant_id})
    if receipt in ledger.receipts:
        raise ProgressError("duplicate_receipt", details={"receipt": receipt})
    amount = _money(event.amount, what="spending")
    if amount > grant.balance:
        raise ProgressError("overspend", f"支出 {amount} 元超过项目余额 {grant.balance} 元，已拒绝",
                            details={"grant": grant.grant_id, "balance": str(grant.balance),
                                     "amount": str(amount)})
    return replace(
        step,
        grants=_with(ledger.grants, grant.grant_id,
                     replace(grant, spent=grant.spent + amount,
                             receipts=(*grant.receipts, (receipt, amount)))),
        receipts=ledger.receipts | {receipt},
    )


def replay(events: Iterable[LedgerEvent], ledger: Ledger | None = None) -> Ledger:
    """Fold ``events`` over ``ledger`` (default: empty). The first refused event stops the fold
    and raises; its position is added to the error's details as ``event_index``."""
    state = ledger or Ledger()
    for index, event in enumerate(events):
        try:
            state = apply_event(state, event)
        except ProgressError as err:
            details = dict(err.details or {})
            details["event_index"] = index
            err.details = details
            raise
    return state
