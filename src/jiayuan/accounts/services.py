"""Writes for accounts: create users, grant areas, issue API tokens, log personal-data access."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from jiayuan.accounts.models import ApiToken, AreaGrant, PersonalDataAccess, Role, User
from jiayuan.core.errors import Conflict, NotFound, ValidationFailed

REGION_MODELS = ("district", "subdistrict", "neighbourhood", "compound")


def resolve_region(ref: Any) -> tuple[str, Any]:
    """A place object, or a code (optionally ``kind:code``) → (region type, place)."""
    from jiayuan.registry import models as rm

    classes = {"district": rm.District, "subdistrict": rm.Subdistrict,
               "neighbourhood": rm.Neighbourhood, "compound": rm.Compound}
    if not isinstance(ref, str):
        kind = type(ref).__name__.lower()
        if kind not in classes:
            raise ValidationFailed(f"不能按“{kind}”授权区域")
        return kind, ref
    kinds = list(classes)
    code = ref
    if ":" in ref:
        kind, code = ref.split(":", 1)
        if kind not in classes:
            raise ValidationFailed(f"未知区域类型“{kind}”，可用：{'、'.join(kinds)}")
        kinds = [kind]
    for kind in kinds:
        obj = classes[kind].objects.filter(code=code).first()
        if obj is not None:
            return kind, obj
    raise NotFound(f"没有编码为“{code}”的区域")


@transaction.atomic
def grant_area(*, user: User, region: Any) -> AreaGrant:
    kind, place = resolve_region(region)
    grant, _ = AreaGrant.objects.get_or_create(
        user=user, path=place.path,
        defaults={"region_type": kind, "region_code": place.code, "label": place.name},
    )
    user.__dict__.pop("_jiayuan_scope", None)
    return grant


@transaction.atomic
def create_user(
    *, username: str, password: str, role: str, areas: list[Any] | None = None,
    display_name: str = "", phone: str = "", department: Any = None,
    is_staff: bool = False, check_password: bool = True,
) -> User:
    """Create a user with a role and area grants. Refuses unknown roles, taken names, weak
    passwords, and staff roles without an area."""
    if role not in Role.values:
        raise ValidationFailed(f"未知角色“{role}”", details={"allowed": list(Role.values)})
    if User.objects.filter(username=username).exists():
        raise Conflict(f"用户名“{username}”已被使用")
    user = User(username=username, role=role, display_name=display_name, phone=phone,
                department=department, is_staff=is_staff or role == Role.ADMIN,
                is_superuser=role == Role.ADMIN)
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationFailed("密码不符合要求", details={"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    needs_area = role not in {Role.ADMIN, Role.DISTRICT_ANALYST, Role.RESIDENT}
    if needs_area and not areas:
        raise ValidationFailed(f"角色“{Role(role).label}”必须至少指定一个管辖区域")
    for area in areas or []:
        grant_area(user=user, region=area)
    return user


def issue_token(*, user: User, name: str) -> str:
    """Create a personal API token and return it; only its hash is kept."""
    key = "jy_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=key[:8],
                            key_hash=ApiToken.hash_key(key))
    return key


def log_personal_data_access(*, user: User, object_type: str, object_id: Any,
                             fields: list[str], purpose: str = "",
                             ip_address: str | None = None) -> None:
    PersonalDataAccess.objects.create(user=user, object_type=object_type,
                                      object_id=str(object_id), fields=fields,
                                      purpose=purpose, ip_address=ip_address)
