"""Devices, readings, rejected messages, alarms and maintenance orders (物联感知).

The pure core (``messages``, ``rules``, ``health``) decides; these rows remember. Every row
a user can see carries the materialised ``path`` of its device's place, so area scope works
as for the registry and cases.

Choices made for speed (docs/sensors-ingest.md): a ``Reading`` is one row per MQTT message
with its metrics as JSON (one insert per message, not per metric), stored once per
(device, time, hash of the message's idempotency key), and written in bulk by the ingest
worker. The rule engine's state
of a device lives in ``DeviceState`` (one JSON row per device), checkpointed by the worker.
A silent or faulty device opens a ``MaintenanceOrder`` to its owner (not a case: the fix is
the owner's routine, not a resident's problem).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiayuan.registry.models import path_index

CAMERA_KIND = "video_camera"


def kind_choices() -> list[tuple[str, str]]:
    from jiayuan.sensors.rules.catalogue import load_device_kinds

    out = [(code, kind.label) for code, kind in load_device_kinds().items()]
    out.append((CAMERA_KIND, "视频监控通道"))
    return out


class Device(models.Model):
    """One sensor, alarm host or video channel at a place."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=kind_choices)
    model = models.CharField(_("model"), max_length=80, blank=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    district_code = models.CharField(_("district code"), max_length=6)
    # Place: the most specific of entrance, building, compound; or a bare point.
    compound = models.ForeignKey("registry.Compound", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="devices")
    building = models.ForeignKey("registry.Building", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="devices")
    entrance = models.ForeignKey("registry.Entrance", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="devices")
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    path = models.CharField(max_length=255, default="")
    # Who maintains it: a unit ref (``department:<code>``, ``station:<code>``).
    owner_unit = models.CharField(_("owner"), max_length=60, blank=True)
    installed_at = models.DateField(_("installed"), null=True, blank=True)
    expected_interval_s = models.PositiveIntegerField(
        _("expected reporting interval (s)"), null=True, blank=True,
        help_text=_("Empty: the kind's default."))
    overrides = models.JSONField(_("rule overrides"), default=dict, blank=True)
    maintenance_windows = models.JSONField(_("maintenance windows"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Health, kept by the worker and the health job.
    last_heard_at = models.DateTimeField(_("last heard"), null=True, blank=True)
    silent = models.BooleanField(_("silent"), default=False)
    faults = models.JSONField(_("metrics in fault"), default=list, blank=True)
    last_metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [path_index("sensors_device"), models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return self.code


class DeviceState(models.Model):
    """The rule engine's state of one device (``engine.state_to_dict``)."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, primary_key=True,
                                  related_name="engine_state")
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("device state")
        verbose_name_plural = _("device states")

    def __str__(self) -> str:
        return f"state of {self.device_id}"


class Reading(models.Model):
    """One accepted message of a device: its metrics at ``at``. Append-only.

    Stored once: ``(device, at, h)`` is unique, where ``h`` is a 64-bit hash of the
    idempotency ``key`` (``messages.key_hash``). A redelivered message has the same device,
    time and key, so it is not stored again. That one index also serves the reads by device
    and time (the restart replay), so a row costs two index entries (with the primary key),
    not three as with a unique text key beside a (device, at) index. Two different messages
    of one device would collide only with the same timestamp and the same 64-bit hash.
    """

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings",
                               db_constraint=False, db_index=False)
    at = models.DateTimeField()
    h = models.BigIntegerField(help_text="64-bit hash of key (messages.key_hash)")
    key = models.CharField(max_length=100)
    metrics = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        constraints = [
            models.UniqueConstraint(fields=["device", "at", "h"], name="sensors_reading_once"),
        ]

    def __str__(self) -> str:
        return self.key


class RejectedMessage(models.Model):
    """A message the worker refused, kept aside with its reason; repeats are counted."""

    digest = models.CharField(max_length=64, unique=True)
    topic = models.CharField(max_length=255)
    payload = models.TextField(blank=True)
    reason = models.CharField(_("reason"), max_length=32, db_index=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    device_code = models.CharField(max_length=64, blank=True, db_index=True)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-last_at"]
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")

    def __str__(self) -> str:
        return f"{self.reason}: {self.topic}"


class AlarmState(models.TextChoices):
    ACTIVE = "active", _("active")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    CLEARED = "cleared", _("cleared")


class Alarm(models.Model):
    """One alarm episode of a (device, rule): raised, maybe acknowledged, cleared."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="alarms")
    rule_id = models.CharField(_("rule"), max_length=80)
    title = models.CharField(_("title"), max_length=120)
    severity = models.CharField(_("severity"), max_length=12)
    category = models.CharField(_("CAP category"), max_length=20, default="Safety")
    state = models.CharField(_("state"), max_length=12, choices=AlarmState.choices,
                             default=AlarmState.ACTIVE)
    acknowledged = models.BooleanField(_("acknowledged"), default=False)
    message = models.CharField(_("message"), max_length=500)
    value = models.FloatField(null=True, blank=True)
    peak = models.FloatField(null=True, blank=True)
    count = models.PositiveIntegerField(default=1)
    reading_key = models.CharField(max_length=100, blank=True)
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+")
    cleared_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="sensor_alarms")
    path = models.CharField(max_length=255, default="")
    # The updates (worse values) and the clear, as the engine reported them.
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        indexes = [path_index("sensors_alarm"), models.Index(fields=["state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule_id"], condition=~models.Q(state="cleared"),
                name="sensors_alarm_one_open_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.rule_id} {self.state}"


class MaintenanceOrder(models.Model):
    """A work order to a device's owner: silent device, or impossible values (one per
    device episode; the device's recovery closes it)."""

    class Reason(models.TextChoices):
        SILENCE = "silence", _("silent device")
        FAULT = "fault", _("impossible values")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="orders")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices,
                             default=State.OPEN)
    owner_unit = models.CharField(_("owner"), max_length=60, blank=True)
    message = models.CharField(_("message"), max_length=500)
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_note = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=255, default="")

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("maintenance order")
        verbose_name_plural = _("maintenance orders")
        indexes = [path_index("sensors_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "reason"], condition=models.Q(state="open"),
                name="sensors_order_one_open_per_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.reason} {self.state}"


class KindRuleSettings(models.Model):
    """The district's own settings of one device kind's rules (staff-edited).

    Applied between the catalogue's defaults (``data/device_kinds.json``) and each device's
    own ``overrides``; ``overrides`` has the same shape as a device's (``expected_interval_s``,
    ``rules``, ``extra_rules``) and is checked by ``catalogue.rule_set_for`` before it is
    saved. One deployment serves one district, so one row per kind. Written only by
    ``services.rule_config``; every change appends a ``RuleChange``."""

    kind = models.CharField(_("kind"), max_length=32, unique=True)
    overrides = models.JSONField(_("rule settings"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("rule settings of a device kind")
        verbose_name_plural = _("rule settings of device kinds")

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class RuleChange(models.Model):
    """Append-only history of rule edits: a kind's settings or a device's overrides (who,
    when, before, after). Its highest id is the rules version the ingest workers watch."""

    class Target(models.TextChoices):
        KIND = "kind", _("device kind")
        DEVICE = "device", _("device")

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    target = models.CharField(max_length=8, choices=Target.choices)
    kind = models.CharField(max_length=32)
    device_code = models.CharField(max_length=64, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=255, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("rule change")
        verbose_name_plural = _("rule changes")
        indexes = [models.Index(fields=["target", "kind", "device_code"],
                                name="sensors_rulechange_target")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.target} {self.kind} {self.device_code}"
