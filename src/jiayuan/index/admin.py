"""Back office: periods may be edited; runs, values and scores are written by services only."""

from __future__ import annotations

from django.contrib import admin

from jiayuan.core.admin import ReadOnlyAdmin
from jiayuan.index.models import CompoundScore, IndexPeriod, IndexRun, LeafValue


@admin.register(IndexPeriod)
class IndexPeriodAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "start", "end")


@admin.register(IndexRun)
class IndexRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "period", "status", "progress", "trigger", "created_at", "finished_at")
    list_filter = ("status", "trigger")


@admin.register(LeafValue)
class LeafValueAdmin(ReadOnlyAdmin):
    list_display = ("period", "compound", "indicator", "value", "source", "reason")
    list_filter = ("source", "period")
    search_fields = ("indicator", "compound__code")
    raw_id_fields = ("compound",)


@admin.register(CompoundScore)
class CompoundScoreAdmin(ReadOnlyAdmin):
    list_display = ("run", "period_label", "compound", "compound_type", "status", "total", "rank")
    list_filter = ("period_label", "compound_type", "status")
    search_fields = ("compound__code",)
