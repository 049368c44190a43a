"""Consultations: written consent of a defined group, and owners' votes under Civil Code art. 278.

The counting is the pure engines' (``council.rules.consent.tally_consent`` and
``council.rules.owners.decide``); this module persists their inputs, recounts after every answer
or ballot (inside the same transaction, so an input the engine refuses is never stored) and keeps
the engine's result, explanation and digest on the consultation.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.core.errors import Forbidden, NotFound, ValidationFailed
from jiayuan.council import access
from jiayuan.council.models import (
    ConsentMember,
    ConsentReply,
    Consultation,
    Council,
    DwellingOwner,
    Topic,
    VoteBallot,
    VoteDwelling,
    VoteProxy,
)
from jiayuan.council.rules import consent as cr
from jiayuan.council.rules import owners as ow
from jiayuan.council.rules.exact import Bound, canonical_json
from jiayuan.council.services import owners as owners_svc
from jiayuan.council.services.topics import _system
from jiayuan.registry.models import Compound, Household


def _json(payload: Any) -> Any:
    return json.loads(canonical_json(payload))


# --- consent campaigns ----------------------------------------------------------------------------

@transaction.atomic
def open_consent(council: Council, *, actor: Any, title: str, members: list[tuple[str, str]],
                 topic: Topic | None = None, threshold: Fraction | None = None,
                 bound: str = "at_least", compound: Compound | None = None) -> Consultation:
    """A consent campaign over named members (key, label): unanimity unless ``threshold``."""
    access.require_manage(actor, council)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("征询名称不能为空", details={"title": ["必填"]})
    rule = (cr.ConsentRule.unanimity() if threshold is None
            else cr.ConsentRule.share(Fraction(threshold), Bound(bound)))
    keys = [k.strip() for k, _ in members]
    if any(not k for k in keys):
        raise ValidationFailed("征询对象编号不能为空", details={"members": ["必填"]})
    # The engine refuses an empty or duplicated list before anything is stored.
    cr.tally_consent(cr.ConsentCampaign("check", tuple(keys), rule), ())
    if topic is not None and topic.council_id != council.pk:
        raise ValidationFailed("议题不属于本理事会")
    compound = compound or (topic.compound if topic else None)
    c = Consultation.objects.create(
        council=council, topic=topic, path=compound.path if compound else council.path,
        compound=compound, kind=Consultation.Kind.CONSENT, title=title[:120],
        unanimous=rule.unanimous, threshold_num=rule.threshold.numerator,
        threshold_den=rule.threshold.denominator, bound=rule.bound.value,
        created_at=timezone.now())
    ConsentMember.objects.bulk_create([ConsentMember(consultation=c, key=k, label=(lbl or k)[:120])
                                       for k, (_, lbl) in zip(keys, members, strict=True)])
    if topic is not None:
        _system(topic, f"发起书面征询“{c.title}”（{len(keys)} 个征询对象）")
    return recount(c)


def _consent_rule(c: Consultation) -> cr.ConsentRule:
    if c.unanimous:
        return cr.ConsentRule.unanimity()
    return cr.ConsentRule.share(Fraction(c.threshold_num, c.threshold_den), Bound(c.bound))


@transaction.atomic
def answer_consent(c: Consultation, *, actor: Any, member_key: str, answer: str,
                   source: str = "written") -> Consultation:
    """Staff enter a member's signed answer (or the member confirms online). Answers are final."""
    access.require_manage(actor, c.council)
    c = Consultation.objects.select_for_update().get(pk=c.pk)
    if c.kind != Consultation.Kind.CONSENT:
        raise ValidationFailed("这不是书面征询")
    if c.closed:
        raise ValidationFailed("征询已截止")
    try:
        a, s = cr.Answer(answer), cr.AnswerSource(source)
    except ValueError:
        raise ValidationFailed("答复须为同意或不同意", details={"answer": answer}) from None
    member = ConsentMember.objects.filter(consultation=c, key=member_key).first()
    if member is None:
        raise cr.CouncilRuleError("not_a_member", f"“{member_key}”不在本次征询对象名单内",
                                  details={"member": member_key})
    if ConsentReply.objects.filter(member=member).exists():
        raise cr.CouncilRuleError("duplicate_answer", details={"member": member_key})
    ConsentReply.objects.create(member=member, answer=a.value, source=s.value, entered_by=actor,
                                at=timezone.now())
    return recount(c)


# --- owners' votes --------------------------------------------------------------------------------

def _households(scope: ow.Scope, code: str) -> Any:
    qs = Household.objects.select_related("compound")
    if scope is ow.Scope.COMPOUND:
        return qs.filter(compound__code=code)
    if scope is ow.Scope.BUILDING:
        return qs.filter(entrance__building__code=code)
    return qs.filter(entrance__code=code)


@transaction.atomic
def open_owners_vote(council: Council, *, actor: Any, title: str, matter: str, scope: str,
                     scope_code: str, topic: Topic | None = None,
                     max_dwellings_per_proxy: int | None = None) -> Consultation:
    """An owners' vote over the dwellings of a compound, building or entrance; the electorate
    (each dwelling's registered area and owners) is frozen now."""
    access.require_manage(actor, council)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("表决名称不能为空", details={"title": ["必填"]})
    m = ow.parse_matter(matter)
    try:
        sc = ow.Scope(scope)
    except ValueError:
        raise ValidationFailed("表决范围须为小区、楼栋或单元", details={"scope": scope}) from None
    households = list(_households(sc, scope_code).order_by("pk"))
    if not households:
        raise ow.CouncilRuleError("empty_electorate", details={"scope_code": scope_code})
    compound = households[0].compound
    if compound.neighbourhood_id != council.neighbourhood_id:
        raise ValidationFailed("表决范围不属于本理事会所在居民区")
    owners: dict[int, list[str]] = {}
    for o in DwellingOwner.objects.filter(household__in=households):
        owners.setdefault(o.household_id, []).append(o.owner_ref)
    missing_area = [h.room for h in households if h.floor_area_m2 is None]
    if missing_area:
        raise ValidationFailed("以下专有部分没有登记面积，不能发起表决",
                               details={"rooms": missing_area[:50]})
    no_owner = [h.room for h in households if not owners.get(h.pk)]
    if no_owner:
        raise ow.CouncilRuleError("dwelling_without_owner", "以下专有部分没有登记业主，不能发起表决",
                                  details={"rooms": no_owner[:50]})
    c = Consultation.objects.create(
        council=council, topic=topic, path=compound.path, compound=compound,
        kind=Consultation.Kind.OWNERS_VOTE, title=title[:120], matter=m.value, scope=sc.value,
        scope_code=scope_code, max_dwellings_per_proxy=max_dwellings_per_proxy,
        unanimous=False, created_at=timezone.now())
    VoteDwelling.objects.bulk_create([
        VoteDwelling(consultation=c, household=h, area=h.floor_area_m2,
                     owners=sorted(owners[h.pk])) for h in households])
    if topic is not None:
        _system(topic, f"发起业主表决“{c.title}”（{ow.rule_for(m).name_zh}，"
                       f"{len(households)} 个专有部分）")
    return recount(c)


def _vote_or_404(c: Consultation) -> Consultation:
    c = Consultation.objects.select_for_update().get(pk=c.pk)
    if c.kind != Consultation.Kind.OWNERS_VOTE:
        raise ValidationFailed("这不是业主表决")
    if c.closed:
        raise ValidationFailed("表决已截止")
    return c


def _dwelling(c: Consultation, household_id: int) -> VoteDwelling:
    d = VoteDwelling.objects.filter(consultation=c, household_id=household_id).first()
    if d is None:
        raise ow.CouncilRuleError("not_in_electorate", details={"dwelling": str(household_id)})
    return d


def _holder_ref(user: Any) -> str:
    name = str(user.username)
    return name if len(name) <= 40 else f"user:{user.pk}"


@transaction.atomic
def grant_proxy(c: Consultation, *, actor: Any, household_id: int, holder: str = "",
                holder_user: Any = None, granted_by: str = "") -> VoteProxy:
    """A proxy for one dwelling in this vote. Either the owner grants it online from their
    verified account (``granted_by`` is then their register identity, whatever was asked)
    to another account, ``holder_user``; or staff of the neighbourhood record a signed proxy
    form, naming the granting owner (``granted_by``, a register identity of the dwelling) and
    the holder. Refuses anyone else (a property company, an unverified account), an owner
    who is not an owner of that dwelling, and a proxy to oneself."""
    c = _vote_or_404(c)
    d = _dwelling(c, household_id)
    own_ref = owners_svc.verified_owner_ref(actor, household_id)
    now = timezone.now()
    if own_ref is not None and own_ref in d.owners:
        if holder_user is None or not getattr(holder_user, "is_active", False):
            raise ValidationFailed("请填写受托人的账号", details={"holder": ["必填"]})
        if holder_user.pk == actor.pk:
            raise ValidationFailed("不能委托给自己", details={"holder": ["无效"]})
        proxy = VoteProxy.objects.create(
            consultation=c, household_id=household_id, granted_by=own_ref,
            holder=_holder_ref(holder_user), holder_user=holder_user, granted_by_user=actor,
            granted_at=now)
    else:
        access.require_manage(actor, c.council)
        if granted_by not in d.owners:
            raise ow.CouncilRuleError("not_an_owner", "委托人不是该专有部分的登记业主",
                                      details={"granted_by": granted_by})
        name = (holder_user.username if holder_user is not None else holder).strip()
        if not name:
            raise ValidationFailed("受托人不能为空", details={"holder": ["必填"]})
        proxy = VoteProxy.objects.create(
            consultation=c, household_id=household_id, granted_by=granted_by,
            holder=_holder_ref(holder_user) if holder_user is not None else name[:40],
            holder_user=holder_user, recorded_by=actor, granted_at=now)
    owners_svc.record("proxy_granted", actor=actor, consultation=c, household_id=household_id,
                      at=now, granted_by=proxy.granted_by, holder=proxy.holder,
                      online=proxy.granted_by_user_id is not None)
    return proxy


@transaction.atomic
def revoke_proxy(proxy: VoteProxy, *, actor: Any) -> VoteProxy:
    """The granting owner (from their verified account) or staff of the neighbourhood revoke
    a proxy that has not voted yet."""
    c = _vote_or_404(proxy.consultation)
    proxy = VoteProxy.objects.select_for_update().get(pk=proxy.pk)
    if proxy.revoked:
        raise ValidationFailed("该委托已撤销")
    own_ref = owners_svc.verified_owner_ref(actor, proxy.household_id)
    if own_ref != proxy.granted_by and not access.can_manage(actor, c.council):
        raise Forbidden("只有委托人本人或本居民区工作人员可以撤销委托")
    if VoteBallot.objects.filter(consultation=c, household_id=proxy.household_id,
                                 source="proxy", cast_by=proxy.holder).exists():
        raise ValidationFailed("受托人已投票，委托不能再撤销")
    now = timezone.now()
    proxy.revoked, proxy.revoked_by, proxy.revoked_at = True, actor, now
    proxy.save(update_fields=["revoked", "revoked_by", "revoked_at"])
    owners_svc.record("proxy_revoked", actor=actor, consultation=c,
                      household_id=proxy.household_id, at=now, holder=proxy.holder)
    recount(c)
    return proxy


PAPER_NUMBER_MAX = 40


@transaction.atomic
def cast_ballot(c: Consultation, *, actor: Any, household_id: int, choice: str, source: str,
                cast_by: str = "", paper_number: str = "") -> Consultation:
    """Record one ballot; the engine recounts at once and a ballot it refuses is not kept.

    * ``online``: only by the logged-in owner of that dwelling, through a link the
      neighbourhood verified; ``cast_by`` is their register identity (any value given is
      ignored).
    * ``proxy`` cast online: only by the account holding an active proxy for that dwelling.
    * ``paper`` (and a proxy's paper ballot): only staff of the neighbourhood (the council's
      managers), who name the signing owner (``cast_by``) or holder and the paper's number;
      they are recorded as ``entered_by``.

    Refuses anyone else (``Forbidden``), a missing or repeated paper number, and everything
    the engine refuses."""
    c = _vote_or_404(c)
    _dwelling(c, household_id)
    cast_by_user = entered_by = None
    paper_number = (paper_number or "").strip()
    if source == "online":
        ref = owners_svc.verified_owner_ref(actor, household_id)
        if ref is None:
            raise Forbidden("只有经居委会核验的本户业主本人可以在线投票")
        cast_by, cast_by_user, paper_number = ref, actor, ""
    elif source == "proxy" and not paper_number:
        proxy = VoteProxy.objects.filter(consultation=c, household_id=household_id,
                                         holder_user=actor, revoked=False).first() \
            if getattr(actor, "is_authenticated", False) else None
        if proxy is None:
            raise Forbidden("只有持有该户有效委托的受托人可以代为投票")
        cast_by, cast_by_user = proxy.holder, actor
    elif source in ("paper", "proxy"):
        access.require_manage(actor, c.council)
        if not paper_number or len(paper_number) > PAPER_NUMBER_MAX:
            raise ValidationFailed("请填写纸质表决票编号", details={"paper_number": ["必填"]})
        if VoteBallot.objects.filter(consultation=c, paper_number=paper_number).exists():
            raise ValidationFailed(f"编号为“{paper_number}”的表决票已录入",
                                   details={"paper_number": ["重复"]})
        cast_by = (cast_by or "").strip()
        if not cast_by:
            raise ValidationFailed("请填写签名的业主或受托人", details={"cast_by": ["必填"]})
        entered_by = actor
    else:
        raise ow.CouncilRuleError("unknown_source", details={"source": str(source)})
    if VoteBallot.objects.filter(consultation=c, household_id=household_id,
                                 source=source).exists():
        raise ow.CouncilRuleError("duplicate_ballot", details={"dwelling": str(household_id),
                                                               "source": source})
    now = timezone.now()
    VoteBallot.objects.create(consultation=c, household_id=household_id, choice=choice,
                              source=source, cast_by=cast_by[:40], cast_by_user=cast_by_user,
                              entered_by=entered_by, paper_number=paper_number, at=now)
    c = recount(c)
    owners_svc.record("ballot_cast", actor=actor, consultation=c, household_id=household_id,
                      at=now, source=source, cast_by=cast_by[:40], paper_number=paper_number)
    return c


# --- counting ---------------------------------------------------------------------------------

def vote_inputs(c: Consultation) -> dict[str, Any]:
    """The engine's inputs for an owners' vote, rebuilt from the stored rows."""
    electorate = ow.Electorate(ow.Scope(c.scope), c.scope_code, tuple(
        ow.Dwelling(str(d.household_id), Decimal(d.area), frozenset(d.owners))
        for d in c.dwellings.all()))
    ballots = tuple(
        ow.Ballot(str(b.household_id), b.choice, b.source, b.cast_by,
                  b.entered_by.username if b.entered_by_id else None)
        for b in c.ballots.select_related("entered_by"))
    proxies = tuple(ow.Proxy(str(p.household_id), p.granted_by, p.holder,
                             f"council.consultation:{c.pk}", p.revoked)
                    for p in c.proxies.all())
    return {"vote_id": f"council.consultation:{c.pk}", "matter": c.matter,
            "electorate": electorate, "ballots": ballots, "proxies": proxies,
            "max_dwellings_per_proxy": c.max_dwellings_per_proxy}


def consent_inputs(c: Consultation) -> tuple[cr.ConsentCampaign, tuple[cr.ConsentAnswer, ...]]:
    members = list(c.consent_members.select_related("reply__entered_by"))
    campaign = cr.ConsentCampaign(f"council.consultation:{c.pk}",
                                  tuple(m.key for m in members), _consent_rule(c), c.closed)
    answers = []
    for m in members:
        r = getattr(m, "reply", None)
        if r is not None:
            answers.append(cr.ConsentAnswer(m.key, cr.Answer(r.answer), cr.AnswerSource(r.source),
                                            r.entered_by.username if r.entered_by_id else None))
    return campaign, tuple(answers)


def recount(c: Consultation) -> Consultation:
    """Run the engine over the stored inputs and keep its result, reason and digest."""
    if c.kind == Consultation.Kind.CONSENT:
        campaign, answers = consent_inputs(c)
        res = cr.tally_consent(campaign, answers)
        payload = {k: v for k, v in res.__dict__.items()}
        c.result_status = res.status.value
        c.result_reason = res.reason_zh
        c.result_digest = res.digest
        c.participants = res.consents + res.refusals
        c.eligible = res.members
    else:
        dec = ow.decide(**vote_inputs(c))
        payload = dec.as_dict()
        c.result_status = dec.outcome.value
        c.result_reason = dec.reason_zh
        c.result_digest = dec.digest
        c.participants = dec.participating.dwellings
        c.eligible = dec.eligible.dwellings
    c.result = _json(payload)
    c.computed_at = timezone.now()
    c.save(update_fields=["result_status", "result_reason", "result_digest", "participants",
                          "eligible", "result", "computed_at"])
    return c


@transaction.atomic
def close_consultation(c: Consultation, *, actor: Any) -> Consultation:
    access.require_manage(actor, c.council)
    c = Consultation.objects.select_for_update().get(pk=c.pk)
    if c.closed:
        raise ValidationFailed("已截止")
    c.closed = True
    c.save(update_fields=["closed"])
    c = recount(c)
    if c.topic_id:
        _system(c.topic, f"“{c.title}”已截止：{c.result_reason}")
    return c


def takes_part(user: Any, c: Consultation) -> bool:
    """Whether ``user`` votes in ``c`` as a verified owner of one of its dwellings or as the
    holder of an active proxy for one."""
    if c.kind != Consultation.Kind.OWNERS_VOTE or not getattr(user, "is_authenticated", False):
        return False
    mine = owners_svc.verified_households(user)
    if mine and VoteDwelling.objects.filter(consultation=c, household_id__in=mine).exists():
        return True
    return VoteProxy.objects.filter(consultation=c, holder_user=user, revoked=False).exists()


def get_consultation_for(user: Any, pk: int) -> Consultation:
    """A consultation for whoever may see its council, or votes in it (a verified owner of
    one of its dwellings, a proxy holder)."""
    c = Consultation.objects.select_related("council", "topic").filter(pk=pk).first()
    if c is None:
        raise NotFound("征询或表决不存在")
    if access.can_see(user, c.council) or takes_part(user, c):
        return c
    access.require_see(user, c.council)
    return c
