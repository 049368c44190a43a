"""Cases (工单) and their append-only history.

A case's state and counters mirror ``cases.lifecycle.CaseSnapshot``; only
``cases.services`` writes them, through ``lifecycle.apply``. Each case carries the ``path`` of
the most specific place it was located in (compound, else neighbourhood, else subdistrict),
so area scope works as for the registry (ADR 0002).

Units (who handles a case) are referred to by a *unit ref*: ``department:<code>``,
``station:<code>`` (a joint station) or ``centre:<code>`` (an operations centre).
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiayuan.cases.lifecycle import Rating, State, Tier
from jiayuan.registry.models import path_index


class Channel(models.TextChoices):
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")
    GRID_PATROL = "grid_patrol", _("grid patrol")
    HOME_CODE = "home_code", _("home code (resident)")
    DEPUTY = "deputy", _("deputy")
    SENSOR = "sensor", _("sensor")
    VIDEO_AI = "video_ai", _("video analytics")
    COUNCIL = "council", _("council")
    OPEN311 = "open311", _("Open311")
    IMPORT = "import", _("import")


class Category(models.Model):
    """A component/event class of the urban-management dictionary, or a hotline request type."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("component (部件)")
        EVENT = "event", _("event (事件)")
        REQUEST = "request", _("hotline request type")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    major_code = models.CharField(_("major class code"), max_length=10, blank=True)
    major_name = models.CharField(_("major class"), max_length=60, blank=True)
    default_tier = models.CharField(
        _("default tier"), max_length=20, choices=[(t.value, t.value) for t in Tier],
        default=Tier.NEIGHBOURHOOD.value,
    )
    time_limit_amount = models.PositiveIntegerField(_("time limit"), null=True, blank=True)
    time_limit_unit = models.CharField(_("time limit unit"), max_length=16, blank=True)
    default_department_kind = models.CharField(
        _("default department kind"), max_length=24, blank=True
    )
    closing_conditions = models.TextField(_("closing conditions"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Listed on the public Open311 interface (services and requests); the sensors' alarm
    # classes are not (an alarm may sit in a resident's flat).
    public = models.BooleanField(_("public"), default=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    # Routing keeps the catalogue per process while this table's count and newest update
    # stay the same (routing.catalogue_version): a queryset update() must set it too.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)


STATE_CHOICES = [(s.value, s.value) for s in State]
TIER_CHOICES = [(t.value, t.value) for t in Tier]
RATING_CHOICES = [(r.value, r.value) for r in Rating]


GEO_CELL_DEG = 0.01  # about 1.1 km of latitude, 0.95 km of longitude in Shanghai


def geo_cell_of(lng: float | None, lat: float | None) -> int | None:
    """The number of the ``GEO_CELL_DEG`` square holding a WGS-84 point (None without one)."""
    if lng is None or lat is None:
        return None
    return math.floor(lat / GEO_CELL_DEG) * 100_000 + math.floor(lng / GEO_CELL_DEG)


def geo_cells_of_box(lng_lo: float, lng_hi: float, lat_lo: float, lat_hi: float) -> list[int]:
    """Every square that meets the box (a 1 km box in Shanghai meets 4 to 9)."""
    lngs = range(math.floor(lng_lo / GEO_CELL_DEG), math.floor(lng_hi / GEO_CELL_DEG) + 1)
    lats = range(math.floor(lat_lo / GEO_CELL_DEG), math.floor(lat_hi / GEO_CELL_DEG) + 1)
    return [y * 100_000 + x for y in lats for x in lngs]


class Case(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    description = models.TextField(_("description"))
    state = models.CharField(_("state"), max_length=12, choices=STATE_CHOICES,
                             default=State.REPORTED.value)
    tier = models.CharField(_("tier"), max_length=20, choices=TIER_CHOICES,
                            default=Tier.NEIGHBOURHOOD.value)

    # Where (WGS-84) and what contains it.
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    # The 0.01° square holding (lng, lat) (see ``geo_cell_of``): with ``reported_at`` it is the
    # index the duplicate search at intake reads, so it visits the squares around a new case,
    # not the whole district's month. Kept in step with lng/lat by ``save``.
    geo_cell = models.IntegerField(null=True, blank=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid_cell_code = models.CharField(max_length=40, blank=True)
    compound = models.ForeignKey("registry.Compound", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="cases")
    entrance = models.ForeignKey("registry.Entrance", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="cases")
    neighbourhood = models.ForeignKey("registry.Neighbourhood", on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="cases")
    subdistrict = models.ForeignKey("registry.Subdistrict", on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="cases")
    path = models.CharField(max_length=255, default="")

    # Who reported (personal data: masked in lists).
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="reported_cases")
    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=30, blank=True)
    # The resident agreed (on the home-code form) that the public interface may show the
    # exact position; without it the position is coarsened there (open311.policy).
    exact_position_public = models.BooleanField(_("exact position may be public"),
                                                default=False)
    tracking_token = models.CharField(max_length=43, unique=True, default=new_tracking_token,
                                      editable=False)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    # Idempotency: a key is unique per caller (``intake_caller``), never across callers, so a
    # caller replaying another's key (or a guessable one like ``sensors.alarm:42``) opens its
    # own case or is refused, and never gets the other case back. ``intake_caller`` is
    # ``user:<id>`` for a case opened through the staff API (session or API token) or the
    # video webhook, empty for the platform's own modules and the resident pages;
    # ``request_hash`` the SHA-256 of the request that opened it, so a replay of the key
    # with a different body is refused (409) instead of answered with this case.
    # (NULL, not "", is "no key": the per-caller unique constraint below skips it.)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    intake_caller = models.CharField(max_length=40, blank=True, default="", editable=False)
    request_hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    # Mirror of lifecycle.CaseSnapshot.
    lead_unit = models.CharField(_("lead unit"), max_length=60, blank=True)
    assisting_units = models.JSONField(default=list, blank=True)
    supervised = models.BooleanField(default=False)
    supervise_count = models.PositiveIntegerField(default=0)
    extension_pending_amount = models.PositiveIntegerField(null=True, blank=True)
    extension_pending_unit = models.CharField(max_length=16, blank=True)
    extension_count = models.PositiveIntegerField(default=0)
    return_count = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    rating = models.CharField(max_length=20, choices=RATING_CHOICES, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_cases")
    seq = models.PositiveIntegerField(default=0)

    # Time.
    reported_at = models.DateTimeField(db_index=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The first accept or reject, written once by the services (a reopen does not move it):
    # the response measure compares it with reported_at.
    first_response_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # After closure: a revisit (回头看) and FixMyStreet's "has it been fixed?" questionnaire.
    revisit_due_at = models.DateTimeField(null=True, blank=True)
    revisited_at = models.DateTimeField(null=True, blank=True)
    questionnaire_sent_at = models.DateTimeField(null=True, blank=True)
    # Routing: where the suggestion came from (model / keywords / triage / rule / manual).
    routing_source = models.CharField(max_length=12, blank=True)
    routing_confidence = models.FloatField(null=True, blank=True)
    # What raised the case in another module, e.g. ``sensors.alarm:42`` or ``council.topic:7``;
    # that module follows the case's outcome through ``cases.hooks``.
    source_ref = models.CharField(_("source"), max_length=64, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~models.Q(external_id=""),
                name="case_unique_external_id_per_channel",
            ),
            models.UniqueConstraint(
                fields=["intake_caller", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="case_unique_idempotency_key_per_caller",
            ),
        ]
        indexes = [
            path_index("case"),
            models.Index(fields=["state", "due_at"], name="case_state_due_idx"),
            models.Index(fields=["lead_unit", "state"], name="case_lead_state_idx"),
            # The measures roll-up finds the cases changed since its last refresh.
            models.Index(fields=["updated_at"], name="case_updated_idx"),
            models.Index(fields=["geo_cell", "reported_at"], name="case_geo_cell_idx"),
            # The duplicate search of a case with a category: squares, major class's
            # categories and time window, all in the index; on PostgreSQL it also carries
            # what the search filters on, so the candidates' ids come from the index alone.
            models.Index(fields=["geo_cell", "category", "reported_at"],
                         include=["id", "lat", "lng", "state", "closed_at"],
                         name="case_dup_cover_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.geo_cell = geo_cell_of(self.lng, self.lat)
        fields = kwargs.get("update_fields")
        if fields is not None and ("lng" in fields or "lat" in fields):
            kwargs["update_fields"] = [*fields, "geo_cell"]
        super().save(*args, **kwargs)


class CaseEventQuerySet(models.QuerySet["CaseEvent"]):
    """Events are read, inserted and (with their case, in the demo's rebuild) deleted, never
    updated: ``update`` and ``bulk_update`` refuse."""

    def update(self, **kwargs: Any) -> int:
        from jiayuan.cases.errors import HistoryIsAppendOnly

        raise HistoryIsAppendOnly()

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        from jiayuan.cases.errors import HistoryIsAppendOnly

        raise HistoryIsAppendOnly()

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        from jiayuan.cases.errors import HistoryIsAppendOnly

        raise HistoryIsAppendOnly()


class CaseEvent(models.Model):
    """One step of a case's history (who, when, from, to, why). Append-only: written by
    ``jiayuan.cases.events`` and never changed (``save`` inserts only; the manager refuses
    updates)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    actor_role = models.CharField(max_length=24)
    action = models.CharField(max_length=24)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "seq"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="caseevent_unique_seq")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert this new event; refuses (``HistoryIsAppendOnly``) to save one already
        stored, or to save with ``update_fields`` or ``force_update``."""
        from jiayuan.cases.errors import HistoryIsAppendOnly

        if args:
            raise TypeError("CaseEvent.save takes keyword arguments only")
        if not self._state.adding or kwargs.get("force_update") or \
                kwargs.get("update_fields") is not None:
            raise HistoryIsAppendOnly()
        kwargs["force_insert"] = True
        super().save(**kwargs)


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    return f"cases/{instance.case_id}/{secrets.token_hex(8)}-{filename[-60:]}"


class CaseAttachment(models.Model):
    """A photo or document added at intake or with a step (handling report, verification)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.file.name}"


class RoutingRule(models.Model):
    """Category + place → tier and units; the most specific matching rule wins."""

    category_prefix = models.CharField(_("category code prefix"), max_length=20, blank=True)
    path_prefix = models.CharField(_("place path prefix"), max_length=255, blank=True)
    tier = models.CharField(_("tier"), max_length=20, choices=TIER_CHOICES)
    lead_unit = models.CharField(_("lead unit"), max_length=60, blank=True)
    assisting_units = models.JSONField(default=list, blank=True)
    priority = models.IntegerField(_("priority"), default=0)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)  # see Category.updated_at

    class Meta:
        ordering = ["-priority", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return f"{self.category_prefix or '*'} @ {self.path_prefix or '*'} → {self.lead_unit}"


class ResponseTemplate(models.Model):
    """Reusable replies for staff (FixMyStreet's response templates)."""

    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"))
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="response_templates")
    state = models.CharField(_("for state"), max_length=12, choices=STATE_CHOICES, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An in-app notification; SMS/WeChat go through ``core.notify`` backends as well."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="notifications")
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.message[:40]}"


class CaseMonthRollup(models.Model):
    """The case measures' monthly roll-up: one row per Asia/Shanghai month of ``reported_at``
    × area (the case's neighbourhood path, else its own path) × subdistrict × neighbourhood ×
    lead unit, with the counts that do not depend on the moment the measures are read at and
    the closing times of its closed cases (for exact medians). Written only by
    ``cases.measures.rollup`` (rebuild, and the worker's refresh of the months and areas whose
    cases changed); see docs/case-measures.md."""

    month = models.DateField()
    area_path = models.CharField(max_length=255)
    # Plain ids, not foreign keys: a derived table must not hold the registry back.
    subdistrict_id = models.IntegerField(null=True)
    neighbourhood_id = models.IntegerField(null=True)
    lead_unit = models.CharField(max_length=60, blank=True)
    reported = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    handled_on_time = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    closed_reworked = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basically_satisfied = models.IntegerField(default=0)
    dissatisfied = models.IntegerField(default=0)
    # Lists of whole microseconds (int64 little-endian, sorted): the closed cases'
    # closed_at − reported_at (the medians); the report times (epoch) of the cases not
    # responded to within the limit (due_response at a given now); the deadlines (epoch) of
    # the open cases, and of the open reworked ones (due_closure and reworked at a given now).
    close_times = models.BinaryField(default=bytes)
    pending_times = models.BinaryField(default=bytes)
    open_due_times = models.BinaryField(default=bytes)
    open_reworked_due_times = models.BinaryField(default=bytes)

    class Meta:
        indexes = [models.Index(fields=["month", "area_path"], name="case_rollup_slice_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.area_path} {self.lead_unit}"


class CaseRollupState(models.Model):
    """The roll-up's one bookkeeping row: when it was rebuilt, up to when it includes the
    cases' changes (``as_of``), the refresh's high-water mark on ``Case.updated_at``, and the
    response limit its ``responded`` counts were taken with."""

    built_at = models.DateTimeField()
    as_of = models.DateTimeField()
    watermark = models.DateTimeField(null=True, blank=True)
    response_limit_hours = models.FloatField()

    def __str__(self) -> str:
        return f"roll-up as of {self.as_of:%Y-%m-%d %H:%M}"


# --- the working calendar (see cases/holidays.py, cases/calendar.py, docs/case-sla.md) ------

class CalendarEntry(models.Model):
    """One loaded day of the working calendar: from a State Council schedule (``schedule``)
    or the district's own (``local``). Statutory holidays are computed, not stored. Only
    ``cases.services.calendar`` writes this table; ``updated_at`` feeds the per-process
    calendar's version check (a queryset ``update()`` must set it too)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        WORKDAY = "workday", _("working day")

    class Source(models.TextChoices):
        SCHEDULE = "schedule", _("State Council schedule")
        LOCAL = "local", _("local")

    date = models.DateField()
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "source"]
        constraints = [
            models.UniqueConstraint(fields=["date", "source"], name="calendar_entry_date_source"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind} {self.name} ({self.source})"


class CalendarYear(models.Model):
    """A year whose State Council schedule (make-up working days included) is loaded."""

    year = models.PositiveSmallIntegerField(unique=True)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarEvent(models.Model):
    """Append-only history of the working calendar: one row per change of one year's days of
    one source (who, when, which file, which dates were added, changed or removed)."""

    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    year = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=16, choices=CalendarEntry.Source.choices)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.year} {self.source}"
