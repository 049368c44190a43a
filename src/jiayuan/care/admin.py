"""Back office: read-only. Every write goes through care.services (scores, history, tasks);
names and numbers are not listed here (personal data is opened on the logged person page)."""

from django.contrib import admin

from jiayuan.care.models import CareSignal, CareTask, ElderLivingAlone, RiskAssessment, VisitLog
from jiayuan.core.admin import ReadOnlyAdmin


@admin.register(ElderLivingAlone)
class ElderAdmin(ReadOnlyAdmin):
    list_display = ("pk", "neighbourhood", "risk_level", "risk_score", "next_visit_due", "active")
    list_filter = ("risk_level", "active")
    exclude = ("name", "id_number", "phone", "emergency_contacts")


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("elder_id", "at", "level", "score", "cause")


@admin.register(CareSignal)
class CareSignalAdmin(ReadOnlyAdmin):
    list_display = ("elder_id", "kind", "at", "source_ref")
    list_filter = ("kind",)


@admin.register(VisitLog)
class VisitLogAdmin(ReadOnlyAdmin):
    list_display = ("elder_id", "visited_at", "visitor_name", "outcome")


@admin.register(CareTask)
class CareTaskAdmin(ReadOnlyAdmin):
    list_display = ("pk", "elder_id", "kind", "priority", "status", "opened_at", "done_at")
    list_filter = ("status", "priority", "kind")
