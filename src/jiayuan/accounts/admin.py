from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from jiayuan.accounts.models import ApiToken, AreaGrant, PersonalDataAccess, User
from jiayuan.core.admin import ReadOnlyAdmin


class AreaGrantInline(admin.TabularInline):
    model = AreaGrant
    extra = 0
    readonly_fields = ("path", "region_type", "region_code", "label", "granted_at")
    can_delete = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # grant areas with `jiayuan createuser --area` or accounts.services


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "department", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("家园", {"fields": ("display_name", "phone", "role", "department")}),
    )
    inlines = [AreaGrantInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "object_type", "object_id", "purpose")
