"""The working-calendar page: which years have a schedule, one year's days, and the upload
of a State Council notice or the district's local days (district duty officers and
administrators; see ``services.calendar.can_manage_calendar``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.cases.calendar import loaded_years, platform_calendar
from jiayuan.cases.services.calendar import can_manage_calendar, import_calendar
from jiayuan.core.errors import DomainError, Forbidden, ImportRejected
from jiayuan.web.errors import page_errors

VIEW_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "department_staff", "liaison",
                        "district_analyst", "admin"})
MAX_UPLOAD = 1024 * 1024  # a year's notice is a few dozen rows


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year + 1
    return year if 1900 < year < 10000 else timezone.localdate().year + 1


@login_required
@page_errors
def calendar_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    manager = can_manage_calendar(user)
    if not (manager or user.is_superuser or user.role in VIEW_ROLES):
        raise Forbidden(_("Your role may not see the working calendar."))
    ctx: dict[str, Any] = {"manager": manager, "problems": [], "error": ""}
    status = 200
    if request.method == "POST":
        if not manager:
            raise Forbidden(_("Only the district's duty officers and administrators may load "
                              "the working calendar."))
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ImportRejected([], message=_("Choose a .csv or .xlsx file."))
            if upload.size is not None and upload.size > MAX_UPLOAD:
                raise ImportRejected([], message=_("The file is larger than 1 MB."))
            result = import_calendar(file_name=upload.name or "calendar.csv",
                                     data=upload.read(), by=user)
        except DomainError as exc:
            ctx["error"] = exc.message
            ctx["problems"] = getattr(exc, "problems", [])
            status = exc.status
        else:
            years = sorted({y for y, _source in result.changes})
            messages.success(request, _("Calendar loaded: %(n)d days.") % {"n": result.days})
            target = years[0] if years else _year(request)
            return redirect(f"{reverse('cases:calendar')}?year={target}")
    year = _year(request)
    calendar = platform_calendar()
    try:
        days = calendar.differing_days(year)
    except DomainError as exc:
        days, ctx["error"] = [], ctx["error"] or exc.message
    ctx.update(year=year, days=days, years=loaded_years(),
               schedule_known=calendar.schedule_known(year))
    return render(request, "cases/calendar.html", ctx, status=status)
