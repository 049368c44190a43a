"""Demo log-ins: one user per role over a generated district, sharing one printed password.

For the demo only: the password is public, so ``create_demo_accounts`` refuses to run unless
the settings are in demo mode (``JIAYUAN_DEMO=1``) or the caller insists (tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from jiayuan.accounts.models import Role
from jiayuan.accounts.services import create_user
from jiayuan.core.errors import Conflict, Forbidden, NotFound
from jiayuan.registry.models import (
    Compound,
    Department,
    District,
    Liaison,
    Neighbourhood,
    Subdistrict,
)

DEMO_PASSWORD = "jiayuan-demo-2026"  # noqa: S105 - printed to every demo user on purpose


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    label_zh: str
    label_en: str
    area: str  # the area's name, or "" for roles without one


@transaction.atomic
def create_demo_accounts(*, allow_outside_demo: bool = False) -> list[DemoLogin]:
    """Create the demo users over the generated district and return their log-ins.

    Refuses outside demo mode, a database without a generated district, and existing demo
    users (run it on a fresh database).
    """
    if not (settings.DEMO_MODE or allow_outside_demo):
        raise Forbidden("演示账号只能在演示模式（JIAYUAN_DEMO=1）下创建")
    district = District.objects.order_by("code").first()
    if district is None:
        raise NotFound("还没有生成演示区，请先运行 jiayuan generate")
    sub = Subdistrict.objects.filter(district=district, kind="street").order_by("code").first()
    sub = sub or Subdistrict.objects.filter(district=district).order_by("code").first()
    hood = (Neighbourhood.objects.filter(subdistrict=sub, kind="residential")
            .order_by("code").first())
    if sub is None or hood is None:
        raise NotFound("演示区缺少街道或居民区")
    police = Department.objects.filter(subdistrict=sub, kind="police_station").first()
    compound = (Compound.objects.filter(neighbourhood=hood, compound_type="commodity")
                .order_by("code").first()
                or Compound.objects.filter(neighbourhood=hood).order_by("code").first())
    liaison = Liaison.objects.filter(neighbourhood=hood, department=police).first()
    if police is None or compound is None or liaison is None:
        raise NotFound("演示区缺少派出所、小区或联络员")

    specs: list[tuple[str, str, str, str, list[object], dict[str, object]]] = [
        ("admin", Role.ADMIN, "系统管理员", "administrator", [], {}),
        ("district_duty", Role.DUTY_OFFICER, "区城运中心值班员", "district duty officer",
         [district], {}),
        ("duty", Role.DUTY_OFFICER, "街道城运中心值班员", "subdistrict duty officer", [sub], {}),
        ("staff", Role.NEIGHBOURHOOD_STAFF, "居委会社工", "neighbourhood staff", [hood], {}),
        ("police", Role.DEPARTMENT_STAFF, "派出所民警", "police station staff", [sub],
         {"department": police}),
        ("liaison", Role.LIAISON, "派出所联络员", "liaison", [hood], {"department": police}),
        ("analyst", Role.DISTRICT_ANALYST, "区治理分析员", "district analyst", [], {}),
        ("deputy", Role.DEPUTY, "人大代表", "deputy", [sub], {}),
        ("property", Role.PROPERTY_COMPANY, "物业公司", "property company", [compound], {}),
        ("resident", Role.RESIDENT, "居民", "resident", [], {}),
    ]
    logins: list[DemoLogin] = []
    for username, role, zh, en, areas, extra in specs:
        if username == "liaison":
            extra = {**extra, "display_name": liaison.name, "phone": liaison.phone}
        try:
            user = create_user(username=username, password=DEMO_PASSWORD, role=role,
                               areas=areas, display_name=str(extra.pop("display_name", zh)),
                               **extra)  # type: ignore[arg-type]
        except Conflict:
            raise Conflict(f"演示账号“{username}”已存在，请在新数据库上运行") from None
        if username == "liaison":
            liaison.user = user
            liaison.save(update_fields=["user"])
        area = areas[0] if areas else None
        logins.append(DemoLogin(username=username, role=str(role), label_zh=zh, label_en=en,
                                area=getattr(area, "name", "")))
    return logins


def format_logins(logins: list[DemoLogin], url: str) -> str:
    """The log-in table the demo prints, Chinese first."""
    lines = [f"家园演示 / Jiayuan demo: {url}",
             f"所有账号的密码 / password for every account: {DEMO_PASSWORD}", ""]
    width = max(len(x.username) for x in logins)
    for x in logins:
        area = f"  · {x.area}" if x.area else ""
        lines.append(f"  {x.username:<{width}}  {x.label_zh} / {x.label_en}{area}")
    return "\n".join(lines)
