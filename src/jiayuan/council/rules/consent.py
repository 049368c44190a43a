"""Written consent of a defined group (征询): a campaign over named members and a rule.

Some changes need the written consent of everyone they touch rather than an owners' vote. The
ramp at 天津路 426 弄 (黄浦区南京东路街道, 2018) is the model case: altering the steps of a
shikumen's common entrance needed the consent of the property manager and of all thirteen
tenant households (全体承租人同意并书面确认). A campaign names its members and its rule:

* ``unanimity`` — every member consents. One refusal fails it; a missing answer keeps it
  pending; when the campaign is closed, a missing answer fails it.
* ``share`` — consents as a share of ALL members (not of those who answered) must meet a
  threshold (``at_least`` includes the bound, ``more_than`` excludes it). It is reached as soon
  as the consents meet it, failed as soon as it cannot be met even if every missing member
  consented, and failed when closed while still pending.

Answers are final: a member answers once (``duplicate_answer``); only members answer
(``not_a_member``). The result lists who has not yet answered, in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from typing import Any

from jiayuan.council.rules.errors import CouncilRuleError
from jiayuan.council.rules.exact import (
    Bound,
    check_threshold,
    digest,
    fmt_fraction,
    fmt_percent,
    meets,
    share,
)


class ConsentStatus(StrEnum):
    PENDING = "pending"
    REACHED = "reached"
    FAILED = "failed"


class Answer(StrEnum):
    CONSENT = "consent"   # 同意
    REFUSE = "refuse"     # 不同意


class AnswerSource(StrEnum):
    WRITTEN = "written"   # a signed paper form, entered by staff
    ONLINE = "online"     # confirmed by the member on the platform


@dataclass(frozen=True)
class ConsentRule:
    """Unanimity, or a share of all members with a bound. Build with the class methods."""

    threshold: Fraction
    bound: Bound
    unanimous: bool

    def __post_init__(self) -> None:
        check_threshold(self.threshold)
        if self.threshold == 1 and self.bound is Bound.MORE_THAN:
            raise CouncilRuleError("invalid_threshold", "“超过全体”无法达到",
                                   details={"threshold": "1", "bound": self.bound.value})
        if self.unanimous and (self.threshold != 1 or self.bound is not Bound.AT_LEAST):
            raise CouncilRuleError("invalid_threshold", "全体同意规则的门槛只能是全体",
                                   details={"threshold": fmt_fraction(self.threshold)})

    @classmethod
    def unanimity(cls) -> ConsentRule:
        return cls(Fraction(1), Bound.AT_LEAST, True)

    @classmethod
    def share(cls, threshold: Fraction, bound: Bound = Bound.AT_LEAST) -> ConsentRule:
        """A share rule; refuses a threshold outside (0, 1] or "more than all" (``invalid_threshold``)."""
        return cls(threshold, Bound(bound), False)

    def describe(self) -> tuple[str, str]:
        if self.unanimous:
            return "须全体征询对象书面同意", "needs the written consent of every member"
        t = fmt_fraction(self.threshold)
        if self.bound is Bound.AT_LEAST:
            return f"须{t}以上（含本数）的征询对象同意", f"needs the consent of at least {t} of members"
        return f"须超过{t}的征询对象同意", f"needs the consent of more than {t} of members"


@dataclass(frozen=True)
class ConsentCampaign:
    """Who must consent (member ids, e.g. the 13 tenant households) and by what rule."""

    campaign_id: str
    members: tuple[str, ...]
    rule: ConsentRule
    closed: bool = False


@dataclass(frozen=True)
class ConsentAnswer:
    member_id: str
    answer: Answer
    source: AnswerSource = AnswerSource.WRITTEN
    entered_by: str | None = None


@dataclass(frozen=True)
class ConsentResult:
    """The auditable state of a campaign: status, every count, who is missing, reason, digest."""

    campaign_id: str
    status: ConsentStatus
    members: int
    consents: int
    refusals: int
    missing: tuple[str, ...]
    consent_share: Fraction
    threshold: Fraction
    bound: Bound
    unanimous: bool
    closed: bool
    reason_zh: str
    reason_en: str
    digest: str


def tally_consent(campaign: ConsentCampaign, answers: Iterable[ConsentAnswer]) -> ConsentResult:
    """Tally a consent campaign.

    Refuses (``CouncilRuleError``): ``empty_campaign``, ``duplicate_member``, ``not_a_member``,
    ``duplicate_answer``. The order of answers never matters.
    """
    if not campaign.members:
        raise CouncilRuleError("empty_campaign", details={"campaign": campaign.campaign_id})
    members = set(campaign.members)
    if len(members) != len(campaign.members):
        dupes = sorted({m for m in campaign.members if campaign.members.count(m) > 1})
        raise CouncilRuleError("duplicate_member", details={"members": dupes})
    given: dict[str, Answer] = {}
    answers = tuple(answers)
    for a in answers:
        if a.member_id not in members:
            raise CouncilRuleError("not_a_member", f"“{a.member_id}”不在本次征询对象名单内",
                                   details={"member": a.member_id})
        if a.member_id in given:
            raise CouncilRuleError("duplicate_answer", details={"member": a.member_id})
        given[a.member_id] = Answer(a.answer)

    total = len(members)
    consents = sum(1 for v in given.values() if v is Answer.CONSENT)
    refusals = len(given) - consents
    missing = tuple(sorted(members - set(given)))
    rule = campaign.rule
    if meets(consents, total, rule.threshold, rule.bound):
        status = ConsentStatus.REACHED
    elif campaign.closed or not meets(consents + len(missing), total, rule.threshold, rule.bound):
        status = ConsentStatus.FAILED
    else:
        status = ConsentStatus.PENDING

    rule_zh, rule_en = rule.describe()
    got = share(consents, total)
    head_zh = {ConsentStatus.REACHED: "已取得同意", ConsentStatus.FAILED: "未取得同意",
               ConsentStatus.PENDING: "征询进行中"}[status]
    head_en = {ConsentStatus.REACHED: "Consent reached", ConsentStatus.FAILED: "Consent failed",
               ConsentStatus.PENDING: "Pending"}[status]
    reason_zh = (f"{head_zh}。{rule_zh}；征询对象{total}人，同意{consents}人"
                 f"（{fmt_percent(got)}），不同意{refusals}人，未答复{len(missing)}人"
                 + ("；征询已截止" if campaign.closed else "") + "。")
    reason_en = (f"{head_en}. {rule_en}; {total} members, {consents} consent "
                 f"({fmt_percent(got)}), {refusals} refuse, {len(missing)} not yet answered"
                 + ("; campaign closed" if campaign.closed else "") + ".")
    result = ConsentResult(
        campaign_id=campaign.campaign_id, status=status, members=total, consents=consents,
        refusals=refusals, missing=missing, consent_share=got, threshold=rule.threshold,
        bound=rule.bound, unanimous=rule.unanimous, closed=campaign.closed,
        reason_zh=reason_zh, reason_en=reason_en, digest="",
    )
    inputs: dict[str, Any] = {
        "campaign_id": campaign.campaign_id,
        "members": sorted(members),
        "rule": {"threshold": rule.threshold, "bound": rule.bound, "unanimous": rule.unanimous},
        "closed": campaign.closed,
        "answers": sorted(
            ({"member": a.member_id, "answer": Answer(a.answer), "source": AnswerSource(a.source),
              "entered_by": a.entered_by} for a in answers),
            key=lambda x: str(x["member"])),
    }
    payload = {k: v for k, v in result.__dict__.items() if k != "digest"}
    return replace(result, digest=digest({"inputs": inputs, "result": payload}))
