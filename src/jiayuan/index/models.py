"""The governance index on the platform: periods, runs, leaf values, stored scores.

- :class:`IndexPeriod` — a period scored (a year or a quarter): ``[start, end)`` dates.
- :class:`LeafValue` — one raw leaf value of one compound in one period, derived from the
  platform (``source=platform``, rewritten by each derivation) or imported from a VALUES
  sheet (``source=import``). A value may be NULL with a ``reason`` (e.g. no households on
  record): a leaf without data is stored and reported, never written as zero.
- :class:`IndexRun` — one computation: parameters, catalogue snapshot, status and progress,
  problems (missing leaves, unscored compounds, no data source).
- :class:`CompoundScore` — per run, compound and period: points, ranks, Z and raw values, the
  Monte Carlo rank interval and the below-median explanation, so pages read one row.
- :class:`RunDiagnostics` — per run: thresholds, correlations, Cronbach's alpha, Monte Carlo.

Only ``index.services`` writes these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IndexPeriod(models.Model):
    class Kind(models.TextChoices):
        YEAR = "year", _("year")
        QUARTER = "quarter", _("quarter")

    label = models.CharField(_("label"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.YEAR)
    start = models.DateField(_("start"))
    end = models.DateField(_("end (exclusive)"))

    class Meta:
        ordering = ["start", "label"]
        verbose_name = _("index period")
        verbose_name_plural = _("index periods")

    def __str__(self) -> str:
        return self.label


class LeafValue(models.Model):
    class Source(models.TextChoices):
        PLATFORM = "platform", _("platform data")
        IMPORT = "import", _("imported spreadsheet")

    period = models.ForeignKey(IndexPeriod, on_delete=models.CASCADE, related_name="values")
    compound = models.ForeignKey("registry.Compound", on_delete=models.CASCADE,
                                 related_name="index_values")
    indicator = models.CharField(_("indicator"), max_length=60)
    value = models.FloatField(_("value"), null=True, blank=True)
    reason = models.CharField(_("reason if missing"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    origin = models.CharField(_("origin"), max_length=200, blank=True)  # file name or deriver
    recorded_at = models.DateTimeField(auto_now=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("leaf value")
        verbose_name_plural = _("leaf values")
        constraints = [
            models.UniqueConstraint(fields=["period", "compound", "indicator", "source"],
                                    name="index_leafvalue_unique")
        ]
        indexes = [models.Index(fields=["period", "source"], name="index_leaf_period_src")]

    def __str__(self) -> str:
        return f"{self.indicator}={self.value}"


class IndexRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    period = models.ForeignKey(IndexPeriod, on_delete=models.CASCADE, related_name="runs")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("current step"), max_length=120, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict)
    catalogue = models.JSONField(_("catalogue snapshot"), default=list)
    periods = models.JSONField(_("periods in the panel"), default=list)
    problems = models.JSONField(_("problems"), default=list)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    trigger = models.CharField(_("trigger"), max_length=12, default="manual")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("index run")
        verbose_name_plural = _("index runs")

    def __str__(self) -> str:
        return f"{self.period.label} #{self.pk}"


class CompoundScore(models.Model):
    run = models.ForeignKey(IndexRun, on_delete=models.CASCADE, related_name="scores")
    compound = models.ForeignKey("registry.Compound", on_delete=models.CASCADE,
                                 related_name="index_scores")
    period_label = models.CharField(max_length=20)
    compound_type = models.CharField(max_length=16)
    path = models.CharField(max_length=255)  # the compound's, copied for scoped reads
    subdistrict_code = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=32)  # scored | coverage_below_threshold | …
    coverage = models.FloatField()
    total = models.FloatField(null=True, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)  # within type and period
    of = models.PositiveIntegerField(default=0)  # scored compounds of the type
    dimensions = models.JSONField(default=dict)
    subindices = models.JSONField(default=dict)
    z = models.JSONField(default=dict)
    x = models.JSONField(default=dict)
    rank_median = models.FloatField(null=True, blank=True)
    rank_low = models.FloatField(null=True, blank=True)
    rank_high = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=dict)

    class Meta:
        ordering = ["compound_type", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "compound", "period_label"],
                                    name="index_score_unique")
        ]
        indexes = [
            models.Index(fields=["run", "period_label", "compound_type", "rank"],
                         name="index_score_rank"),
            models.Index(fields=["compound", "run"], name="index_score_compound"),
        ]

    def __str__(self) -> str:
        return f"{self.period_label} {self.compound_id}: {self.total}"


class RunDiagnostics(models.Model):
    run = models.OneToOneField(IndexRun, on_delete=models.CASCADE, related_name="diagnostics")
    thresholds = models.JSONField(default=dict)
    correlations = models.JSONField(default=dict)
    alpha = models.JSONField(default=dict)
    sensitivity = models.JSONField(default=dict)
    leaf_coverage = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"diagnostics of run {self.run_id}"
