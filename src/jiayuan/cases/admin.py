"""Back office for the case loop's configuration; cases themselves move only by services."""

from __future__ import annotations

from django.contrib import admin

from jiayuan.cases.models import Case, CaseEvent, Category, ResponseTemplate, RoutingRule
from jiayuan.core.admin import ReadOnlyAdmin


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "default_tier", "time_limit_amount",
                    "time_limit_unit", "default_department_kind", "active", "public")
    list_filter = ("kind", "default_tier", "active", "public")
    search_fields = ("code", "name")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category_prefix", "path_prefix", "tier", "lead_unit", "priority", "active")
    list_filter = ("tier", "active")


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "state", "active")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "channel", "category", "state", "tier", "lead_unit", "due_at")
    list_filter = ("state", "channel", "tier")
    search_fields = ("number", "external_id")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "seq", "at", "action", "from_state", "to_state", "actor")
    # The payload may carry personal data (an Open311 reporter's e-mail): shown masked here;
    # the case page reveals it, logged.
    exclude = ("payload",)
    readonly_fields = ("payload_masked",)

    @admin.display(description="payload")
    def payload_masked(self, obj: CaseEvent) -> str:
        import json

        from jiayuan.cases.selectors import masked_payload

        return json.dumps(masked_payload(obj.payload or {}), ensure_ascii=False)
