"""Case pages: the resident's report and tracking pages, and the staff workbench. Thin: parse,
call a service or a selector, render. Domain refusals on an action re-render the page with the
Chinese message and the input kept; refusals of access become the shell's 403/404 pages.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiayuan.accounts.scope import scope_for
from jiayuan.accounts.services import log_personal_data_access
from jiayuan.cases import forms, selectors
from jiayuan.cases import lifecycle as lc
from jiayuan.cases.models import Case, CaseAttachment, Channel
from jiayuan.cases.services import act, act_as_reporter
from jiayuan.cases.services.attachments import (
    act_with_photos,
    add_reporter_note,
    report_from_home_code,
)
from jiayuan.cases.services.units import unit_of
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.core.errors import DomainError, Forbidden, ValidationFailed
from jiayuan.core.masking import mask_email, mask_name, mask_phone
from jiayuan.registry.selectors import entrance_by_home_code
from jiayuan.web.errors import page_errors

STAFF_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "department_staff", "liaison",
                         "admin"})
# Resident reports: at most REPORT_LIMIT new cases per REPORT_WINDOW seconds from one IP
# address, and as many from one entrance (its QR code may be photographed and abused).
REPORT_LIMIT = 5
REPORT_WINDOW = 600
PAGE_SIZE = 50


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _rate_keys(request: HttpRequest, entrance_pk: int) -> list[str]:
    return [f"cases:report:ip:{_client_ip(request)}", f"cases:report:entrance:{entrance_pk}"]


def _rate_exceeded(keys: list[str]) -> bool:
    return any(int(cache.get(k) or 0) >= REPORT_LIMIT for k in keys)


def _rate_count(keys: list[str]) -> None:
    for k in keys:
        if cache.add(k, 1, REPORT_WINDOW):
            continue
        try:
            cache.incr(k)
        except ValueError:  # expired between add and incr
            cache.set(k, 1, REPORT_WINDOW)


def _labels(case: Case) -> Case:
    case.state_label = lc.STATE_LABELS[lc.State(case.state)]
    case.tier_label = lc.TIER_LABELS[lc.Tier(case.tier)]
    case.urgency = selectors.urgency(case)
    return case


# --- Resident pages (no account: the home code and the tracking token are the permission) ---

@require_http_methods(["GET", "POST"])
@page_errors
def report(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's report form for one entrance; a success leads to the tracking page."""
    entrance = entrance_by_home_code(token)
    compound = entrance.building.compound
    error = ""
    status = 200
    if request.method == "POST":
        form = forms.ReportForm(request.POST, request.FILES)
        keys = _rate_keys(request, entrance.pk)
        if form.is_valid():
            d = form.cleaned_data
            key = f"home_code:{d['idempotency_key']}"  # apart from other channels' keys
            if _rate_exceeded(keys):
                # A retry of a report already filed is answered; a new one waits.
                existing = Case.objects.filter(idempotency_key=key).first()
                if existing is not None:
                    return redirect("cases:track", token=existing.tracking_token)
                error = (f"提交过于频繁：同一网络或同一楼组 {REPORT_WINDOW // 60} 分钟内最多反映 "
                         f"{REPORT_LIMIT} 次，请稍后再试。紧急情况请拨打 110 或 12345。")
                status = 429
            else:
                try:
                    case, created = report_from_home_code(
                        entrance=entrance, description=d["description"],
                        category_code=d["category"] or None, lng=d["lng"], lat=d["lat"],
                        reporter_name=d["reporter_name"], reporter_phone=d["reporter_phone"],
                        idempotency_key=key, photos=d["photos"],
                        exact_position_public=d["exact_position_public"])
                except DomainError as exc:
                    error, status = exc.message, 400
                else:
                    if created:
                        _rate_count(keys)
                    return redirect(reverse("cases:track", args=[case.tracking_token])
                                    + "?new=1")
        else:
            status = 400
    else:
        form = forms.ReportForm(initial={"idempotency_key": secrets.token_urlsafe(24)})
    return render(request, "cases/report.html", {
        "form": form, "error": error, "entrance": entrance, "building": entrance.building,
        "compound": compound, "token": token,
        "groups": selectors.active_categories_by_major(),
        "chosen": form["category"].value() or "",
    }, status=status)


def _tracking_context(request: HttpRequest, token: str) -> dict[str, Any]:
    own = selectors.case_by_tracking_token(token)
    case = selectors.surviving_case(own)
    _labels(case)
    return {
        "token": token, "own": own, "case": case, "merged": own.pk != case.pk,
        "timeline": selectors.timeline(case, public=True),
        "can_rate": own.pk == case.pk and case.state == lc.State.CLOSED.value,
        "can_reopen": own.pk == case.pk and case.state in (lc.State.CLOSED.value,
                                                           lc.State.RATED.value),
        "is_open": case.state in selectors.OPEN_STATE_VALUES,
        "rating_label": selectors.RATING_LABELS.get(case.rating, ""),
        "new": request.GET.get("new") == "1",
        "tracking_url": request.build_absolute_uri(reverse("cases:track", args=[token])),
        "note_form": forms.NoteForm(), "rate_form": forms.RateForm(),
        "reopen_form": forms.ReopenForm(),
    }


@require_GET
@page_errors
def track(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's tracking page: state, deadline, public timeline, and their actions."""
    return render(request, "cases/track.html", _tracking_context(request, token))


@require_POST
@page_errors
def track_action(request: HttpRequest, token: str, what: str) -> HttpResponse:
    """The reporter adds a note/photos, rates, or reopens; errors re-render with the input."""
    ctx = _tracking_context(request, token)
    try:
        if what == "note":
            form: Any = forms.NoteForm(request.POST, request.FILES)
            ctx["note_form"] = form
            if form.is_valid():
                add_reporter_note(token=token, text=form.cleaned_data["note"],
                                  photos=form.cleaned_data["photos"])
                messages.success(request, "补充说明已提交")
                return redirect("cases:track", token=token)
        elif what == "rate":
            form = forms.RateForm(request.POST)
            ctx["rate_form"] = form
            if form.is_valid():
                act_as_reporter(token=token, kind="rate", rating=form.cleaned_data["rating"],
                                reason=form.cleaned_data["reason"])
                messages.success(request, "感谢您的评价")
                return redirect("cases:track", token=token)
        elif what == "reopen":
            form = forms.ReopenForm(request.POST)
            ctx["reopen_form"] = form
            if form.is_valid():
                act_as_reporter(token=token, kind="reopen", reason=form.cleaned_data["reason"])
                messages.success(request, "已为您重新办理，我们会尽快处理")
                return redirect("cases:track", token=token)
        else:
            raise ValidationFailed("未知操作")
    except DomainError as exc:
        ctx["error"] = exc.message
    ctx["failed"] = what
    return render(request, "cases/track.html", ctx, status=400)


def _attachment_response(att: CaseAttachment) -> FileResponse:
    resp = FileResponse(att.file.open("rb"), content_type=att.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


@require_GET
@page_errors
def track_photo(request: HttpRequest, token: str, pk: int) -> HttpResponse:
    own = selectors.case_by_tracking_token(token)
    case = selectors.surviving_case(own)
    att = CaseAttachment.objects.filter(pk=pk, case__in=[own, case]).first()
    if att is None:
        from django.http import Http404

        raise Http404("照片不存在")
    return _attachment_response(att)


# --- Staff workbench ----------------------------------------------------------------------

def _require_staff(user: Any) -> None:
    if not (user.is_superuser or user.role in STAFF_ROLES):
        raise Forbidden("只有工作人员可以使用工单工作台")


def _list_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    scope = scope_for(user)
    unit = unit_of(user)
    name = request.GET.get("queue") or selectors.default_queue(user.role)
    if name not in selectors.QUEUES:
        name = "all"
    fform = forms.FilterForm(request.GET or None)
    qs = selectors.filter_cases(selectors.queue(scope, name, unit=unit), fform.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for c in page.object_list:
        _labels(c)
    query = request.GET.copy()
    query.pop("page", None)
    qs_no_queue = request.GET.copy()
    qs_no_queue.pop("queue", None)
    qs_no_queue.pop("page", None)
    return {
        "queue": name, "queues": [(q, QUEUE_LABELS[q]) for q in selectors.QUEUES],
        "page": page, "filter_form": fform, "query": query.urlencode(),
        "query_no_queue": qs_no_queue.urlencode(),
        "is_dispatcher": user.is_superuser or user.role in ("duty_officer",
                                                              "neighbourhood_staff", "admin"),
        "is_duty": user.is_superuser or user.role in ("duty_officer", "admin"),
        "units": _scope_units(user),
    }


QUEUE_LABELS = {"mine": "本单位待办", "intake": "待受理/派遣", "returned": "退单",
                "overdue": "超期/预警", "supervised": "督办", "all": "全部"}


def _scope_units(user: Any) -> list[tuple[str, str]]:
    """Units for the bulk dispatch menu: those serving the user's first granted area."""
    grant = user.area_grants.order_by("path").first() if hasattr(user, "area_grants") else None
    probe = Case(path=grant.path if grant else "")
    if grant is not None and grant.region_type == "neighbourhood":
        from jiayuan.registry.models import Neighbourhood

        n = Neighbourhood.objects.filter(code=grant.region_code).first()
        if n:
            probe.neighbourhood_id, probe.subdistrict_id = n.pk, n.subdistrict_id
    elif grant is not None and grant.region_type == "subdistrict":
        from jiayuan.registry.models import Subdistrict

        s = Subdistrict.objects.filter(code=grant.region_code).first()
        if s:
            probe.subdistrict_id = s.pk
    return selectors.unit_choices(probe)


@require_GET
@login_required
@page_errors
def case_list(request: HttpRequest) -> HttpResponse:
    """The queues with filters; an htmx request gets the list fragment only."""
    _require_staff(request.user)
    ctx = _list_context(request)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "case-list":
        return render(request, "cases/_list.html", ctx)
    ctx["channels"] = Channel.choices
    return render(request, "cases/list.html", ctx)


@require_POST
@login_required
@page_errors
def bulk(request: HttpRequest) -> HttpResponse:
    """Accept, dispatch or supervise the ticked cases one by one; report each refusal."""
    _require_staff(request.user)
    action = request.POST.get("action", "")
    numbers = request.POST.getlist("numbers")
    done, failed = 0, []
    if action not in forms.BULK_ACTIONS:
        failed.append(("", "未知的批量操作"))
    elif not numbers:
        failed.append(("", "请先勾选工单"))
    else:
        scope = scope_for(request.user)
        for number in numbers[:PAGE_SIZE]:
            try:
                case = selectors.get_case(scope, number)
                act(case=case, user=request.user, kind=action,
                    lead_unit=request.POST.get("lead_unit") or None,
                    reason=request.POST.get("reason", ""))
                done += 1
            except DomainError as exc:
                failed.append((number, exc.message))
    ctx = _list_context(request)
    ctx.update({"bulk_done": done, "bulk_failed": failed,
                "bulk_label": forms.BULK_ACTIONS.get(action, action)})
    return render(request, "cases/_list.html", ctx)


PHOTO_ACTIONS = frozenset({"handle", "verify_ok", "verify_failed"})


def _action_spec(kind: lc.ActionKind) -> dict[str, Any]:
    """What the form of one action shows (the lifecycle table says which fields it needs)."""
    required = lc.RULES[kind].required
    return {
        "kind": kind.value, "label": lc.ACTION_LABELS[kind],
        "reason_required": lc.Field.REASON in required,
        "units": lc.Field.LEAD_UNIT in required, "extension": lc.Field.EXTENSION in required,
        "merge": lc.Field.INTO_CASE in required, "rating": lc.Field.RATING in required,
        "photos": kind.value in PHOTO_ACTIONS,
    }


def _detail_context(request: HttpRequest, number: str) -> dict[str, Any]:
    scope = scope_for(request.user)
    case = _labels(selectors.get_case(scope, number))
    units = selectors.unit_choices(case)
    allowed = selectors.actions_for(request.user, case)
    shape = None
    if case.compound is not None and case.compound.boundary:
        shape = case.compound.boundary
    return {
        "case": case, "actions": [_action_spec(k) for k in allowed],
        "units": units, "unit_names": dict(units),
        "timeline": selectors.timeline(case, public=False),
        "photos": list(case.attachments.all()),
        "templates": list(selectors.response_templates(case)),
        "masked_name": mask_name(case.reporter_name),
        "masked_phone": mask_phone(case.reporter_phone),
        "masked_email": mask_email(selectors.reporter_email(case)),
        "map_data": {"point": [case.lng, case.lat] if case.lng is not None else None,
                     "boundary": shape, "urgency": case.urgency},
        "form": None, "failed": "", "error": "",
        "merged_cases": list(case.merged_cases.values_list("number", flat=True)),
        "lead_name": dict(units).get(case.lead_unit, case.lead_unit),
        "assisting_names": [dict(units).get(u, u) for u in case.assisting_units],
        **_topic_context(request.user, case),
    }


# --- raising a council topic from a case (the council app, when installed) ------------------

def _topic_councils(user: Any, case: Case) -> list[Any]:
    from django.apps import apps

    if not apps.is_installed("jiayuan.council"):
        return []
    from jiayuan.council.selectors import councils_for_case

    return councils_for_case(user, case)


def _topic_context(user: Any, case: Case, **values: str) -> dict[str, Any]:
    councils = _topic_councils(user, case)
    if not councils:
        return {"topic_councils": [], "case_topics": []}
    from jiayuan.council.models import Topic

    summary = " ".join(case.description.split())
    title = _("From case %(number)s: %(summary)s") % {"number": case.number,
                                                      "summary": summary}
    return {
        "topic_councils": councils,
        "case_topics": list(Topic.objects.filter(source_case=case).select_related("council")),
        "topic_title": values.get("title", title[:120]),
        "topic_body": values.get("body", case.description[:4000]),
        "topic_council": values.get("council", str(councils[0].pk)),
    }


@require_POST
@login_required
@page_errors
def raise_topic(request: HttpRequest, number: str) -> HttpResponse:
    """Put the case before a council of its area as a topic (``council.services.topics.
    raise_topic`` with the case as its source; once per case and council). A refused title
    re-renders the case page with the message; a user who may not take part gets 403."""
    _require_staff(request.user)
    case = selectors.get_case(scope_for(request.user), number)
    title, body = request.POST.get("title", ""), request.POST.get("body", "")
    chosen = request.POST.get("council", "")
    councils = {str(c.pk): c for c in _topic_councils(request.user, case)}
    if chosen not in councils:
        raise Forbidden("您不能在该理事会提出议题")
    from jiayuan.council.services.topics import raise_case_topic

    try:
        topic, created = raise_case_topic(councils[chosen], case, title=title, body=body,
                                          actor=request.user)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        ctx = _detail_context(request, number)
        ctx.update(_topic_context(request.user, case, title=title, body=body, council=chosen))
        ctx["topic_error"] = exc.message
        return render(request, "cases/detail.html", ctx, status=exc.status)
    if created:
        messages.success(request, _("Topic raised in the council."))
    else:
        messages.info(request, _("This case is already a topic of that council."))
    return redirect("council:topic", pk=topic.pk)


@require_GET
@login_required
@page_errors
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    _require_staff(request.user)
    return render(request, "cases/detail.html", _detail_context(request, number))


@require_POST
@login_required
@page_errors
def case_action(request: HttpRequest, number: str) -> HttpResponse:
    """Take one action through ``cases.services.act``; a refusal keeps the form's input."""
    _require_staff(request.user)
    ctx = _detail_context(request, number)
    case = ctx["case"]
    form = forms.ActionForm(request.POST, request.FILES, units=ctx["units"])
    error = ""
    if form.is_valid():
        d = form.cleaned_data
        kind = d["kind"]
        extension = None
        into = None
        try:
            if kind == "request_extension" and d["extension_amount"]:
                extension = TimeLimit(d["extension_amount"], TimeUnit(d["extension_unit"]))
            if kind == "merge" and d["into_case"].strip():
                into = selectors.get_case(scope_for(request.user), d["into_case"].strip())
            act_with_photos(case=case, user=request.user, kind=kind, photos=d["photos"],
                            reason=d["reason"], lead_unit=d["lead_unit"] or None,
                            assisting_units=tuple(d["assisting_units"]),
                            rating=d["rating"] or None, into_case=into, extension=extension)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已{lc.ACTION_LABELS[lc.ActionKind(kind)]}")
            return redirect("cases:detail", number=case.number)
    else:
        error = "；".join(str(e) for errs in form.errors.values() for e in errs)
    ctx.update({"form": form, "failed": request.POST.get("kind", ""), "error": error})
    return render(request, "cases/detail.html", ctx, status=400)


@require_POST
@login_required
@page_errors
def reveal_reporter(request: HttpRequest, number: str) -> HttpResponse:
    """Show the reporter's name, phone and e-mail unmasked, and log who looked (PIPL)."""
    _require_staff(request.user)
    case = selectors.get_case(scope_for(request.user), number)
    email = selectors.reporter_email(case)
    log_personal_data_access(user=request.user, object_type="case", object_id=case.number,
                             fields=["reporter_name", "reporter_phone"]
                             + (["reporter_email"] if email else []),
                             purpose="case handling", ip_address=_client_ip(request))
    return render(request, "cases/_reporter.html", {
        "case": case, "revealed": True, "name": case.reporter_name,
        "phone": case.reporter_phone, "email": email})


@require_GET
@login_required
@page_errors
def case_photo(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    _require_staff(request.user)
    case = selectors.get_case(scope_for(request.user), number)
    att = CaseAttachment.objects.filter(pk=pk, case=case).first()
    if att is None:
        from django.http import Http404

        raise Http404("照片不存在")
    return _attachment_response(att)


@require_GET
@login_required
@page_errors
def live_map(request: HttpRequest) -> HttpResponse:
    _require_staff(request.user)
    return render(request, "cases/map.html", {
        "case_url": reverse("cases:detail", args=["__number__"]),
    })


@require_GET
@login_required
@page_errors
def map_geojson(request: HttpRequest) -> JsonResponse:
    """Open cases in the viewer's scope (GeoJSON, WGS-84), for the live map's 30 s refresh."""
    _require_staff(request.user)
    data = selectors.map_features(scope_for(request.user))
    data["generated_at"] = timezone.now().isoformat()
    resp = JsonResponse(data)
    resp["Cache-Control"] = "no-store"
    return resp


@require_GET
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's in-app notifications, newest first."""
    return render(request, "cases/notifications.html", {
        "items": selectors.notifications_for(request.user)})
