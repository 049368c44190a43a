from django.contrib import admin

from jiayuan.core.admin import ReadOnlyAdmin
from jiayuan.sensors.models import (
    Alarm,
    Device,
    DeviceState,
    KindRuleSettings,
    MaintenanceOrder,
    Reading,
    RejectedMessage,
    RuleChange,
)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "name", "owner_unit", "last_heard_at", "silent", "active")
    list_filter = ("kind", "silent", "active")
    search_fields = ("code", "name", "address")
    # Rule overrides change on the rules pages or the API (validated, audited, seen by the
    # running workers), not here.
    readonly_fields = ("path", "last_heard_at", "silent", "faults", "last_metrics",
                       "overrides")
    raw_id_fields = ("compound", "building", "entrance")


@admin.register(Alarm)
class AlarmAdmin(ReadOnlyAdmin):
    list_display = ("raised_at", "device", "rule_id", "severity", "state", "acknowledged",
                    "cleared_at", "case")
    list_filter = ("state", "severity", "category")
    search_fields = ("device__code", "rule_id")


@admin.register(MaintenanceOrder)
class MaintenanceOrderAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "device", "reason", "state", "owner_unit", "closed_at")
    list_filter = ("reason", "state")


@admin.register(RejectedMessage)
class RejectedMessageAdmin(ReadOnlyAdmin):
    list_display = ("last_at", "reason", "device_code", "topic", "count")
    list_filter = ("reason",)


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    list_display = ("at", "device_id", "key")


@admin.register(DeviceState)
class DeviceStateAdmin(ReadOnlyAdmin):
    list_display = ("device", "updated_at")


@admin.register(KindRuleSettings)
class KindRuleSettingsAdmin(ReadOnlyAdmin):
    """Edited on the rules pages (validated, audited), never here."""

    list_display = ("kind", "version", "changed_by", "changed_at")


@admin.register(RuleChange)
class RuleChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "target", "kind", "device_code", "note")
    list_filter = ("target", "kind")
    search_fields = ("device_code",)
