"""Owners' decisions (业主共同决定) under PRC Civil Code art. 278, counted exactly.

Article 278 (民法典 第二百七十八条), paraphrased. The owners decide together on:

  (1) making and amending the procedural rules of the owners' assembly (制定和修改业主大会议事规则);
  (2) making and amending the management covenant (制定和修改管理规约);
  (3) electing the owners' committee or replacing its members (选举业主委员会或者更换业主委员会成员);
  (4) hiring and dismissing the property company or other manager (选聘和解聘物业服务企业或者其他管理人);
  (5) using the maintenance fund of the buildings and their facilities (使用建筑物及其附属设施的维修资金);
  (6) raising that maintenance fund (筹集建筑物及其附属设施的维修资金);
  (7) rebuilding or altering the buildings and their facilities (改建、重建建筑物及其附属设施);
  (8) changing the use of common parts or using them for business (改变共有部分的用途或者利用共有部分从事经营活动);
  (9) other major matters of common ownership and joint management (有关共有和共同管理权利的其他重大事项).

Paragraph 2: owners holding at least two-thirds of the exclusive floor area AND at least
two-thirds of the owners by number must take part in the vote (参与表决). Items (6) to (8) need
the consent of owners holding at least three-quarters of the PARTICIPATING area AND at least
three-quarters of the PARTICIPATING owners; every other item needs more than half (过半数) of the
participating area AND of the participating owners. "At least" (以上) includes the bound and
"more than half" (过半数) excludes it (art. 1259: 民法所称的"以上"……包括本数).

Counting rules this module applies (each tested in ``tests/test_rules.py``):

* One vote per dwelling (专有部分). Co-owners of a dwelling cast one ballot between them; the
  dwelling's area counts once.
* Area: the dwelling's registered exclusive area (SPC interpretation 法释〔2009〕7号, amended 2020,
  art. 8: the real-estate register, else the surveyed area, else the sales contract).
* Headcount (same interpretation, art. 9): one dwelling is one person, but the same buyer
  (同一买受人) holding more than one dwelling is counted as one person. We take "the same buyer" to
  be the same registered owner set: dwellings whose owners are exactly the same people form one
  headcount person (their areas still add up). A couple owning flat A and one spouse alone
  owning flat B are two buyers and count twice. A developer's unsold units are registered to the
  developer and so count as one person, as art. 9 also says.
* A headcount person whose dwellings cast different choices is refused (``owner_split_vote``):
  the person has one voice in the headcount and we do not guess which.
* Sources: ``online`` (the owner on the platform), ``paper`` (a signed paper ballot entered by
  staff, who must be named) and ``proxy`` (a holder with a proxy valid for this vote). All
  sources count the same. A dwelling may have at most one ballot per source
  (``duplicate_ballot``). The owner's own ballot beats a proxy ballot for the same dwelling (the
  proxy ballot is listed as superseded). If the owner's online and paper ballots disagree the
  count is refused (``conflicting_ballots``); if they agree the dwelling counts once.
* A proxy ballot counts only with a proxy granted by an owner of that dwelling to that holder
  for this vote and not revoked (``invalid_proxy``). One holder may hold several proxies, up to an
  optional cap from the procedural rules (``proxy_limit_exceeded``).
* Abstentions (弃权) and spoiled ballots (废票) count as taking part in the vote — the owner
  turned in a ballot — but never as consent. Silence is never consent: a dwelling that cast
  nothing takes no part (the old "未参与表决的计入多数票" practice is not applied).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final

from jiayuan.council.rules.errors import CouncilRuleError
from jiayuan.council.rules.exact import (
    Area,
    Bound,
    digest,
    exact_area,
    fmt_fraction,
    fmt_percent,
    meets,
    share,
)


class Matter(StrEnum):
    """What the owners decide: the nine items of art. 278 para. 1, plus a named elevator case."""

    PROCEDURAL_RULES = "procedural_rules"          # (1) 业主大会议事规则
    COVENANT = "covenant"                          # (2) 管理规约
    COMMITTEE_ELECTION = "committee_election"      # (3) 选举/更换业主委员会
    PROPERTY_COMPANY = "property_company"          # (4) 选聘/解聘物业服务企业
    MAINTENANCE_FUND_USE = "maintenance_fund_use"  # (5) 使用维修资金
    MAINTENANCE_FUND_RAISE = "maintenance_fund_raise"  # (6) 筹集维修资金
    REBUILD_OR_ALTER = "rebuild_or_alter"          # (7) 改建、重建建筑物及其附属设施
    COMMON_PARTS_USE = "common_parts_use"          # (8) 改变共有部分用途或经营
    OTHER_MAJOR = "other_major"                    # (9) 其他重大事项
    ELEVATOR_RETROFIT = "elevator_retrofit"        # 既有住宅加装电梯: altering a building, item (7)


class Scope(StrEnum):
    """Who forms the electorate: the whole compound, or one building or entrance (e.g. elevators)."""

    COMPOUND = "compound"
    BUILDING = "building"
    ENTRANCE = "entrance"


class Source(StrEnum):
    ONLINE = "online"   # the owner on the platform
    PAPER = "paper"     # a signed paper ballot, entered by staff
    PROXY = "proxy"     # cast by a proxy holder


class Choice(StrEnum):
    YES = "yes"            # 同意
    NO = "no"              # 反对
    ABSTAIN = "abstain"    # 弃权
    SPOILED = "spoiled"    # 废票


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NO_QUORUM = "no_quorum"


@dataclass(frozen=True)
class Rule:
    """The thresholds that apply to one matter, with the article item they come from."""

    article_item: int
    participation: Fraction
    participation_bound: Bound
    approval: Fraction
    approval_bound: Bound
    name_zh: str
    name_en: str


_PARTICIPATION: Final = Fraction(2, 3)
_SUPER: Final = (Fraction(3, 4), Bound.AT_LEAST)
_SIMPLE: Final = (Fraction(1, 2), Bound.MORE_THAN)

#: Art. 278 as data: matter -> (item, approval threshold, bound, Chinese name, English name).
#: Source: 中华人民共和国民法典 第二百七十八条 (in force 2021-01-01); bounds per art. 1259.
ARTICLE_278: Final[dict[Matter, tuple[int, Fraction, Bound, str, str]]] = {
    Matter.PROCEDURAL_RULES: (1, *_SIMPLE, "制定和修改业主大会议事规则",
                              "making or amending the owners' assembly procedural rules"),
    Matter.COVENANT: (2, *_SIMPLE, "制定和修改管理规约", "making or amending the management covenant"),
    Matter.COMMITTEE_ELECTION: (3, *_SIMPLE, "选举业主委员会或者更换业主委员会成员",
                                "electing or replacing the owners' committee"),
    Matter.PROPERTY_COMPANY: (4, *_SIMPLE, "选聘和解聘物业服务企业或者其他管理人",
                              "hiring or dismissing the property company"),
    Matter.MAINTENANCE_FUND_USE: (5, *_SIMPLE, "使用建筑物及其附属设施的维修资金",
                                  "using the maintenance fund"),
    Matter.MAINTENANCE_FUND_RAISE: (6, *_SUPER, "筹集建筑物及其附属设施的维修资金",
                                    "raising the maintenance fund"),
    Matter.REBUILD_OR_ALTER: (7, *_SUPER, "改建、重建建筑物及其附属设施",
                              "rebuilding or altering buildings and facilities"),
    Matter.COMMON_PARTS_USE: (8, *_SUPER, "改变共有部分的用途或者利用共有部分从事经营活动",
                              "changing the use of common parts or using them for business"),
    Matter.OTHER_MAJOR: (9, *_SIMPLE, "有关共有和共同管理权利的其他重大事项",
                         "other major matters of common ownership and management"),
    Matter.ELEVATOR_RETROFIT: (7, *_SUPER, "既有住宅加装电梯（改建建筑物及其附属设施）",
                               "elevator retrofit (altering a building)"),
}


def parse_matter(value: str | Matter) -> Matter:
    """The :class:`Matter` named by ``value``; refuses anything else with ``unknown_matter``."""
    try:
        return Matter(value)
    except ValueError:
        raise CouncilRuleError("unknown_matter", f"未知的表决事项类型“{value}”",
                               details={"matter": str(value)}) from None


def rule_for(matter: str | Matter) -> Rule:
    """The art. 278 thresholds for ``matter``; refuses unknown matters with ``unknown_matter``."""
    m = parse_matter(matter)
    item, approval, bound, zh, en = ARTICLE_278[m]
    return Rule(item, _PARTICIPATION, Bound.AT_LEAST, approval, bound, zh, en)


@dataclass(frozen=True)
class Dwelling:
    """One exclusive part (专有部分): its id, registered exclusive area in m², and its owners."""

    dwelling_id: str
    area: Area
    owners: frozenset[str]

    @property
    def owner_key(self) -> frozenset[str]:
        """The headcount identity: the registered owner set (the "buyer" of art. 9)."""
        return self.owners


@dataclass(frozen=True)
class Electorate:
    """The dwellings entitled to vote: a compound, or one building or entrance."""

    scope: Scope
    scope_code: str
    dwellings: tuple[Dwelling, ...]


@dataclass(frozen=True)
class Proxy:
    """A written proxy (授权委托书): an owner of a dwelling lets ``holder`` vote in one vote."""

    dwelling_id: str
    granted_by: str
    holder: str
    vote_id: str
    revoked: bool = False


@dataclass(frozen=True)
class Ballot:
    """One ballot for one dwelling. ``cast_by`` is an owner, or the holder for a proxy ballot."""

    dwelling_id: str
    choice: Choice
    source: Source
    cast_by: str
    entered_by: str | None = None  # staff who keyed in a paper ballot


@dataclass(frozen=True)
class Count:
    """One group of the tally, measured three ways."""

    dwellings: int
    owners: int
    area: Fraction


@dataclass(frozen=True)
class Criterion:
    """One test of art. 278: ``numerator / denominator`` against ``threshold`` under ``bound``."""

    name: str
    numerator: Fraction
    denominator: Fraction
    threshold: Fraction
    bound: Bound
    passed: bool

    @property
    def achieved(self) -> Fraction:
        return share(self.numerator, self.denominator)


@dataclass(frozen=True)
class OwnersDecision:
    """The auditable result of one owners' vote. Every figure, the rule, the reason, a digest."""

    vote_id: str
    matter: Matter
    rule: Rule
    scope: Scope
    scope_code: str
    eligible: Count
    participating: Count
    yes: Count
    no: Count
    abstain: Count
    spoiled: Count
    by_source: tuple[tuple[Source, int], ...]
    superseded_proxy_ballots: tuple[str, ...]
    not_voted: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    outcome: Outcome
    reason_zh: str
    reason_en: str
    digest: str

    def criterion(self, name: str) -> Criterion:
        """The criterion called ``name`` (``participation_area``, ``approval_owners``, …)."""
        for c in self.criteria:
            if c.name == name:
                return c
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        """Everything but the digest, in plain data, as hashed into :attr:`digest`."""
        return _result_payload(self)


@dataclass
class _Group:
    dwellings: int = 0
    area: Fraction = Fraction(0)
    owners: set[frozenset[str]] | None = None

    def add(self, d: Dwelling, area: Fraction) -> None:
        self.dwellings += 1
        self.area += area
        if self.owners is None:
            self.owners = set()
        self.owners.add(d.owner_key)

    def freeze(self) -> Count:
        return Count(self.dwellings, len(self.owners or ()), self.area)


def _check_electorate(electorate: Electorate) -> dict[str, tuple[Dwelling, Fraction]]:
    if not electorate.dwellings:
        raise CouncilRuleError("empty_electorate", details={"scope_code": electorate.scope_code})
    by_id: dict[str, tuple[Dwelling, Fraction]] = {}
    for d in electorate.dwellings:
        if d.dwelling_id in by_id:
            raise CouncilRuleError("duplicate_dwelling", details={"dwelling": d.dwelling_id})
        if not d.owners:
            raise CouncilRuleError("dwelling_without_owner", details={"dwelling": d.dwelling_id})
        by_id[d.dwelling_id] = (d, exact_area(d.area, what=d.dwelling_id))
    return by_id


def _parse_choice(value: str) -> Choice:
    try:
        return Choice(value)
    except ValueError:
        raise CouncilRuleError("unknown_choice", details={"choice": str(value)}) from None


def _parse_source(value: str) -> Source:
    try:
        return Source(value)
    except ValueError:
        raise CouncilRuleError("unknown_source", details={"source": str(value)}) from None


def _effective_choices(
    vote_id: str,
    dwellings: dict[str, tuple[Dwelling, Fraction]],
    ballots: Iterable[Ballot],
    proxies: Iterable[Proxy],
    max_dwellings_per_proxy: int | None,
) -> tuple[dict[str, tuple[Choice, Source]], list[str]]:
    """Validate ballots; return each voting dwelling's counted choice and the superseded proxies."""
    valid_proxies = {(p.dwelling_id, p.holder) for p in proxies
                     if p.vote_id == vote_id and not p.revoked
                     and p.dwelling_id in dwellings and p.granted_by in dwellings[p.dwelling_id][0].owners}
    seen: dict[tuple[str, Source], Ballot] = {}
    for b in ballots:
        if b.dwelling_id not in dwellings:
            raise CouncilRuleError("not_in_electorate", f"专有部分“{b.dwelling_id}”不在本次表决范围内",
                                   details={"dwelling": b.dwelling_id})
        choice, source = _parse_choice(b.choice), _parse_source(b.source)
        key = (b.dwelling_id, source)
        if key in seen:
            raise CouncilRuleError("duplicate_ballot",
                                   f"专有部分“{b.dwelling_id}”通过“{source.value}”渠道重复投票",
                                   details={"dwelling": b.dwelling_id, "source": source.value})
        owners = dwellings[b.dwelling_id][0].owners
        if source is Source.PROXY:
            if (b.dwelling_id, b.cast_by) not in valid_proxies:
                raise CouncilRuleError("invalid_proxy", details={"dwelling": b.dwelling_id,
                                                                 "holder": b.cast_by})
        else:
            if b.cast_by not in owners:
                raise CouncilRuleError("not_an_owner", details={"dwelling": b.dwelling_id,
                                                                "cast_by": b.cast_by})
            if source is Source.PAPER and not b.entered_by:
                raise CouncilRuleError("paper_without_staff", details={"dwelling": b.dwelling_id})
        seen[key] = Ballot(b.dwelling_id, choice, source, b.cast_by, b.entered_by)

    if max_dwellings_per_proxy is not None:
        held = Counter(b.cast_by for (_, s), b in seen.items() if s is Source.PROXY)
        over = sorted(h for h, n in held.items() if n > max_dwellings_per_proxy)
        if over:
            raise CouncilRuleError("proxy_limit_exceeded", details={
                "holders": over, "limit": max_dwellings_per_proxy})

    counted: dict[str, tuple[Choice, Source]] = {}
    superseded: list[str] = []
    for dwelling_id in sorted({d for d, _ in seen}):
        own = [seen[(dwelling_id, s)] for s in (Source.ONLINE, Source.PAPER)
               if (dwelling_id, s) in seen]
        proxy = seen.get((dwelling_id, Source.PROXY))
        if own:
            if len({b.choice for b in own}) > 1:
                raise CouncilRuleError("conflicting_ballots", details={"dwelling": dwelling_id})
            # Prefer the paper ballot as the source of record when both agree.
            counted[dwelling_id] = (own[-1].choice, own[-1].source)
            if proxy is not None:
                superseded.append(dwelling_id)
        elif proxy is not None:
            counted[dwelling_id] = (proxy.choice, Source.PROXY)
    return counted, superseded


def decide(
    *,
    vote_id: str,
    matter: str | Matter,
    electorate: Electorate,
    ballots: Iterable[Ballot],
    proxies: Iterable[Proxy] = (),
    max_dwellings_per_proxy: int | None = None,
) -> OwnersDecision:
    """Count an owners' vote under art. 278 and return the auditable decision.

    Refuses (``CouncilRuleError``): ``unknown_matter``; ``empty_electorate`` (no dwelling, so zero
    area); ``invalid_area`` (float, non-positive or non-finite area); ``duplicate_dwelling``;
    ``dwelling_without_owner``; ``unknown_choice``; ``unknown_source``; ``not_in_electorate``; ``duplicate_ballot`` (same dwelling, same
    source); ``not_an_owner``; ``paper_without_staff``; ``invalid_proxy``;
    ``proxy_limit_exceeded``; ``conflicting_ballots``; ``owner_split_vote``. Ballot order never
    matters.
    """
    m = parse_matter(matter)
    rule = rule_for(m)
    dwellings = _check_electorate(electorate)
    ballots = tuple(ballots)
    proxies = tuple(proxies)
    counted, superseded = _effective_choices(vote_id, dwellings, ballots, proxies,
                                             max_dwellings_per_proxy)

    person_choice: dict[frozenset[str], Choice] = {}
    for dwelling_id, (choice, _) in counted.items():
        key = dwellings[dwelling_id][0].owner_key
        if person_choice.setdefault(key, choice) is not choice:
            raise CouncilRuleError("owner_split_vote", details={"owners": sorted(key)})

    groups = {name: _Group() for name in ("eligible", "participating", *Choice)}
    for d, area in dwellings.values():
        groups["eligible"].add(d, area)
    for dwelling_id, (choice, _) in counted.items():
        d, area = dwellings[dwelling_id]
        groups["participating"].add(d, area)
        groups[choice.value].add(d, area)
    eligible, participating = groups["eligible"].freeze(), groups["participating"].freeze()
    tallies = {c: groups[c.value].freeze() for c in Choice}
    yes = tallies[Choice.YES]

    def crit(name: str, num: Fraction | int, den: Fraction | int, thr: Fraction,
             bound: Bound) -> Criterion:
        return Criterion(name, Fraction(num), Fraction(den), thr, bound, meets(num, den, thr, bound))

    criteria = (
        crit("participation_area", participating.area, eligible.area,
             rule.participation, rule.participation_bound),
        crit("participation_owners", participating.owners, eligible.owners,
             rule.participation, rule.participation_bound),
        crit("approval_area", yes.area, participating.area, rule.approval, rule.approval_bound),
        crit("approval_owners", yes.owners, participating.owners, rule.approval,
             rule.approval_bound),
    )
    if not (criteria[0].passed and criteria[1].passed):
        outcome = Outcome.NO_QUORUM
    elif criteria[2].passed and criteria[3].passed:
        outcome = Outcome.PASSED
    else:
        outcome = Outcome.FAILED
    reason_zh, reason_en = _reasons(rule, criteria, outcome)
    by_source = Counter(src for _, src in counted.values())
    decision = OwnersDecision(
        vote_id=vote_id, matter=m, rule=rule, scope=electorate.scope,
        scope_code=electorate.scope_code, eligible=eligible, participating=participating,
        yes=yes, no=tallies[Choice.NO], abstain=tallies[Choice.ABSTAIN],
        spoiled=tallies[Choice.SPOILED],
        by_source=tuple((s, by_source.get(s, 0)) for s in Source),
        superseded_proxy_ballots=tuple(superseded),
        not_voted=tuple(sorted(set(dwellings) - set(counted))),
        criteria=criteria, outcome=outcome, reason_zh=reason_zh, reason_en=reason_en, digest="",
    )
    inputs = _inputs_payload(vote_id, m, electorate, ballots, proxies, max_dwellings_per_proxy)
    return _with_digest(decision, inputs)


def verify(decision: OwnersDecision, *, vote_id: str, matter: str | Matter,
           electorate: Electorate, ballots: Iterable[Ballot], proxies: Iterable[Proxy] = (),
           max_dwellings_per_proxy: int | None = None) -> bool:
    """Recount from the inputs and say whether ``decision`` is exactly what they give."""
    again = decide(vote_id=vote_id, matter=matter, electorate=electorate, ballots=ballots,
                   proxies=proxies, max_dwellings_per_proxy=max_dwellings_per_proxy)
    return again == decision and again.digest == decision.digest


_CRITERION_TEXT: Final = {
    "participation_area": ("参与表决的专有部分面积占总面积", "share of total exclusive area taking part"),
    "participation_owners": ("参与表决的业主人数占总人数", "share of all owners taking part"),
    "approval_area": ("同意的专有部分面积占参与表决面积", "share of participating area voting yes"),
    "approval_owners": ("同意的业主人数占参与表决人数", "share of participating owners voting yes"),
}


def _bound_text(threshold: Fraction, bound: Bound) -> tuple[str, str]:
    t = fmt_fraction(threshold)
    if bound is Bound.AT_LEAST:
        return f"须达到{t}以上（含本数）", f"needs at least {t}"
    return f"须超过{t}（不含本数）", f"needs more than {t}"


def _reasons(rule: Rule, criteria: tuple[Criterion, ...], outcome: Outcome) -> tuple[str, str]:
    lines_zh, lines_en = [], []
    for c in criteria:
        zh, en = _CRITERION_TEXT[c.name]
        bzh, ben = _bound_text(c.threshold, c.bound)
        achieved = c.achieved
        figures = (f"{fmt_fraction(achieved)}（{fmt_percent(achieved)}）" if c.denominator else "无")
        mark_zh = "达到" if c.passed else "未达到"
        mark_en = "met" if c.passed else "not met"
        lines_zh.append(f"{zh}为{figures}，{bzh}：{mark_zh}")
        figures_en = (f"{fmt_fraction(achieved)} ({fmt_percent(achieved)})" if c.denominator
                      else "none")
        lines_en.append(f"{en} is {figures_en}, {ben}: {mark_en}")
    head_zh = {
        Outcome.PASSED: "表决通过",
        Outcome.FAILED: "表决未通过",
        Outcome.NO_QUORUM: "参与表决的业主未达到法定比例，表决不成立",
    }[outcome]
    head_en = {
        Outcome.PASSED: "Passed",
        Outcome.FAILED: "Not passed",
        Outcome.NO_QUORUM: "No quorum: too few owners took part",
    }[outcome]
    basis_zh = f"依据《民法典》第二百七十八条第一款第（{rule.article_item}）项（{rule.name_zh}）"
    basis_en = f"Civil Code art. 278 para. 1 item ({rule.article_item}) ({rule.name_en})"
    return (f"{head_zh}。{basis_zh}。" + "；".join(lines_zh) + "。",
            f"{head_en}. {basis_en}. " + "; ".join(lines_en) + ".")


def _inputs_payload(vote_id: str, matter: Matter, electorate: Electorate,
                    ballots: tuple[Ballot, ...], proxies: tuple[Proxy, ...],
                    max_dwellings_per_proxy: int | None) -> dict[str, Any]:
    def ballot_key(b: Ballot) -> tuple[str, str, str, str]:
        return (b.dwelling_id, Source(b.source).value, b.cast_by, Choice(b.choice).value)

    return {
        "vote_id": vote_id,
        "matter": matter,
        "scope": electorate.scope,
        "scope_code": electorate.scope_code,
        "dwellings": [
            {"id": d.dwelling_id, "area": exact_area(d.area), "owners": d.owners}
            for d in sorted(electorate.dwellings, key=lambda d: d.dwelling_id)
        ],
        "ballots": [
            {"dwelling": b.dwelling_id, "choice": Choice(b.choice), "source": Source(b.source),
             "cast_by": b.cast_by, "entered_by": b.entered_by}
            for b in sorted(ballots, key=ballot_key)
        ],
        "proxies": sorted(
            ({"dwelling": p.dwelling_id, "granted_by": p.granted_by, "holder": p.holder,
              "vote_id": p.vote_id, "revoked": p.revoked} for p in proxies),
            key=lambda p: (p["dwelling"], p["holder"], p["granted_by"], p["vote_id"],
                           p["revoked"]),
        ),
        "max_dwellings_per_proxy": max_dwellings_per_proxy,
    }


def _count_payload(c: Count) -> dict[str, Any]:
    return {"dwellings": c.dwellings, "owners": c.owners, "area": c.area}


def _result_payload(d: OwnersDecision) -> dict[str, Any]:
    return {
        "vote_id": d.vote_id,
        "matter": d.matter,
        "article_item": d.rule.article_item,
        "participation_threshold": d.rule.participation,
        "approval_threshold": d.rule.approval,
        "approval_bound": d.rule.approval_bound,
        "scope": d.scope,
        "scope_code": d.scope_code,
        **{name: _count_payload(getattr(d, name))
           for name in ("eligible", "participating", "yes", "no", "abstain", "spoiled")},
        "by_source": {s.value: n for s, n in d.by_source},
        "superseded_proxy_ballots": list(d.superseded_proxy_ballots),
        "not_voted": list(d.not_voted),
        "criteria": [
            {"name": c.name, "numerator": c.numerator, "denominator": c.denominator,
             "achieved": c.achieved, "threshold": c.threshold, "bound": c.bound,
             "passed": c.passed}
            for c in d.criteria
        ],
        "outcome": d.outcome,
        "reason_zh": d.reason_zh,
        "reason_en": d.reason_en,
    }


def _with_digest(decision: OwnersDecision, inputs: dict[str, Any]) -> OwnersDecision:
    value = digest({"inputs": inputs, "result": _result_payload(decision)})
    return replace(decision, digest=value)

