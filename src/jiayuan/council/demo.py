"""Demo data for councils: one council per neighbourhood with members, a year of topics and
threads, the three meetings (with attendance, minutes, decisions), a written-consent campaign,
owners' votes over real demo dwellings (counted by the engine), projects with weighted
milestones and a self-governance fund whose ledger is replayed through ``council.progress``
before it is written. Bulk inserts throughout: Pudong scale (1,300 neighbourhoods) in seconds.

The lead's demo generator calls :func:`generate_councils` after the registry (and, optionally,
the demo cases); :func:`clear_councils` removes what it wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.core.errors import Conflict, ValidationFailed
from jiayuan.council import progress as pg
from jiayuan.council.models import (
    Attendance,
    Comment,
    ConsentMember,
    ConsentReply,
    Consultation,
    Council,
    CouncilMember,
    Decision,
    DwellingOwner,
    Fund,
    LedgerEntry,
    Meeting,
    Mention,
    Milestone,
    Need,
    Notice,
    OwnerEvent,
    OwnerLink,
    Project,
    ResourceOffer,
    SelfGovernanceGrant,
    Topic,
    VoteBallot,
    VoteDwelling,
)
from jiayuan.council.rules import consent as cr
from jiayuan.council.rules.exact import canonical_json
from jiayuan.council.services.consultations import recount
from jiayuan.registry.models import Compound, Household, Neighbourhood

TOPIC_TITLES = [
    "加装电梯意见征询", "弄堂口加装大门", "沿街商铺垃圾清运", "非机动车棚充电桩", "楼道堆物清理",
    "无障碍坡道", "小区停车秩序", "绿化带改造", "屋顶漏水维修", "广场舞噪声协调",
    "快递柜位置", "老年助餐点", "外墙脱落隐患", "雨污混接整改", "健身器材更新",
]
COMMENTS = ["同意，尽快推进", "需要先征求一楼住户意见", "物业可以配合", "费用怎么分摊？",
            "建议请社区律师把关", "上次会议已经讨论过", "@派出所 请协助", "街道可以给自治金支持"]
ROLES = ["party_secretary", "residents_committee", "owners_committee", "property_manager",
         "resident_representative", "resident_representative", "department_liaison", "deputy",
         "lawyer", "local_unit"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
RESOURCE_MENU = [("health", "上门体检"), ("legal", "法律咨询"), ("elderly", "助餐服务"),
                 ("youth", "课后托管"), ("repair", "便民维修"), ("culture", "活动场地")]
BATCH = 2000


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(["师傅", "阿姨", "老师", "先生", "女士", "书记"])


def clear_councils() -> None:
    """Delete every council row (demo or not): children first."""
    with transaction.atomic():
        for model in (OwnerEvent, Notice, Mention, Comment, Decision, Attendance, ConsentReply, ConsentMember,
                      VoteBallot, VoteDwelling, Consultation, LedgerEntry, SelfGovernanceGrant, Fund, Milestone,
                      Project, Need, ResourceOffer, OwnerLink, DwellingOwner):
            model.objects.all().delete()
        Meeting.topics.through.objects.all().delete()
        Meeting.objects.all().delete()
        Topic.followers.through.objects.all().delete()
        Topic.objects.all().delete()
        CouncilMember.objects.all().delete()
        Council.objects.all().delete()


def generate_councils(seed: int, *, end: dt.datetime | None = None, days: int = 365,
                      topics_per_council: int = 12, votes_every: int = 4,
                      progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write a year of council activity ending at ``end`` (default now); returns counts.
    Same seed and end, same data. Refuses when councils exist (``Conflict``) or when the
    registry has no neighbourhoods (``ValidationFailed``)."""
    say = progress or (lambda _m: None)
    end = end or timezone.now()
    start = end - dt.timedelta(days=days)
    if Council.objects.exists():
        raise Conflict("已有理事会数据，请先清空")
    hoods = list(Neighbourhood.objects.order_by("code"))
    if not hoods:
        raise ValidationFailed("登记库中没有居民区，请先生成演示区")
    rng = random.Random(f"demo-councils-{seed}")
    compounds: dict[int, list[Compound]] = {}
    for c in Compound.objects.order_by("code").only("id", "path", "neighbourhood_id", "code"):
        compounds.setdefault(c.neighbourhood_id, []).append(c)

    def when() -> dt.datetime:
        return start + dt.timedelta(seconds=rng.randrange(int((end - start).total_seconds())))

    counts: dict[str, int] = {}
    with transaction.atomic():
        say(f"理事会：{len(hoods)} 个居民区")
        councils = Council.objects.bulk_create([
            Council(neighbourhood=n, path=n.path, name=f"{n.name}零距离家园理事会",
                    charter="议事规则：每月召开一次理事会，三会制度（听证会、协调会、评议会）。",
                    meeting_rhythm="每月一次") for n in hoods], batch_size=BATCH)
        counts["councils"] = len(councils)
        members = [CouncilMember(council=c, name=_name(rng), role=r)
                   for c in councils for r in ROLES]
        counts["members"] = len(CouncilMember.objects.bulk_create(members, batch_size=BATCH))

        say("议题与讨论")
        topics: list[Topic] = []
        for c in councils:
            own = compounds.get(c.neighbourhood_id, [])
            for _ in range(topics_per_council):
                compound = rng.choice(own) if own else None
                at = when()
                status = rng.choices(["open", "claimed", "escalated", "resolved"],
                                     [2, 2, 1, 5])[0]
                topics.append(Topic(
                    council=c, compound=compound, path=compound.path if compound else c.path,
                    title=rng.choice(TOPIC_TITLES), body="居民反映，需要理事会协商。",
                    origin=rng.choice(["home_code", "staff", "deputy", "case"]),
                    raiser_name=_name(rng), status=status, lawyer_review=rng.random() < 0.1,
                    created_at=at, last_activity_at=at + dt.timedelta(days=rng.randrange(1, 20)),
                    resolved_at=(at + dt.timedelta(days=rng.randrange(5, 60))
                                 if status == "resolved" else None),
                    comment_count=rng.randrange(2, 7)))
        topics = Topic.objects.bulk_create(topics, batch_size=BATCH)
        comments = []
        for t in topics:
            for i in range(t.comment_count):
                comments.append(Comment(topic=t, author_name=_name(rng), body=rng.choice(COMMENTS),
                                        created_at=t.created_at + dt.timedelta(hours=6 * (i + 1))))
        Comment.objects.bulk_create(comments, batch_size=BATCH)
        counts["topics"], counts["comments"] = len(topics), len(comments)

        say("三会")
        by_council: dict[int, list[Topic]] = {}
        for t in topics:
            by_council.setdefault(t.council_id, []).append(t)
        meetings: list[Meeting] = []
        agenda: list[tuple[int, Topic]] = []
        for c in councils:
            own = by_council.get(c.pk, [])
            for month in range(12):
                at = start + dt.timedelta(days=30 * month + rng.randrange(25), hours=11)
                kind = ("hearing", "coordination", "evaluation")[month % 3]
                topic = own[month % len(own)] if own else None
                held = at < end
                meetings.append(Meeting(
                    council=c, compound=topic.compound if topic else None,
                    path=topic.path if topic else c.path, kind=kind,
                    title=f"{topic.title if topic else '月度'}{dict(hearing='听证会', coordination='协调会', evaluation='评议会')[kind]}",
                    starts_at=at, place="居委会议室", agenda="1. 情况通报\n2. 讨论\n3. 决定",
                    status="held" if held else "planned", held_at=at if held else None,
                    minutes="到会理事和居民代表，意见一致，形成决定。" if held else ""))
                if topic is not None:
                    agenda.append((len(meetings) - 1, topic))
        meetings = Meeting.objects.bulk_create(meetings, batch_size=BATCH)
        through = Meeting.topics.through
        links, decisions, attendance = [], [], []
        for idx, topic in agenda:
            m = meetings[idx]
            links.append(through(meeting_id=m.pk, topic_id=topic.pk))
            if m.status == "held":
                decisions.append(Decision(meeting=m, topic=topic, text="同意推进，由负责人跟进。",
                                          resolves_topic=False, at=m.starts_at))
                for k in range(rng.randrange(4, 10)):
                    attendance.append(Attendance(meeting=m, name=_name(rng),
                                                 method=rng.choice(["qr", "manual"]),
                                                 at=m.starts_at + dt.timedelta(minutes=k)))
        through.objects.bulk_create(links, batch_size=BATCH)
        Decision.objects.bulk_create(decisions, batch_size=BATCH)
        Attendance.objects.bulk_create(attendance, batch_size=BATCH)
        counts["meetings"], counts["attendance"] = len(meetings), len(attendance)

        say("书面征询与业主表决")
        consultations, cmembers = [], []
        for c in councils:
            own = by_council.get(c.pk, [])
            topic = own[0] if own else None
            at = when()
            cons = Consultation(council=c, topic=topic, compound=topic.compound if topic else None,
                                path=topic.path if topic else c.path, kind="consent",
                                title="加装无障碍坡道全体承租人书面征询", created_at=at)
            consultations.append(cons)
        consultations = Consultation.objects.bulk_create(consultations, batch_size=BATCH)
        for cons in consultations:
            size = rng.randrange(6, 14)
            for i in range(size):
                cmembers.append(ConsentMember(consultation=cons, key=f"T{i + 1:02d}",
                                              label=f"{i + 1}号承租户"))
        cmembers = ConsentMember.objects.bulk_create(cmembers, batch_size=BATCH)
        replies = []
        answers: dict[int, list[cr.ConsentAnswer]] = {}
        keys: dict[int, list[str]] = {}
        for m in cmembers:
            keys.setdefault(m.consultation_id, []).append(m.key)
            if rng.random() < 0.9:
                answer = "consent" if rng.random() < 0.97 else "refuse"
                replies.append(ConsentReply(member=m, answer=answer, source="written", at=end))
                answers.setdefault(m.consultation_id, []).append(
                    cr.ConsentAnswer(m.key, cr.Answer(answer), cr.AnswerSource.WRITTEN))
        ConsentReply.objects.bulk_create(replies, batch_size=BATCH)
        for cons in consultations:  # the engine's result, reason and digest, as recount() does
            res = cr.tally_consent(cr.ConsentCampaign(f"council.consultation:{cons.pk}",
                                                      tuple(keys[cons.pk]),
                                                      cr.ConsentRule.unanimity()),
                                   answers.get(cons.pk, ()))
            cons.result_status, cons.result_reason = res.status.value, res.reason_zh
            cons.result_digest, cons.eligible = res.digest, res.members
            cons.participants = res.consents + res.refusals
            cons.result = json.loads(canonical_json(dict(res.__dict__)))
            cons.computed_at = end
        Consultation.objects.bulk_update(
            consultations, ["result_status", "result_reason", "result_digest", "eligible",
                            "participants", "result", "computed_at"], batch_size=500)
        counts["consent_campaigns"] = len(consultations)
        voting = councils[::max(votes_every, 1)]
        clerks = _clerks(councils)
        # The demo staff's own council always holds a vote, so its log-in shows one.
        voting += [c for c in councils if c.pk in clerks.local and c not in voting][:1]
        counts["owners_votes"] = _owners_votes(rng, voting, by_council, when, clerks)

        say("资源清单、需求、项目与自治金")
        resources, needs = [], []
        for c in councils:
            own = compounds.get(c.neighbourhood_id, [])
            for cat, title in rng.sample(RESOURCE_MENU, 3):
                resources.append(ResourceOffer(council=c, path=c.path, provider=f"{_name(rng)}工作室",
                                          title=title, category=cat, capacity=rng.randrange(5, 30)))
            for _ in range(2):
                cat, title = rng.choice(RESOURCE_MENU)
                compound = rng.choice(own) if own else None
                needs.append(Need(council=c, path=compound.path if compound else c.path,
                                  title=f"居民需要{title}", category=cat, size=rng.randrange(1, 5),
                                  compound=compound, created_at=when()))
        ResourceOffer.objects.bulk_create(resources, batch_size=BATCH)
        Need.objects.bulk_create(needs, batch_size=BATCH)
        counts.update(_projects_and_funds(rng, councils, by_council, start, end))
    say(f"理事会演示数据完成：{counts}")
    return counts


class _Clerks:
    """Who keys in the demo's paper ballots: a neighbourhood's own staff account when the demo
    log-ins have one there, else the demo administrator; and the demo resident who votes
    online as a verified owner."""

    def __init__(self, local: dict[int, Any], fallback: Any, resident: Any) -> None:
        self.local, self.fallback, self.resident = local, fallback, resident

    def for_council(self, council: Council) -> Any:
        return self.local.get(council.pk, self.fallback)


def _clerks(councils: list[Council]) -> _Clerks:
    from jiayuan.accounts.models import AreaGrant, User

    grants = list(AreaGrant.objects.filter(user__role="neighbourhood_staff",
                                           user__is_active=True).select_related("user")
                  .order_by("user_id"))
    local = {}
    for c in councils:
        for g in grants:
            if c.path.startswith(g.path):
                local[c.pk] = g.user
                break
    admin = User.objects.filter(role="admin", is_active=True).order_by("pk").first()
    resident = User.objects.filter(role="resident", is_active=True, username="resident").first()
    return _Clerks(local, admin, resident)


def _owners_votes(rng: random.Random, councils: list[Council],
                  by_council: dict[int, list[Topic]], when: Callable[[], dt.datetime],
                  clerks: _Clerks) -> int:
    """An elevator vote over one entrance of a compound of each given council: the owners'
    register of that entrance, paper ballots keyed in by the neighbourhood's staff with their
    numbers, and the demo resident as a verified owner voting online in the demo staff's
    council. Without any staff or administrator account the votes have no ballots."""
    made = 0
    for c in councils:
        h0 = (Household.objects.filter(compound__neighbourhood_id=c.neighbourhood_id,
                                       floor_area_m2__isnull=False)
              .order_by("entrance__code", "room").only("entrance_id").first())
        if h0 is None:
            continue
        rows = list(Household.objects.filter(entrance_id=h0.entrance_id,
                                             floor_area_m2__isnull=False)
                    .select_related("entrance", "compound").order_by("room"))
        if not rows:
            continue
        registered = when()
        owners = []
        for h in rows:
            for ref in [f"O{h.pk}"] + ([f"O{h.pk}b"] if rng.random() < 0.2 else []):
                owners.append(DwellingOwner(
                    household=h, owner_ref=ref, name=_name(rng),
                    id_last4=f"{rng.randrange(10000):04d}",
                    phone=f"13{rng.randrange(10 ** 9):09d}", created_at=registered))
        DwellingOwner.objects.bulk_create(owners, batch_size=BATCH, ignore_conflicts=True)
        refs: dict[int, list[str]] = {}
        for o in owners:
            refs.setdefault(o.household_id, []).append(o.owner_ref)
        own = by_council.get(c.pk, [])
        vote = Consultation.objects.create(
            council=c, topic=own[0] if own else None, compound=rows[0].compound,
            path=rows[0].compound.path, kind="owners_vote",
            title=f"{rows[0].entrance.name}加装电梯业主表决", matter="elevator_retrofit",
            scope="entrance", scope_code=rows[0].entrance.code, unanimous=False,
            created_at=when())
        VoteDwelling.objects.bulk_create([VoteDwelling(consultation=vote, household=h,
                                                       area=h.floor_area_m2,
                                                       owners=sorted(refs[h.pk]))
                                          for h in rows])
        clerk = clerks.for_council(c)
        online_for = None
        if clerks.resident is not None and c.pk in clerks.local:
            # The demo resident is the verified owner of the first flat of this entrance.
            first = DwellingOwner.objects.get(household=rows[0], owner_ref=refs[rows[0].pk][0])
            OwnerLink.objects.create(user=clerks.resident, owner=first, status="verified",
                                     requested_at=registered, decided_by=clerk,
                                     decided_at=registered, note="演示：已核验房产证")
            online_for = rows[0].pk
            clerks.resident = None  # one demo owner account is enough
        ballots = []
        for n, h in enumerate(rows, start=1):
            if clerk is None or (rng.random() >= 0.85 and h.pk != online_for):
                continue
            choice = rng.choices(["yes", "no", "abstain"], [8, 1, 1])[0]
            if h.pk == online_for:
                ballots.append(VoteBallot(consultation=vote, household=h, choice=choice,
                                          source="online", cast_by=refs[h.pk][0],
                                          cast_by_user=OwnerLink.objects.get(
                                              owner__household=h).user, at=vote.created_at))
                continue
            ballots.append(VoteBallot(consultation=vote, household=h, choice=choice,
                                      source="paper", cast_by=refs[h.pk][0], entered_by=clerk,
                                      paper_number=f"{vote.pk}-{n:04d}", at=vote.created_at))
        VoteBallot.objects.bulk_create(ballots)
        recount(vote)
        made += 1
    return made


def _projects_and_funds(rng: random.Random, councils: list[Council],
                        by_council: dict[int, list[Topic]], start: dt.datetime,
                        end: dt.datetime) -> dict[str, int]:
    projects, milestones = [], []
    for c in councils:
        own = by_council.get(c.pk, [])
        for i in range(2):
            topic = own[i] if len(own) > i else None
            projects.append(Project(council=c, topic=topic,
                                    compound=topic.compound if topic else None,
                                    path=topic.path if topic else c.path,
                                    title=f"{topic.title if topic else '微更新'}项目",
                                    budget=Decimal(rng.randrange(5, 50) * 1000),
                                    created_at=start + dt.timedelta(days=30 * (i + 1))))
    projects = Project.objects.bulk_create(projects, batch_size=BATCH)
    for p in projects:
        parts = [("设计", Decimal(1)), ("施工", Decimal(3)), ("验收", Decimal(1))]
        done = rng.randrange(0, 4)
        leaves = []
        for pos, (title, w) in enumerate(parts):
            value = Decimal(100) if pos < done else (Decimal(rng.randrange(0, 100))
                                                     if pos == done else Decimal(0))
            milestones.append(Milestone(project=p, title=title, weight=w, progress=value,
                                        position=pos))
            leaves.append(pg.Result(f"m{pos}", title, progress=value, weight=w))
        got = pg.compute_progress(pg.Result(f"p{p.pk}", p.title, children=tuple(leaves)))
        p.progress = (Decimal(got.progress.numerator) / Decimal(got.progress.denominator)
                      ).quantize(Decimal("0.01"))
    Milestone.objects.bulk_create(milestones, batch_size=BATCH)
    Project.objects.bulk_update(projects, ["progress"], batch_size=BATCH)

    funds = Fund.objects.bulk_create([Fund(council=c) for c in councils], batch_size=BATCH)
    fund_of = {f.council_id: f for f in funds}
    grants = SelfGovernanceGrant.objects.bulk_create([
        SelfGovernanceGrant(fund=fund_of[p.council_id], project=p, requested=p.budget / 4)
        for p in projects], batch_size=BATCH)
    by_fund: dict[int, list[SelfGovernanceGrant]] = {}
    for g in grants:
        by_fund.setdefault(g.fund_id, []).append(g)
    entries: list[LedgerEntry] = []
    receipt = 0
    for f in funds:
        events: list[tuple[LedgerEntry, pg.LedgerEvent]] = []
        t0 = start + dt.timedelta(days=1)
        credit = Decimal(50000)
        e = LedgerEntry(fund=f, kind="credit", amount=credit, note="年度自治金", by="demo",
                        at=t0)
        events.append((e, pg.FundCredited(str(f.pk), credit, t0, "demo")))
        for i, g in enumerate(by_fund.get(f.pk, [])):
            at = t0 + dt.timedelta(days=40 * (i + 1))
            req = g.requested.quantize(Decimal("0.01"))
            events.append((LedgerEntry(fund=f, grant=g, kind="apply", amount=req, by="demo", at=at),
                           pg.GrantApplied(str(g.pk), str(f.pk), str(g.project_id), req, at,
                                           "demo")))
            at2 = at + dt.timedelta(days=3)
            events.append((LedgerEntry(fund=f, grant=g, kind="approve", amount=req, by="demo",
                                       at=at2), pg.GrantApproved(str(g.pk), req, at2, "demo")))
            left = req
            for k in range(rng.randrange(0, 4)):
                amt = (left * Decimal(rng.randrange(10, 40)) / 100).quantize(Decimal("0.01"))
                at3 = at2 + dt.timedelta(days=10 * (k + 1))
                if amt <= 0 or at3 >= end:
                    break
                receipt += 1
                number = f"DEMO-{receipt:07d}"
                events.append((LedgerEntry(fund=f, grant=g, kind="spend", amount=amt,
                                           receipt=number, by="demo", at=at3),
                               pg.GrantSpent(str(g.pk), amt, number, at3, "demo")))
                left -= amt
        events.sort(key=lambda pair: pair[0].at)
        state = pg.replay(ev for _, ev in events)  # refuses anything that would go negative
        fs = state.funds[str(f.pk)]
        f.credited, f.reserved = fs.credited, fs.reserved
        for g in by_fund.get(f.pk, []):
            gs = state.grants[str(g.pk)]
            g.status, g.approved, g.spent = gs.status.value, gs.approved, gs.spent
        entries += [e for e, _ in events]
    LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
    Fund.objects.bulk_update(funds, ["credited", "reserved"], batch_size=BATCH)
    SelfGovernanceGrant.objects.bulk_update(grants, ["status", "approved", "spent"], batch_size=BATCH)
    return {"projects": len(projects), "grants": len(grants), "ledger_entries": len(entries)}

