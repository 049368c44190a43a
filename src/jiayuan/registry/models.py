"""The registry of places and organisations (底数).

District → Subdistrict → (Sector) → Neighbourhood → Compound → Building → Entrance → Household,
plus the organisations that act in them. Every place and organisation row carries a
materialised ``path`` of its ancestors' codes (``"310115/310115004/310115004001/"``): area
scope is a prefix test on it (``accounts.scope.AreaScope``), which one B-tree index answers on
SQLite and PostgreSQL alike. Paths are written only by ``registry.services``.

Geometry is WGS-84 GeoJSON (``boundary``) with a representative point (``lng``/``lat``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def path_index(model_name: str) -> models.Index:
    # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' under any collation;
    # other backends ignore opclasses.
    return models.Index(
        fields=["path"], name=f"{model_name}_path_idx", opclasses=["varchar_pattern_ops"]
    )


class Place(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    path = models.CharField(max_length=255, editable=False, default="")
    boundary = models.JSONField(_("boundary (GeoJSON, WGS-84)"), null=True, blank=True)
    lng = models.FloatField(_("longitude (WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("latitude (WGS-84)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class District(Place):
    class Meta(Place.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        indexes = [path_index("district")]


class Subdistrict(Place):
    class Kind(models.TextChoices):
        STREET = "street", _("subdistrict (街道)")
        TOWN = "town", _("town (镇)")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="subdistricts")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)

    class Meta(Place.Meta):
        verbose_name = _("subdistrict")
        verbose_name_plural = _("subdistricts")
        indexes = [path_index("subdistrict")]


class Sector(models.Model):
    """An optional group of neighbourhoods inside a subdistrict (片区)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.PROTECT, related_name="sectors")

    class Meta:
        ordering = ["code"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self) -> str:
        return self.name


class Neighbourhood(Place):
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("residential neighbourhood (居民区)")
        VILLAGE = "village", _("village (村)")

    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, related_name="neighbourhoods"
    )
    sector = models.ForeignKey(
        Sector, on_delete=models.SET_NULL, null=True, blank=True, related_name="neighbourhoods"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)

    class Meta(Place.Meta):
        verbose_name = _("neighbourhood")
        verbose_name_plural = _("neighbourhoods")
        indexes = [path_index("neighbourhood")]


class CompoundType(models.TextChoices):
    """The four crisp types of the governance index, plus urban villages (not indexed)."""

    OLD_PUBLIC = "old_public", _("old public housing (老旧公房)")
    COMMODITY = "commodity", _("commodity housing (商品房)")
    RESETTLEMENT = "resettlement", _("resettlement housing (动迁房)")
    AFFORDABLE = "affordable", _("affordable housing (保障性住房)")
    URBAN_VILLAGE = "urban_village", _("urban village (城中村)")


class Compound(Place):
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, related_name="compounds"
    )
    compound_type = models.CharField(_("compound type"), max_length=16, choices=CompoundType.choices)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    population = models.PositiveIntegerField(_("population"), default=0)
    year_built = models.PositiveSmallIntegerField(
        _("year built"), null=True, blank=True,
        validators=[MinValueValidator(1840), MaxValueValidator(2100)],
    )
    floor_area_m2 = models.FloatField(
        _("floor area (m²)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta(Place.Meta):
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        indexes = [path_index("compound"), models.Index(fields=["compound_type"])]


class Building(Place):
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings")
    floors = models.PositiveSmallIntegerField(_("floors"), default=0)
    households = models.PositiveIntegerField(_("households"), default=0)
    year_built = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    has_elevator = models.BooleanField(_("has elevator"), default=False)

    class Meta(Place.Meta):
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        indexes = [path_index("building")]


def new_home_code() -> str:
    """An unguessable token for an entrance's home code (家园码): 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Entrance(Place):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="entrances")
    door_plate = models.CharField(_("door plate"), max_length=120, blank=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    home_code = models.CharField(
        _("home code token"), max_length=43, unique=True, default=new_home_code, editable=False
    )

    class Meta(Place.Meta):
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        indexes = [path_index("entrance")]


class Household(models.Model):
    """A dwelling unit (户). Area scope goes through its entrance's path."""

    entrance = models.ForeignKey(Entrance, on_delete=models.PROTECT, related_name="dwellings")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="dwellings")
    room = models.CharField(_("room"), max_length=20)
    # Decimal, not float: owners' votes (council.rules) compare area shares exactly.
    floor_area_m2 = models.DecimalField(
        _("exclusive floor area (m²)"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["entrance", "room"], name="household_unique_room")
        ]

    def __str__(self) -> str:
        return f"{self.entrance.name} {self.room}"


class GridCell(Place):
    """A unit grid cell (单元网格, GB/T 30428.1)."""

    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, related_name="grid_cells"
    )
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.SET_NULL, null=True, blank=True, related_name="grid_cells"
    )

    class Meta(Place.Meta):
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        indexes = [path_index("gridcell")]


class Organisation(models.Model):
    """Common fields of the organisations that act in places."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    path = models.CharField(max_length=255, editable=False, default="")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(Organisation):
    """A line department (条线部门) at district or subdistrict level."""

    class Kind(models.TextChoices):
        POLICE_STATION = "police_station", _("police station (派出所)")
        CITY_MANAGEMENT = "city_management", _("city-management squad (城管中队)")
        MARKET_SUPERVISION = "market_supervision", _("market supervision (市场监管所)")
        HOUSING_OFFICE = "housing_office", _("housing office (房管办)")
        GREENING_SANITATION = "greening_sanitation", _("greening & sanitation (绿化市容所)")
        FIRE = "fire", _("fire brigade (消防)")
        CIVIL_AFFAIRS = "civil_affairs", _("civil affairs (民政)")
        HEALTH = "health", _("community health centre (社区卫生服务中心)")
        WATER = "water", _("water utility (供水)")
        POWER = "power", _("power utility (供电)")
        GAS = "gas", _("gas utility (燃气)")
        TRAFFIC_POLICE = "traffic_police", _("traffic police (交警)")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="departments")
    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, null=True, blank=True, related_name="departments"
    )

    class Meta(Organisation.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        indexes = [path_index("department")]


class OperationsCentre(Organisation):
    """A city operations centre (城运中心), district- or subdistrict-level."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="operations_centres"
    )
    subdistrict = models.OneToOneField(
        Subdistrict, on_delete=models.PROTECT, null=True, blank=True,
        related_name="operations_centre",
    )

    class Meta(Organisation.Meta):
        verbose_name = _("operations centre")
        verbose_name_plural = _("operations centres")
        indexes = [path_index("operationscentre")]


class JointStation(Organisation):
    """A neighbourhood's joint-response station (联勤联动站)."""

    neighbourhood = models.OneToOneField(
        Neighbourhood, on_delete=models.PROTECT, related_name="joint_station"
    )

    class Meta(Organisation.Meta):
        verbose_name = _("joint station")
        verbose_name_plural = _("joint stations")
        indexes = [path_index("jointstation")]


class Liaison(models.Model):
    """A department's named contact person for one neighbourhood (联络员)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="liaisons")
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, related_name="liaisons"
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="liaison_posts",
    )
    path = models.CharField(max_length=255, editable=False, default="")

    class Meta:
        verbose_name = _("liaison")
        verbose_name_plural = _("liaisons")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "neighbourhood"], name="liaison_one_per_department"
            )
        ]
        indexes = [path_index("liaison")]

    def __str__(self) -> str:
        return f"{self.name} · {self.department.name}"


class Unit(Organisation):
    """An organisation in the area (社区单位 / 楼宇 / 两新组织)."""

    class Kind(models.TextChoices):
        INSTITUTION = "institution", _("institution (机关事业单位)")
        OFFICE_BUILDING = "office_building", _("office building (楼宇)")
        COMPANY = "company", _("company (企业)")
        SOCIAL_ORGANISATION = "social_organisation", _("social organisation (社会组织)")
        SCHOOL = "school", _("school (学校)")
        HOSPITAL = "hospital", _("hospital (医院)")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.PROTECT, related_name="units")
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.SET_NULL, null=True, blank=True, related_name="units"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    class Meta(Organisation.Meta):
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        indexes = [path_index("unit")]


class RegistryEvent(models.Model):
    """Append-only history of registry changes: imports and edits (who, when, what, why)."""

    class Action(models.TextChoices):
        IMPORT = "import", _("import")
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        GENERATE = "generate", _("generate demo district")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_code = models.CharField(max_length=40, blank=True)
    summary = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("registry event")
        verbose_name_plural = _("registry events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_code}"
