"""The registry in the Django admin (back office). Paths are derived, never typed in."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jiayuan.core.admin import ReadOnlyAdmin
from jiayuan.registry import models as m
from jiayuan.registry.services import save_with_path


class PlaceAdmin(admin.ModelAdmin):
    search_fields = ("code", "name")
    readonly_fields = ("path", "created_at", "updated_at")
    list_per_page = 50

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        save_with_path(obj)


@admin.register(m.District)
class DistrictAdmin(PlaceAdmin):
    list_display = ("code", "name")


@admin.register(m.Subdistrict)
class SubdistrictAdmin(PlaceAdmin):
    list_display = ("code", "name", "kind", "district")
    list_filter = ("kind",)


@admin.register(m.Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "subdistrict")
    search_fields = ("code", "name")


@admin.register(m.Neighbourhood)
class NeighbourhoodAdmin(PlaceAdmin):
    list_display = ("code", "name", "kind", "subdistrict")
    list_filter = ("kind", "subdistrict")
    autocomplete_fields = ("subdistrict",)


@admin.register(m.Compound)
class CompoundAdmin(PlaceAdmin):
    list_display = ("code", "name", "compound_type", "households", "neighbourhood")
    list_filter = ("compound_type",)
    autocomplete_fields = ("neighbourhood",)


@admin.register(m.Building)
class BuildingAdmin(PlaceAdmin):
    list_display = ("code", "name", "compound", "floors", "households")
    autocomplete_fields = ("compound",)


@admin.register(m.Entrance)
class EntranceAdmin(PlaceAdmin):
    list_display = ("code", "name", "door_plate", "building")
    readonly_fields = (*PlaceAdmin.readonly_fields, "home_code")
    autocomplete_fields = ("building",)


@admin.register(m.GridCell)
class GridCellAdmin(PlaceAdmin):
    list_display = ("code", "name", "subdistrict", "neighbourhood")
    autocomplete_fields = ("subdistrict", "neighbourhood")


class OrganisationAdmin(PlaceAdmin):
    list_display = ("code", "name", "path")


@admin.register(m.Department)
class DepartmentAdmin(OrganisationAdmin):
    list_display = ("code", "name", "kind", "subdistrict")
    list_filter = ("kind",)


@admin.register(m.OperationsCentre)
class OperationsCentreAdmin(OrganisationAdmin):
    pass


@admin.register(m.JointStation)
class JointStationAdmin(OrganisationAdmin):
    autocomplete_fields = ("neighbourhood",)


@admin.register(m.Unit)
class UnitAdmin(OrganisationAdmin):
    list_display = ("code", "name", "kind", "neighbourhood")
    list_filter = ("kind",)


@admin.register(m.Liaison)
class LiaisonAdmin(PlaceAdmin):
    list_display = ("name", "department", "neighbourhood")
    search_fields = ("name",)
    readonly_fields = ("path",)
    autocomplete_fields = ("department", "neighbourhood", "user")


@admin.register(m.RegistryEvent)
class RegistryEventAdmin(ReadOnlyAdmin):
    """Append-only: visible, never edited or deleted from the back office."""

    list_display = ("at", "action", "object_type", "object_code", "actor")
    list_filter = ("action", "object_type")
