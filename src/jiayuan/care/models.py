"""Register of elderly people living alone (独居老人), their visits, signals and care tasks.

Personal data (name, ID number, phone, emergency contacts) is masked in every list and each
full view is logged (``accounts.services.log_personal_data_access``). Area scope goes through
the entrance: each person copies its entrance's materialised ``path``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Health(models.TextChoices):
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")


class Mobility(models.TextChoices):
    INDEPENDENT = "independent", _("independent")
    ASSISTED = "assisted", _("needs assistance")
    BEDRIDDEN = "bedridden", _("bedridden")


class Cognition(models.TextChoices):
    NORMAL = "normal", _("normal")
    MILD = "mild", _("mild impairment")
    SEVERE = "severe", _("severe impairment")


class LivingConditions(models.TextChoices):
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")


class Carer(models.TextChoices):
    REGULAR = "regular", _("regular carer")
    OCCASIONAL = "occasional", _("occasional carer")
    NONE = "none", _("no carer")


class RiskLevel(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


class ElderLivingAlone(models.Model):
    """One elderly person living alone (独居老人) in the register."""

    name = models.CharField(_("full name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    entrance = models.ForeignKey("registry.Entrance", on_delete=models.PROTECT,
                                 related_name="elders_living_alone")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="elders_living_alone")
    neighbourhood = models.ForeignKey("registry.Neighbourhood", on_delete=models.PROTECT,
                                      related_name="elders_living_alone")
    room = models.CharField(_("room"), max_length=20, blank=True)
    path = models.CharField(max_length=255, editable=False, default="", db_index=True)

    health = models.CharField(_("health"), max_length=12, choices=Health.choices,
                              default=Health.GOOD)
    chronic_conditions = models.PositiveSmallIntegerField(_("chronic conditions"), default=0)
    mobility = models.CharField(_("mobility"), max_length=12, choices=Mobility.choices,
                                default=Mobility.INDEPENDENT)
    cognition = models.CharField(_("cognition"), max_length=12, choices=Cognition.choices,
                                 default=Cognition.NORMAL)
    living_conditions = models.CharField(_("living conditions"), max_length=12,
                                         choices=LivingConditions.choices,
                                         default=LivingConditions.GOOD)
    stairs_without_elevator = models.BooleanField(_("upper floor without elevator"),
                                                  default=False)
    carer = models.CharField(_("carer"), max_length=12, choices=Carer.choices,
                             default=Carer.NONE)
    children_nearby = models.BooleanField(_("children nearby"), default=False)
    # [{"name": "...", "relation": "...", "phone": "..."}]
    emergency_contacts = models.JSONField(_("emergency contacts"), default=list, blank=True)
    consent = models.BooleanField(_("consent to register and to sensors"), default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="elders_to_visit",
                                verbose_name=_("assigned visitor"))
    volunteer_name = models.CharField(_("volunteer"), max_length=50, blank=True)

    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices,
                                  default=RiskLevel.LOW, db_index=True)
    risk_score = models.PositiveSmallIntegerField(default=0)
    risk_reasons = models.JSONField(default=list, blank=True)
    active_signals = models.JSONField(default=list, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_visit_at = models.DateTimeField(null=True, blank=True)
    next_visit_due = models.DateTimeField(null=True, blank=True, db_index=True)

    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("elderly person living alone")
        verbose_name_plural = _("elderly people living alone")
        indexes = [models.Index(fields=["path"], name="care_elder_path_idx",
                                opclasses=["varchar_pattern_ops"])]
        constraints = [
            models.UniqueConstraint(fields=["id_number"], condition=~Q(id_number=""),
                                    name="care_elder_unique_id_number"),
        ]

    def __str__(self) -> str:
        return f"独居老人 #{self.pk}"


class RiskAssessment(models.Model):
    """Append-only history of the person's risk level (each change, who or what caused it)."""

    elder = models.ForeignKey(ElderLivingAlone, on_delete=models.CASCADE,
                              related_name="assessments")
    at = models.DateTimeField(db_index=True)
    level = models.CharField(max_length=8, choices=RiskLevel.choices)
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)
    cause = models.CharField(max_length=40)  # registered, edited, signal:<kind>, visit
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.level} @ {self.at:%Y-%m-%d}"

    CAUSE_LABELS = {"registered": "登记", "edited": "修改信息", "daily": "每日重算",
                    "task_done": "关怀任务完成", "signal:no_activity": "无活动信号",
                    "signal:panic": "紧急呼叫", "signal:smoke": "烟感报警",
                    "signal:activity": "恢复活动"}

    @property
    def cause_label(self) -> str:
        return self.CAUSE_LABELS.get(self.cause, self.cause)


class CareSignal(models.Model):
    """A sensor signal about a person: append-only; ``source_ref`` makes a repeat a no-op."""

    class Kind(models.TextChoices):
        NO_ACTIVITY = "no_activity", _("no activity")
        PANIC = "panic", _("panic button")
        SMOKE = "smoke", _("smoke")
        ACTIVITY = "activity", _("activity")

    elder = models.ForeignKey(ElderLivingAlone, on_delete=models.CASCADE,
                              related_name="signals")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField()
    source_ref = models.CharField(max_length=120, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["elder", "kind", "source_ref"],
                                    condition=~Q(source_ref=""),
                                    name="care_signal_unique_source"),
        ]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class VisitLog(models.Model):
    """One visit (or call) to the person: who, when, outcome, notes."""

    class Outcome(models.TextChoices):
        WELL = "well", _("well")
        CONCERN = "concern", _("concern noted")
        NOT_HOME = "not_home", _("not at home")
        HOSPITAL = "hospital", _("in hospital")
        EMERGENCY = "emergency", _("emergency")

    class Method(models.TextChoices):
        HOME = "home", _("home visit")
        PHONE = "phone", _("phone call")

    elder = models.ForeignKey(ElderLivingAlone, on_delete=models.CASCADE, related_name="visits")
    visited_at = models.DateTimeField(_("visited at"))
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    visitor_name = models.CharField(_("visitor"), max_length=50)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices,
                              default=Method.HOME)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.outcome} @ {self.visited_at:%Y-%m-%d}"


class CareTask(models.Model):
    """Work for the neighbourhood: a rise in risk, a missed signal, an alarm, a worrying visit.

    At most one open task per person (a database constraint): a further trigger while one is
    open is added to that task's ``triggers`` instead of opening another.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ASSIGNED = "assigned", _("assigned")
        DONE = "done", _("done")

    class Priority(models.TextChoices):
        NORMAL = "normal", _("normal")
        URGENT = "urgent", _("urgent")

    class Outcome(models.TextChoices):
        VISITED_OK = "visited_ok", _("visited, all well")
        HELP_GIVEN = "help_given", _("help given")
        REFERRED = "referred", _("referred to services")
        HOSPITAL = "hospital", _("taken to hospital")
        FALSE_ALARM = "false_alarm", _("false alarm")

    elder = models.ForeignKey(ElderLivingAlone, on_delete=models.CASCADE, related_name="tasks")
    path = models.CharField(max_length=255, editable=False, default="", db_index=True)
    kind = models.CharField(max_length=20)  # risk_rise, no_activity, panic, smoke, visit
    priority = models.CharField(max_length=8, choices=Priority.choices,
                                default=Priority.NORMAL)
    reason = models.CharField(max_length=200)
    triggers = models.JSONField(default=list)  # [{"kind", "at", "source_ref"}]
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="care_tasks")
    opened_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["elder"], condition=~Q(status="done"),
                                    name="care_task_one_open_per_elder"),
        ]

    def __str__(self) -> str:
        return f"关怀任务 #{self.pk} {self.kind} {self.status}"
