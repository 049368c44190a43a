"""The operations screen (运行管理中心 一屏观) and the device-health page of an area.

Read-only views over the sensors models (and the case loop's open cases), always limited to
the viewer's area; ``?area=<code>`` narrows to a subdistrict, neighbourhood or compound
inside it. The screen refreshes without reloading: htmx polls ``ops/vitals/`` (the vital
signs, alarm counts by kind and device health) every few seconds, and the map script polls
``ops/map.geojson``. ``ops/vitals.json`` gives the same numbers to machines.

Device health, one status per active device, worst first:
``silent`` (the health job's flag, or nothing heard for more than twice the kind's default
interval: computed here too, so the screen does not wait for the next sweep), ``faulty``
(a metric reading impossible values), ``never_heard`` (installed, no reading yet: not
silent, it has no baseline), ``ok``. Counting is done in the database, grouped by kind and
place path, and rolled up to neighbourhoods here, so it stays one query at city scale.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from jiayuan.accounts.scope import AreaScope, ancestors_of, scope_for
from jiayuan.cases.calendar import missing_schedule_year
from jiayuan.core.errors import Forbidden, NotFound
from jiayuan.sensors.health import SILENCE_FACTOR
from jiayuan.sensors.models import CAMERA_KIND, Alarm, AlarmState, Device, MaintenanceOrder
from jiayuan.web.errors import page_errors

OPS_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "district_analyst", "admin"})
STATUSES = ("silent", "faulty", "never_heard", "ok")
STATUS_LABELS = {"silent": "离线", "faulty": "读数异常", "never_heard": "从未上报", "ok": "正常"}
OPEN_ALARM_STATES = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)
MAP_DEVICE_CAP = 3000
MAP_ALARM_CAP = 1000
REFRESH_SECONDS = 5
PAGE_SIZE = 50


# --- access and area ---------------------------------------------------------------------

def _require_ops(user: Any) -> None:
    if not (getattr(user, "is_authenticated", False)
            and (user.is_superuser or user.role in OPS_ROLES)):
        raise Forbidden("您的角色无权查看运行管理中心大屏")


def _area(request: HttpRequest) -> tuple[AreaScope, str]:
    """The viewer's scope, narrowed by ``?area=<code>`` (refused outside the scope)."""
    from jiayuan.registry.models import Compound, Neighbourhood, Subdistrict

    scope = scope_for(request.user)
    code = request.GET.get("area", "").strip()
    if not code:
        return scope, ""
    for model in (Subdistrict, Neighbourhood, Compound):
        place = model.objects.filter(code=code).only("path", "name").first()
        if place is not None:
            scope.require(place.path)
            return AreaScope.of(place.path), place.name
    raise NotFound("找不到该区域", details={"area": code})


def _area_choices(scope: AreaScope) -> list[tuple[str, str]]:
    from jiayuan.registry.models import Neighbourhood, Subdistrict

    out = [(s.code, s.name) for s in scope.filter(Subdistrict.objects.order_by("code"))]
    out += [(n.code, n.name) for n in scope.filter(Neighbourhood.objects.order_by("code"))[:500]]
    return out


# --- kinds and health --------------------------------------------------------------------

def kind_labels() -> dict[str, str]:
    from jiayuan.sensors.rules.catalogue import load_device_kinds

    labels = {code: k.label for code, k in load_device_kinds().items()}
    labels[CAMERA_KIND] = "视频监控通道"
    return labels


def silent_q(now: dt.datetime) -> Q:
    """Devices counted silent: the sweep's flag, or (devices on their kind's default
    interval) nothing heard for more than twice that interval."""
    from jiayuan.sensors.rules.catalogue import load_device_kinds

    q = Q(silent=True)
    for code, kind in load_device_kinds().items():
        limit = now - dt.timedelta(seconds=SILENCE_FACTOR * kind.expected_interval_s)
        q |= Q(kind=code, expected_interval_s__isnull=True, last_heard_at__lt=limit)
    return q


def status_qs(now: dt.datetime) -> dict[str, Q]:
    """One Q per health status; they partition the active devices (worst status wins)."""
    silent = silent_q(now)
    faulty = ~silent & ~Q(faults=[])
    never = ~silent & Q(faults=[]) & Q(last_heard_at__isnull=True)
    ok = ~silent & Q(faults=[]) & Q(last_heard_at__isnull=False)
    return {"silent": silent, "faulty": faulty, "never_heard": never, "ok": ok}


def status_of(d: Device, now: dt.datetime, intervals: dict[str, float]) -> str:
    """The status of one device (the same rules as :func:`status_qs`, for listed rows)."""
    if d.silent or (d.expected_interval_s is None and d.last_heard_at is not None
                    and d.kind in intervals
                    and (now - d.last_heard_at).total_seconds()
                    > SILENCE_FACTOR * intervals[d.kind]):
        return "silent"
    if d.faults:
        return "faulty"
    if d.last_heard_at is None:
        return "never_heard"
    return "ok"


def devices(scope: AreaScope) -> QuerySet[Device]:
    return scope.filter(Device.objects.filter(active=True))


def _empty() -> dict[str, int]:
    return {s: 0 for s in (*STATUSES, "total")}


def _neighbourhood_index(scope: AreaScope) -> dict[str, tuple[str, str]]:
    """Neighbourhood path → (code, name), for the neighbourhoods the scope touches."""
    from jiayuan.registry.models import Neighbourhood

    qs = Neighbourhood.objects.all()
    if not scope.everywhere:
        qs = qs.filter(scope.q_related())
    return {n.path: (n.code, n.name) for n in qs.only("path", "code", "name")}


def _neighbourhood_of(path: str, index: dict[str, tuple[str, str]]) -> tuple[str, str]:
    for p in (*ancestors_of(path), path):
        if p in index:
            return index[p]
    return ("", "—")


def status_case(now: dt.datetime) -> Case:
    """The status of each device as one SQL CASE (the rules of :func:`status_qs`)."""
    return Case(
        When(silent_q(now), then=Value("silent")),
        When(~Q(faults=[]), then=Value("faulty")),
        When(last_heard_at__isnull=True, then=Value("never_heard")),
        default=Value("ok"), output_field=CharField())


def status_totals(scope: AreaScope, now: dt.datetime) -> dict[str, int]:
    """Devices per status in the area (one small grouped query)."""
    out = _empty()
    for row in devices(scope).annotate(st=status_case(now)).values("st").annotate(
            n=Count("pk")).order_by():
        out[row["st"]] += row["n"]
        out["total"] += row["n"]
    return out


def health_counts(scope: AreaScope, now: dt.datetime) -> dict[str, Any]:
    """Counts of healthy / silent / faulty / never-heard devices, in total, per kind and per
    neighbourhood; one grouped query over (kind, place path, status)."""
    qs = devices(scope).annotate(st=status_case(now)).values("kind", "path", "st").annotate(
        n=Count("pk")).order_by()
    labels = kind_labels()
    index = _neighbourhood_index(scope)
    total = _empty()
    by_kind: dict[str, dict[str, int]] = defaultdict(_empty)
    by_nb: dict[tuple[str, str], dict[str, int]] = defaultdict(_empty)
    nb_of: dict[str, tuple[str, str]] = {}
    for row in qs:
        path, st, n = row["path"], row["st"], row["n"]
        nb = nb_of.get(path)
        if nb is None:
            nb = nb_of[path] = _neighbourhood_of(path, index)
        for bucket in (total, by_kind[row["kind"]], by_nb[nb]):
            bucket[st] += n
            bucket["total"] += n
    kinds = [{"kind": k, "label": labels.get(k, k), **v}
             for k, v in sorted(by_kind.items(), key=lambda kv: labels.get(kv[0], kv[0]))]
    nbs = [{"code": code, "name": name, **v} for (code, name), v in sorted(by_nb.items())]
    return {"total": total, "by_kind": kinds, "by_neighbourhood": nbs}


# --- vital signs -------------------------------------------------------------------------

def open_alarms(scope: AreaScope) -> QuerySet[Alarm]:
    return scope.filter(Alarm.objects.filter(state__in=OPEN_ALARM_STATES))


def vital_signs(scope: AreaScope, now: dt.datetime) -> dict[str, Any]:
    """The area's vital signs (生命体征): open and overdue cases, active alarms (and how many
    nobody acknowledged), silent and faulty devices, open maintenance orders; active alarms
    by device kind; device health in total."""
    from jiayuan.cases.models import Case
    from jiayuan.cases.selectors import OPEN_STATE_VALUES

    cases = scope.filter(Case.objects.filter(state__in=OPEN_STATE_VALUES))
    alarms = open_alarms(scope)
    alarm_counts = alarms.aggregate(
        active=Count("pk"), unacknowledged=Count("pk", filter=Q(state=AlarmState.ACTIVE)))
    health = status_totals(scope, now)
    labels = kind_labels()
    by_kind = [{"kind": r["device__kind"], "label": labels.get(r["device__kind"],
                                                               r["device__kind"]),
                "count": r["n"]}
               for r in alarms.values("device__kind").annotate(n=Count("pk")).order_by("-n")]
    return {
        "generated_at": now.isoformat(),
        "open_cases": cases.count(),
        "overdue_cases": cases.filter(due_at__lt=now).count(),
        "active_alarms": alarm_counts["active"],
        "unacknowledged_alarms": alarm_counts["unacknowledged"],
        "silent_devices": health["silent"],
        "faulty_devices": health["faulty"],
        "devices": health["total"],
        "open_maintenance_orders": scope.filter(
            MaintenanceOrder.objects.filter(state=MaintenanceOrder.State.OPEN)).count(),
        "alarms_by_kind": by_kind,
        "health": health,
    }


# --- map ---------------------------------------------------------------------------------

def _point(d: Device) -> tuple[float, float] | None:
    for place in (d, d.entrance, d.building, d.compound):
        if place is not None and place.lng is not None and place.lat is not None:
            return (place.lng, place.lat)
    return None


def map_features(scope: AreaScope, now: dt.datetime) -> dict[str, Any]:
    """GeoJSON (WGS-84) of the area's open alarms and its devices: every unhealthy device
    and as many healthy ones as fit under the cap (the counts say how many were left out)."""
    labels = kind_labels()
    features: list[dict[str, Any]] = []
    alarms = open_alarms(scope).select_related(
        "device", "device__entrance", "device__building", "device__compound",
        "case").order_by(
        "-raised_at")[:MAP_ALARM_CAP]
    alarm_devices: set[int] = set()
    for a in alarms:
        pt = _point(a.device)
        alarm_devices.add(a.device_id)
        if pt is None:
            continue
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": pt},
                         "properties": {
                             "layer": "alarm", "id": a.pk, "device": a.device.code,
                             "kind": labels.get(a.device.kind, a.device.kind),
                             "title": a.title, "severity": a.severity, "state": a.state,
                             "raised_at": a.raised_at.isoformat(),
                             "case": a.case.number if a.case is not None else ""}})
    base = devices(scope)
    # One query of plain rows (no model instances: the map may show thousands): unhealthy
    # devices first, then healthy ones, up to the cap.
    rows = base.annotate(st=status_case(now)).annotate(
        healthy=Case(When(st="ok", then=Value(1)), default=Value(0))).order_by(
        "healthy", "pk").values_list(
        "pk", "code", "kind", "st", "last_heard_at", "lng", "lat", "entrance__lng",
        "entrance__lat", "building__lng", "building__lat", "compound__lng",
        "compound__lat")[:MAP_DEVICE_CAP]
    shown = 0
    for pk, code, kind, st, heard, *coords in rows:
        shown += 1
        pt = next(((x, y) for x, y in zip(coords[::2], coords[1::2], strict=True)
                   if x is not None and y is not None), None)
        if pt is None:
            continue
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": pt},
                         "properties": {
                             "layer": "device", "code": code, "kind": labels.get(kind, kind),
                             "status": st, "alarm": pk in alarm_devices,
                             "last_heard_at": heard.isoformat() if heard else None}})
    total = base.count()
    return {"type": "FeatureCollection", "features": features,
            "devices_total": total, "devices_shown": shown,
            "generated_at": now.isoformat()}


# --- views -------------------------------------------------------------------------------

def _query(area: str) -> str:
    return f"?area={area}" if area else ""


def _today() -> dt.date:
    return timezone.localdate()


@require_GET
@login_required
@page_errors
def ops_screen(request: HttpRequest) -> HttpResponse:
    _require_ops(request.user)
    scope, area_name = _area(request)
    now = timezone.now()
    area = request.GET.get("area", "").strip()
    q = _query(area)
    return render(request, "sensors/ops.html", {
        "calendar_missing": missing_schedule_year(_today()),
        "vitals": vital_signs(scope, now), "area": area, "area_name": area_name,
        "areas": _area_choices(scope_for(request.user)),
        "recent_alarms": _recent_alarms(scope),
        "refresh": REFRESH_SECONDS, "status_labels": STATUS_LABELS,
        "vitals_url": reverse("sensors_ops:vitals") + q,
        "geojson_url": reverse("sensors_ops:geojson") + q,
        "health_url": reverse("sensors_ops:health") + q,
    })


def _recent_alarms(scope: AreaScope) -> list[dict[str, Any]]:
    labels = kind_labels()
    out = []
    for a in open_alarms(scope).select_related("device", "case").order_by("-raised_at")[:10]:
        out.append({"title": a.title, "kind": labels.get(a.device.kind, a.device.kind),
                    "device": a.device.code, "severity": a.severity, "state": a.state,
                    "raised_at": a.raised_at, "case": a.case.number if a.case else ""})
    return out


@require_GET
@login_required
@page_errors
def ops_vitals(request: HttpRequest) -> HttpResponse:
    """The refreshed part of the screen (htmx partial)."""
    _require_ops(request.user)
    scope, _ = _area(request)
    resp = render(request, "sensors/ops_vitals.html", {
        "vitals": vital_signs(scope, timezone.now()), "recent_alarms": _recent_alarms(scope),
        "status_labels": STATUS_LABELS})
    resp["Cache-Control"] = "no-store"
    return resp


@require_GET
@login_required
@page_errors
def ops_vitals_json(request: HttpRequest) -> JsonResponse:
    _require_ops(request.user)
    scope, _ = _area(request)
    resp = JsonResponse(vital_signs(scope, timezone.now()))
    resp["Cache-Control"] = "no-store"
    return resp


@require_GET
@login_required
@page_errors
def ops_geojson(request: HttpRequest) -> JsonResponse:
    _require_ops(request.user)
    scope, _ = _area(request)
    resp = JsonResponse(map_features(scope, timezone.now()))
    resp["Cache-Control"] = "no-store"
    return resp


def _unhealthy_rows(items: Iterable[Device], now: dt.datetime) -> list[dict[str, Any]]:
    from jiayuan.sensors.rules.catalogue import load_device_kinds

    intervals = {c: k.expected_interval_s for c, k in load_device_kinds().items()}
    labels = kind_labels()
    rows = []
    for d in items:
        status = status_of(d, now, intervals)
        rows.append({"code": d.code, "name": d.name, "kind": labels.get(d.kind, d.kind),
                     "status": status, "status_label": STATUS_LABELS[status],
                     "last_heard_at": d.last_heard_at, "faults": d.faults,
                     "owner": d.owner_unit, "address": d.address,
                     "silent_hours": round((now - d.last_heard_at).total_seconds() / 3600, 1)
                     if d.last_heard_at else None})
    return rows


@require_GET
@login_required
@page_errors
def device_health(request: HttpRequest) -> HttpResponse:
    """One network of devices: counts per kind and per neighbourhood, and the unhealthy
    devices (filter by ``status`` and ``kind``), longest silent first."""
    _require_ops(request.user)
    scope, area_name = _area(request)
    now = timezone.now()
    counts = health_counts(scope, now)
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    qs = devices(scope)
    qs = qs.filter(status_qs(now)[status]) if status in STATUSES else qs.filter(
        ~status_qs(now)["ok"])
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.order_by("last_heard_at", "code")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    area = request.GET.get("area", "").strip()
    return render(request, "sensors/ops_health.html", {
        "counts": counts, "rows": _unhealthy_rows(page.object_list, now), "page": page,
        "status": status, "kind": kind, "area": area, "area_name": area_name,
        "areas": _area_choices(scope_for(request.user)), "status_labels": STATUS_LABELS,
        "statuses": STATUSES, "kinds": sorted(kind_labels().items(), key=lambda kv: kv[1]),
        "ops_url": reverse("sensors_ops:screen") + _query(area),
    })
