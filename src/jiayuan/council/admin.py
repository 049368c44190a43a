"""Admin: councils and members are edited here; history (ledger, ballots, answers, attendance,
decisions) is read-only — it changes only through the services."""

from django.contrib import admin

from jiayuan.core.admin import ReadOnlyAdmin
from jiayuan.council.models import (
    Attendance,
    ConsentReply,
    Consultation,
    Council,
    CouncilMember,
    Decision,
    DwellingOwner,
    LedgerEntry,
    Meeting,
    Topic,
    VoteBallot,
)


class MemberInline(admin.TabularInline):
    model = CouncilMember
    extra = 0
    raw_id_fields = ("user", "department", "unit")


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ("name", "meeting_rhythm", "created_at")
    search_fields = ("name", "neighbourhood__code")
    readonly_fields = ("neighbourhood", "path")
    inlines = [MemberInline]


@admin.register(DwellingOwner)
class DwellingOwnerAdmin(admin.ModelAdmin):
    list_display = ("household", "owner_ref", "name", "source")
    search_fields = ("owner_ref", "household__entrance__code")
    raw_id_fields = ("household",)


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ("title", "council", "status", "origin", "comment_count", "created_at")
    list_filter = ("status", "origin")
    search_fields = ("title",)


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("title", "council", "kind", "status", "starts_at")
    list_filter = ("kind", "status")


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdmin):
    list_display = ("title", "council", "kind", "result_status", "participants", "eligible")
    list_filter = ("kind", "result_status")


for model in (LedgerEntry, VoteBallot, ConsentReply, Attendance, Decision):
    admin.site.register(model, ReadOnlyAdmin)
