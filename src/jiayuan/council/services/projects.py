"""Projects with weighted milestones, self-governance grants, resources and needs.

Progress is computed by ``council.progress.compute_progress``; every fund event is replayed
through ``council.progress`` (``replay`` + ``apply_event``) before it is stored, so a spending
that would make a grant's balance negative is refused and nothing is written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from jiayuan.core.errors import NotFound, ValidationFailed
from jiayuan.core.photos import check_photos
from jiayuan.council import access
from jiayuan.council import progress as pg
from jiayuan.council.models import (
    Council,
    Fund,
    LedgerEntry,
    Milestone,
    Need,
    Project,
    ResourceOffer,
    SelfGovernanceGrant,
    Topic,
)
from jiayuan.council.services.topics import _system


def money(value: Any, field: str = "amount") -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("金额格式不正确", details={field: [str(value)]}) from None
    return d


def _dec(value: Any, field: str, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{label}格式不正确", details={field: [str(value)]}) from None


# --- projects and progress ----------------------------------------------------------------------

def project_progress(project: Project) -> pg.Progress:
    milestones = list(project.milestones.all())
    root = pg.Result(f"project:{project.pk}", project.title,
                     progress=0 if not milestones else None,
                     children=tuple(pg.Result(f"m:{m.pk}", m.title, progress=m.progress,
                                              weight=m.weight) for m in milestones))
    return pg.compute_progress(root)


def _store_progress(project: Project) -> Project:
    p = project_progress(project)
    project.progress = (Decimal(p.progress.numerator) / Decimal(p.progress.denominator)
                        ).quantize(Decimal("0.01"))
    project.save(update_fields=["progress"])
    return project


@transaction.atomic
def create_project(council: Council, *, actor: Any, title: str, budget: Any = 0,
                   description: str = "", milestones: list[tuple[str, Any, Any]] | None = None,
                   topic: Topic | None = None, compound: Any = None,
                   public: bool = True) -> Project:
    """A project with milestones ``(title, weight or None, progress %)``; all weighted or none."""
    access.require_manage(actor, council)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("项目名称不能为空", details={"title": ["必填"]})
    b = money(budget or 0, "budget")
    if b < 0:
        raise ValidationFailed("预算不能为负", details={"budget": [str(budget)]})
    if topic is not None and topic.council_id != council.pk:
        raise ValidationFailed("议题不属于本理事会")
    compound = compound or (topic.compound if topic else None)
    project = Project.objects.create(council=council, topic=topic, compound=compound,
                                     path=compound.path if compound else council.path,
                                     title=title[:120], description=description.strip(),
                                     budget=b, public=public, created_at=timezone.now())
    rows = []
    for i, (mt, weight, prog) in enumerate(milestones or ()):
        if not (mt or "").strip():
            raise ValidationFailed("里程碑名称不能为空", details={"milestones": [i]})
        rows.append(Milestone(project=project, title=mt.strip()[:120], position=i,
                              weight=_dec(weight, "weight", "权重"),
                              progress=_dec(prog, "progress", "进度") or Decimal(0)))
    Milestone.objects.bulk_create(rows)
    _store_progress(project)  # the engine refuses mixed weights, bad progress: all rolled back
    if topic is not None:
        _system(topic, f"立项：“{project.title}”")
    return project


@transaction.atomic
def set_milestone_progress(milestone: Milestone, *, actor: Any, progress: Any) -> Project:
    project = milestone.project
    access.require_manage(actor, project.council)
    value = _dec(progress, "progress", "进度")
    if value is None:
        raise ValidationFailed("进度不能为空", details={"progress": ["必填"]})
    milestone.progress = value
    if not (0 <= value <= 100):
        raise pg.ProgressError("invalid_progress", details={"progress": str(progress)})
    milestone.save(update_fields=["progress"])
    return _store_progress(Project.objects.get(pk=project.pk))


def get_project(pk: int) -> Project:
    p = Project.objects.select_related("council__neighbourhood").filter(pk=pk).first()
    if p is None:
        raise NotFound("项目不存在")
    return p


# --- the grant ledger ---------------------------------------------------------------------------

def _event(e: LedgerEntry) -> pg.LedgerEvent:
    fid = str(e.fund_id)
    gid = str(e.grant_id) if e.grant_id else ""
    if e.kind == "credit":
        return pg.FundCredited(fid, e.amount, e.at, e.by, e.note)
    if e.kind == "apply":
        return pg.GrantApplied(gid, fid, str(e.grant.project_id), e.amount, e.at, e.by)
    if e.kind == "approve":
        return pg.GrantApproved(gid, e.amount, e.at, e.by)
    if e.kind == "reject":
        return pg.GrantRejected(gid, e.at, e.by, e.note)
    return pg.GrantSpent(gid, e.amount, e.receipt, e.at, e.by, e.note)


def ledger_of(fund: Fund) -> pg.Ledger:
    entries = fund.entries.select_related("grant").order_by("at", "id")
    return pg.replay(_event(e) for e in entries)


def _append(fund: Fund, entry: LedgerEntry) -> pg.Ledger:
    """Check ``entry`` against the replayed ledger, then store it and the cached balances."""
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    state = pg.apply_event(ledger_of(fund), _event(entry))
    entry.fund = fund
    entry.save()
    f = state.funds[str(fund.pk)]
    Fund.objects.filter(pk=fund.pk).update(credited=f.credited, reserved=f.reserved)
    if entry.grant_id:
        g = state.grants[str(entry.grant_id)]
        SelfGovernanceGrant.objects.filter(pk=entry.grant_id).update(status=g.status.value,
                                                       approved=g.approved, spent=g.spent)
    return state


def fund_of(council: Council) -> Fund:
    fund, _ = Fund.objects.get_or_create(council=council)
    return fund


@transaction.atomic
def credit_fund(council: Council, *, actor: Any, amount: Any, note: str = "") -> Fund:
    access.require_manage(actor, council)
    fund = fund_of(council)
    _append(fund, LedgerEntry(fund=fund, kind="credit", amount=money(amount), note=note[:200],
                              by=actor.username, at=timezone.now()))
    fund.refresh_from_db()
    return fund


@transaction.atomic
def apply_grant(project: Project, *, actor: Any, amount: Any) -> SelfGovernanceGrant:
    access.require_manage(actor, project.council)
    fund = fund_of(project.council)
    grant = SelfGovernanceGrant.objects.create(fund=fund, project=project, requested=Decimal(0))
    amt = money(amount)
    _append(fund, LedgerEntry(fund=fund, grant=grant, kind="apply", amount=amt,
                              by=actor.username, at=timezone.now()))
    grant.requested = amt
    grant.save(update_fields=["requested"])
    grant.refresh_from_db()
    return grant


@transaction.atomic
def approve_grant(grant: SelfGovernanceGrant, *, actor: Any, amount: Any) -> SelfGovernanceGrant:
    access.require_manage(actor, grant.project.council)
    _append(grant.fund, LedgerEntry(fund=grant.fund, grant=grant, kind="approve",
                                    amount=money(amount), by=actor.username, at=timezone.now()))
    grant.refresh_from_db()
    return grant


@transaction.atomic
def reject_grant(grant: SelfGovernanceGrant, *, actor: Any, reason: str) -> SelfGovernanceGrant:
    access.require_manage(actor, grant.project.council)
    _append(grant.fund, LedgerEntry(fund=grant.fund, grant=grant, kind="reject",
                                    note=reason.strip()[:200], by=actor.username,
                                    at=timezone.now()))
    grant.refresh_from_db()
    return grant


@transaction.atomic
def spend(grant: SelfGovernanceGrant, *, actor: Any, amount: Any, receipt: str, note: str = "",
          receipt_file: Any = None) -> SelfGovernanceGrant:
    """Spend on an approved grant against a receipt; refused (``overspend``) if the grant's
    balance would go below zero. ``receipt_file``: a JPEG or PNG photo of the receipt, checked by
    its bytes (``core.photos``) before anything is written and stored under a name of ours."""
    access.require_manage(actor, grant.project.council)
    checked = check_photos([receipt_file], limit=1)
    entry = LedgerEntry(fund=grant.fund, grant=grant, kind="spend", amount=money(amount),
                        receipt=(receipt or "").strip()[:60], note=note.strip()[:200],
                        by=actor.username, at=timezone.now())
    _append(grant.fund, entry)
    for photo in checked:
        entry.receipt_file.save(f"receipt.{photo.name.rsplit('.', 1)[-1]}",
                                ContentFile(photo.data))
    grant.refresh_from_db()
    return grant


# --- resources and needs ------------------------------------------------------------------------

@transaction.atomic
def add_resource(council: Council, *, actor: Any, provider: str, title: str, category: str,
                 capacity: int = 1, unit: Any = None, compound: Any = None) -> ResourceOffer:
    access.require_offer(actor, council)
    if not title.strip() or not category.strip() or not provider.strip():
        raise ValidationFailed("资源名称、类别和提供方不能为空")
    if int(capacity) < 1:
        raise ValidationFailed("可服务数量须大于零", details={"capacity": [capacity]})
    return ResourceOffer.objects.create(council=council, path=compound.path if compound else council.path,
                                   unit=unit, provider=provider.strip()[:120],
                                   title=title.strip()[:120], category=category.strip()[:40],
                                   capacity=int(capacity), compound=compound)


@transaction.atomic
def add_need(council: Council, *, actor: Any, title: str, category: str, size: int = 1,
             compound: Any = None) -> Need:
    access.require_take_part(actor, council)
    if not title.strip() or not category.strip():
        raise ValidationFailed("需求名称和类别不能为空")
    if int(size) < 1:
        raise ValidationFailed("需求数量须大于零", details={"size": [size]})
    return Need.objects.create(council=council, path=compound.path if compound else council.path,
                               title=title.strip()[:120], category=category.strip()[:40],
                               size=int(size), compound=compound, created_at=timezone.now())


def candidates(need: Need) -> list[ResourceOffer]:
    """Resources that fit a need: same category, capacity left for its size; those in the same
    compound first, then the rest of the neighbourhood, then the subdistrict. Each carries its
    places left as ``left``."""
    from django.db.models import Sum

    subdistrict_path = "/".join(need.council.path.split("/")[:2]) + "/"
    rows = (ResourceOffer.objects.filter(active=True, category=need.category,
                                    path__startswith=subdistrict_path)
            .annotate(used=Sum("matches__size")))
    out = []
    for r in rows:
        left = r.capacity - (r.used or 0)
        if left < need.size:
            continue
        r.left = left
        rank = (0 if need.compound_id and r.compound_id == need.compound_id
                else 1 if r.council_id == need.council_id else 2)
        out.append((rank, -left, r.pk, r))
    return [r for *_, r in sorted(out, key=lambda t: t[:3])]


@transaction.atomic
def match_need(need: Need, *, actor: Any, resource: ResourceOffer | None = None) -> Need:
    access.require_manage(actor, need.council)
    need = Need.objects.select_for_update().get(pk=need.pk)
    if need.matched_resource_id:
        raise ValidationFailed("该需求已对接资源")
    options = candidates(need)
    if resource is None:
        if not options:
            raise ValidationFailed("没有类别相符且仍有余量的资源")
        resource = options[0]
    elif resource.pk not in {r.pk for r in options}:
        raise ValidationFailed("该资源类别不符或余量不足", details={"resource": resource.pk})
    need.matched_resource = resource
    need.save(update_fields=["matched_resource"])
    return need
