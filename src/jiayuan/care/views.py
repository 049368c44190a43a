"""Care pages (phone-first): the register, a person, my visits this week, the task queue.

Thin: parse, call a service or a selector, render. Lists show personal data masked; the full
data is shown only after a deliberate "reveal", which is logged (PIPL).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiayuan.accounts.scope import scope_for
from jiayuan.accounts.services import log_personal_data_access
from jiayuan.care import access, selectors
from jiayuan.care.forms import ElderForm, FilterForm, TaskDoneForm, VisitForm
from jiayuan.care.models import CareTask
from jiayuan.care.risk import LEVEL_LABELS, REASON_LABELS, Level
from jiayuan.care.services import (
    assign_task,
    complete_task,
    log_visit,
    register_elder,
    update_elder,
)
from jiayuan.core.errors import DomainError, ValidationFailed
from jiayuan.core.masking import mask_name
from jiayuan.registry.models import Entrance, Household
from jiayuan.web.errors import page_errors

PAGE_SIZE = 50


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _error_text(exc: DomainError) -> str:
    if isinstance(exc.details, dict) and exc.details:
        return exc.message + "：" + "；".join(str(v) for v in exc.details.values())
    return exc.message


def _form_errors(form: Any) -> str:
    return "；".join(f"{form.fields[k].label if k in form.fields else k}：{e}"
                    for k, errs in form.errors.items() for e in errs)


@require_GET
@login_required
@page_errors
def register_list(request: HttpRequest) -> HttpResponse:
    access.require_view(request.user)
    scope = scope_for(request.user)
    now = timezone.now()
    fform = FilterForm(request.GET or None, neighbourhoods=selectors.neighbourhoods(scope))
    f = fform.cleaned_data if fform.is_bound and fform.is_valid() else {}
    qs = selectors.elders(scope, risk=f.get("risk", ""), neighbourhood=f.get(
        "neighbourhood", ""), overdue=bool(f.get("overdue")), now=now)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {"filter_form": fform, "page": page,
           "rows": [selectors.masked_row(e, now=now) for e in page.object_list],
           "counts": selectors.counts(scope, now=now), "can_edit": access.can_edit(request.user),
           "level_labels": {lv.value: lab for lv, lab in LEVEL_LABELS.items()},
           "query": request.GET.urlencode()}
    if request.headers.get("HX-Request"):
        return render(request, "care/_list.html", ctx)
    return render(request, "care/list.html", ctx)


def _place(scope: Any, code: str, room: str) -> tuple[Entrance, Household | None]:
    entrance = Entrance.objects.filter(code=code.strip()).first()
    if entrance is None:
        raise ValidationFailed("找不到该门栋编码", details={"entrance_code": code})
    scope.require(entrance.path)
    household = Household.objects.filter(entrance=entrance, room=room.strip()).first() \
        if room.strip() else None
    return entrance, household


@require_http_methods(["GET", "POST"])
@login_required
@page_errors
def register_new(request: HttpRequest) -> HttpResponse:
    access.require_edit(request.user)
    scope = scope_for(request.user)
    visitors = selectors.visitor_choices(scope)
    form = ElderForm(request.POST or None, visitors=visitors)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            data = form.service_data()
            try:
                entrance, household = _place(scope, data["entrance_code"], data["room"])
                visitor = selectors.visitor_in_scope(scope, data.get("visitor", ""))
                elder = register_elder(by=request.user, data=data, entrance=entrance,
                                       household=household, visitor=visitor)
            except DomainError as exc:
                error = _error_text(exc)
            else:
                messages.success(request, "已登记")
                return redirect("care:person", pk=elder.pk)
        else:
            error = _form_errors(form)
    return render(request, "care/form.html", {"form": form, "error": error, "elder": None},
                  status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@login_required
@page_errors
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_edit(request.user)
    scope = scope_for(request.user)
    elder = selectors.get_elder(scope, pk)
    visitors = selectors.visitor_choices(scope)
    if request.method == "GET":
        log_personal_data_access(user=request.user, object_type="care.elder", object_id=pk,
                                 fields=["name", "id_number", "phone", "emergency_contacts"],
                                 purpose="edit register", ip_address=_client_ip(request))
        form = ElderForm(initial=ElderForm.initial_of(elder), visitors=visitors)
        return render(request, "care/form.html", {"form": form, "error": "", "elder": elder})
    form = ElderForm(request.POST, visitors=visitors)
    error = ""
    if form.is_valid():
        data = form.service_data()
        try:
            visitor = selectors.visitor_in_scope(scope, data.get("visitor", ""))
            entrance, household = _place(scope, data["entrance_code"], data["room"])
            update_elder(elder=elder, by=request.user, data=data, visitor=visitor,
                         entrance=entrance, household=household)
        except DomainError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, "已保存")
            return redirect("care:person", pk=elder.pk)
    else:
        error = _form_errors(form)
    return render(request, "care/form.html", {"form": form, "error": error, "elder": elder},
                  status=400)


def _person_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    scope = scope_for(request.user)
    elder = selectors.get_elder(scope, pk)
    now = timezone.now()
    return {
        "elder": elder, "row": selectors.masked_row(elder, now=now),
        "level_label": LEVEL_LABELS[Level(elder.risk_level)],
        "reasons": [f"{REASON_LABELS.get(k, k)} +{p}" for k, p in elder.risk_reasons],
        "signals": [REASON_LABELS.get(s, s) for s in elder.active_signals],
        "visits": list(elder.visits.select_related("visitor")[:20]),
        "tasks": list(elder.tasks.all()[:10]),
        "history": list(elder.assessments.all()[:10]),
        "recent_signals": list(elder.signals.all()[:10]),
        "visit_form": VisitForm(), "can_edit": access.can_edit(request.user),
        "visit_error": "", "revealed": False,
    }


@require_GET
@login_required
@page_errors
def person(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_view(request.user)
    return render(request, "care/person.html", _person_context(request, pk))


@require_POST
@login_required
@page_errors
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show name, ID number, phone and emergency contacts in full; the look is logged."""
    access.require_view(request.user)
    elder = selectors.get_elder(scope_for(request.user), pk)
    log_personal_data_access(user=request.user, object_type="care.elder", object_id=elder.pk,
                             fields=["name", "id_number", "phone", "emergency_contacts"],
                             purpose=request.POST.get("purpose", "")[:100] or "care visit",
                             ip_address=_client_ip(request))
    ctx = {"elder": elder, "revealed": True}
    if request.headers.get("HX-Request"):
        return render(request, "care/_personal.html", ctx)
    full = _person_context(request, pk)
    full["revealed"] = True
    return render(request, "care/person.html", full)


@require_POST
@login_required
@page_errors
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_edit(request.user)
    elder = selectors.get_elder(scope_for(request.user), pk)
    form = VisitForm(request.POST)
    error = ""
    if form.is_valid():
        d = form.cleaned_data
        try:
            log_visit(elder=elder, by=request.user, outcome=d["outcome"], method=d["method"],
                      notes=d["notes"], visitor_name=d["visitor_name"])
        except DomainError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, "走访已记录")
            if request.POST.get("next") == "visits":
                return redirect("care:my_visits")
            return redirect("care:person", pk=elder.pk)
    else:
        error = _form_errors(form)
    ctx = _person_context(request, pk)
    ctx.update({"visit_form": form, "visit_error": error})
    return render(request, "care/person.html", ctx, status=400)


@require_GET
@login_required
@page_errors
def my_visits(request: HttpRequest) -> HttpResponse:
    access.require_view(request.user)
    scope = scope_for(request.user)
    now = timezone.now()
    plan = selectors.my_visits(scope, request.user, now=now)
    return render(request, "care/visits.html", {
        "mine": [selectors.masked_row(e, now=now) for e in plan["mine"]],
        "unassigned": [selectors.masked_row(e, now=now) for e in plan["unassigned_overdue"]],
        "visit_form": VisitForm(), "can_edit": access.can_edit(request.user),
        "level_labels": {lv.value: lab for lv, lab in LEVEL_LABELS.items()},
    })


def _task_rows(tasks: list[CareTask]) -> list[dict[str, Any]]:
    return [{"task": t, "name": mask_name(t.elder.name),
             "neighbourhood": t.elder.neighbourhood.name} for t in tasks]


@require_GET
@login_required
@page_errors
def task_queue(request: HttpRequest) -> HttpResponse:
    access.require_view(request.user)
    scope = scope_for(request.user)
    status = request.GET.get("status", "open")
    if status not in ("open", "done"):
        status = "open"
    mine = request.GET.get("mine") == "1"
    qs = selectors.tasks(scope, status=status, mine_of=request.user if mine else None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "care/tasks.html", {
        "rows": _task_rows(list(page.object_list)), "page": page, "status": status,
        "mine": mine, "done_form": TaskDoneForm(), "can_edit": access.can_edit(request.user),
        "error": request.GET.get("error", "")})


@require_POST
@login_required
@page_errors
def task_action(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_edit(request.user)
    scope = scope_for(request.user)
    task = selectors.get_task(scope, pk)
    action = request.POST.get("action", "")
    try:
        if action == "assign":
            assign_task(task=task, by=request.user)
            messages.success(request, "已认领关怀任务")
        elif action == "done":
            form = TaskDoneForm(request.POST)
            if not form.is_valid():
                raise ValidationFailed("请选择处理结果", details=form.errors.get_json_data())
            complete_task(task=task, by=request.user, outcome=form.cleaned_data["outcome"],
                          notes=form.cleaned_data["notes"])
            messages.success(request, "关怀任务已完成")
        else:
            raise ValidationFailed("未知操作", details={"action": action})
    except DomainError as exc:
        messages.error(request, exc.message)
        ctx_status = 400
        qs = selectors.tasks(scope)
        page = Paginator(qs, PAGE_SIZE).get_page(1)
        return render(request, "care/tasks.html", {
            "rows": _task_rows(list(page.object_list)), "page": page, "status": "open",
            "mine": False, "done_form": TaskDoneForm(), "can_edit": True,
            "error": exc.message}, status=ctx_status)
    return redirect("care:tasks")


