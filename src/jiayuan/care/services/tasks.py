"""Care tasks: open (or join the one open task), assign, finish with an outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jiayuan.accounts.scope import scope_for
from jiayuan.care import access
from jiayuan.care.models import CareTask, ElderLivingAlone
from jiayuan.core.errors import InvalidTransition, ValidationFailed

URGENT_KINDS = frozenset({"panic", "smoke"})
KIND_LABELS = {
    "risk_rise": "风险等级上升", "no_activity": "长时间无活动信号", "panic": "紧急呼叫按钮",
    "smoke": "烟感报警", "visit": "走访发现异常",
}


def _trigger(kind: str, at: dt.datetime, source_ref: str, note: str) -> dict[str, str]:
    return {"kind": kind, "at": at.isoformat(), "source_ref": source_ref, "note": note}


@transaction.atomic
def raise_task(*, elder: ElderLivingAlone, kind: str, at: dt.datetime, reason: str = "",
               source_ref: str = "") -> tuple[CareTask, bool]:
    """Open a care task for ``elder``, or add this trigger to the one already open.

    Returns ``(task, created)``. A person has at most one open task (a database constraint
    backs this up under concurrency); an urgent trigger (panic, smoke) makes it urgent.
    """
    if kind not in KIND_LABELS:
        raise ValidationFailed("未知的关怀任务类型", details={"kind": kind})
    reason = (reason or KIND_LABELS[kind])[:200]
    trig = _trigger(kind, at, source_ref, reason)
    ElderLivingAlone.objects.select_for_update().filter(pk=elder.pk).first()
    task = CareTask.objects.filter(elder=elder).exclude(status=CareTask.Status.DONE).first()
    if task is None:
        try:
            with transaction.atomic():
                task = CareTask.objects.create(
                    elder=elder, path=elder.path, kind=kind, reason=reason, triggers=[trig],
                    opened_at=at,
                    priority=(CareTask.Priority.URGENT if kind in URGENT_KINDS
                              else CareTask.Priority.NORMAL))
            return task, True
        except IntegrityError:
            task = CareTask.objects.filter(elder=elder).exclude(
                status=CareTask.Status.DONE).get()
    task.triggers = [*task.triggers, trig]
    fields = ["triggers"]
    if kind in URGENT_KINDS and task.priority != CareTask.Priority.URGENT:
        task.priority = CareTask.Priority.URGENT
        task.kind, task.reason = kind, reason
        fields += ["priority", "kind", "reason"]
    task.save(update_fields=fields)
    return task, False


def _get_for_update(task: CareTask, user: Any) -> CareTask:
    access.require_edit(user)
    scope_for(user).require(task.path)
    return CareTask.objects.select_for_update().get(pk=task.pk)


@transaction.atomic
def assign_task(*, task: CareTask, by: Any, to: Any = None) -> CareTask:
    """Assign an open task to ``to`` (default: the acting user) within the task's area."""
    task = _get_for_update(task, by)
    if task.status == CareTask.Status.DONE:
        raise InvalidTransition("该关怀任务已完成，不能再分派")
    to = to or by
    if not (to.is_superuser or to.role in access.EDIT_ROLES) or not scope_for(to).covers(task.path):
        raise ValidationFailed("只能分派给本辖区的社区工作人员", details={"to": to.pk})
    task.assigned_to, task.assigned_at = to, timezone.now()
    task.status = CareTask.Status.ASSIGNED
    task.save(update_fields=["assigned_to", "assigned_at", "status"])
    return task


@transaction.atomic
def complete_task(*, task: CareTask, by: Any, outcome: str, notes: str = "") -> CareTask:
    """Finish a task with an outcome. Clears the person's panic/smoke signals it answered
    (someone has been there) and rescoring follows; a missing outcome is refused."""
    from jiayuan.care.services.scoring import rescore

    task = _get_for_update(task, by)
    if task.status == CareTask.Status.DONE:
        raise InvalidTransition("该关怀任务已完成")
    if outcome not in CareTask.Outcome.values:
        raise ValidationFailed("请选择处理结果", details={"outcome": outcome})
    now = timezone.now()
    task.status, task.done_at, task.done_by = CareTask.Status.DONE, now, by
    task.outcome, task.outcome_notes = outcome, notes.strip()[:2000]
    if task.assigned_to is None:
        task.assigned_to, task.assigned_at = by, now
    task.save(update_fields=["status", "done_at", "done_by", "outcome", "outcome_notes",
                             "assigned_to", "assigned_at"])
    elder = ElderLivingAlone.objects.select_for_update().get(pk=task.elder_id)
    answered = {t["kind"] for t in task.triggers} & URGENT_KINDS
    if answered & set(elder.active_signals):
        elder.active_signals = [s for s in elder.active_signals if s not in answered]
        rescore(elder, at=now, cause="task_done", actor=by)
        elder.save(update_fields=["active_signals", "risk_level", "risk_score",
                                  "risk_reasons", "next_visit_due", "updated_at"])
    return task
