"""Users, their roles and the areas they may act in."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DUTY_OFFICER = "duty_officer", _("operations-centre duty officer")
    NEIGHBOURHOOD_STAFF = "neighbourhood_staff", _("neighbourhood staff")
    DEPARTMENT_STAFF = "department_staff", _("department staff")
    LIAISON = "liaison", _("liaison")
    DISTRICT_ANALYST = "district_analyst", _("district analyst")
    RESIDENT = "resident", _("resident")
    LANDLORD = "landlord", _("landlord")
    LEASING_ENTERPRISE = "leasing_enterprise", _("leasing enterprise")
    PROPERTY_COMPANY = "property_company", _("property company")
    DEPUTY = "deputy", _("deputy")
    ADMIN = "admin", _("administrator")


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    role = models.CharField(_("role"), max_length=24, choices=Role.choices, default=Role.RESIDENT)
    department = models.ForeignKey(
        "registry.Department", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class AreaGrant(models.Model):
    """One region a user may act in: the region's materialised path (see registry.models)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="area_grants")
    path = models.CharField(max_length=255)
    region_type = models.CharField(max_length=20)  # district, subdistrict, neighbourhood, compound
    region_code = models.CharField(max_length=40)
    label = models.CharField(max_length=120, blank=True)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "path"], name="areagrant_unique_path")
        ]
        verbose_name = _("area grant")
        verbose_name_plural = _("area grants")

    def __str__(self) -> str:
        return f"{self.user} → {self.label or self.region_code}"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class PersonalDataAccess(models.Model):
    """Append-only log of who opened whose personal data, when and why (PIPL)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    fields = models.JSONField(default=list)
    purpose = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("personal-data access")
        verbose_name_plural = _("personal-data accesses")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.object_type}:{self.object_id}"
