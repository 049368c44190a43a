"""Demo data: a realistic register of elderly people living alone for every demo neighbourhood.

The demo generator calls :func:`generate_demo_care` after the registry (and, if it likes, the
demo accounts) exist::

    from jiayuan.care.demo import generate_demo_care
    generate_demo_care(seed=seed)

About ``share`` (default 3 %) of the households of each neighbourhood get one registered
person (Shanghai's older districts register 2–5 % of households as 独居老人), aged 65–98 with
attributes drawn to give roughly 20 % high, 45 % medium and 35 % low risk; a visit history of
the last 90 days at each level's interval, with some visits missed (so some are overdue); a
few open care tasks from missed activity signals. Deterministic for a seed. Neighbourhood
staff accounts (if any) are assigned as visitors of the people of their neighbourhood.

Call :func:`wipe_demo_care` before wiping the registry (the register points at entrances).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.care import risk
from jiayuan.care.models import (
    CareSignal,
    CareTask,
    ElderLivingAlone,
    RiskAssessment,
    VisitLog,
)
from jiayuan.care.schedule import next_due
from jiayuan.care.services.register import ID_CHECK, ID_WEIGHTS

GIVEN_F = "桂英秀英玉兰凤英淑珍秀兰桂兰玉珍美华丽娟"
GIVEN_M = "建国国华德明志强福生根宝金发永康伟民"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈任姚卢"
RELATIONS = ("儿子", "女儿", "侄子", "外甥女", "邻居", "孙子")
VOLUNTEERS = ("陈阿姨", "老周", "小林", "王师傅", "楼组长 徐阿姨", "党员志愿者 朱老师")
CHUNK = 2000


def _name(rng: random.Random) -> str:
    given = GIVEN_F if rng.random() < 0.68 else GIVEN_M  # most living alone are women
    n = rng.randrange(0, len(given) - 1, 2)
    return rng.choice(SURNAMES) + given[n:n + 2]


def _id_number(rng: random.Random, birth: dt.date, used: set[str]) -> str:
    while True:
        body = f"310115{birth:%Y%m%d}{rng.randrange(1000):03d}"
        total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
        number = body + ID_CHECK[total % 11]
        if number not in used:
            used.add(number)
            return number


def _mobile(rng: random.Random) -> str:
    return rng.choice(("139", "138", "137", "136", "135", "158", "189")) + \
        f"{rng.randrange(10**8):08d}"


def _attributes(rng: random.Random, age: int, floors: int, elevator: bool) -> dict[str, Any]:
    frail = min(0.85, max(0.05, (age - 65) / 40))
    return {
        "health": rng.choices(risk.HEALTH, (1 - frail, 0.7 * frail + 0.1, 0.3 * frail))[0],
        "chronic_conditions": min(5, int(rng.expovariate(1.6) + frail * 1.5)),
        "mobility": rng.choices(risk.MOBILITY, (1 - frail * 0.8, frail * 0.6, frail * 0.15))[0],
        "cognition": rng.choices(risk.COGNITION, (1 - frail * 0.5, frail * 0.4, frail * 0.1))[0],
        "living_conditions": rng.choices(risk.LIVING_CONDITIONS, (0.55, 0.35, 0.10))[0],
        "stairs_without_elevator": floors > 2 and not elevator and rng.random() < 0.6,
        "carer": rng.choices(risk.CARER, (0.30, 0.45, 0.25))[0],
        "children_nearby": rng.random() < 0.6,
    }


def _places() -> list[dict[str, Any]]:
    """Households (or, in a registry without dwellings, entrances) with what the demo needs."""
    from jiayuan.registry.models import Entrance, Household

    rows = list(Household.objects.values(
        "pk", "entrance_id", "room", "entrance__path", "compound__neighbourhood_id",
        "entrance__building__floors", "entrance__building__has_elevator").order_by("pk"))
    if rows:
        return [{"household": r["pk"], "entrance": r["entrance_id"], "room": r["room"],
                 "path": r["entrance__path"], "neighbourhood": r["compound__neighbourhood_id"],
                 "floors": r["entrance__building__floors"] or 6,
                 "elevator": r["entrance__building__has_elevator"]} for r in rows]
    out = []
    for e in Entrance.objects.values(
            "pk", "path", "households", "building__compound__neighbourhood_id",
            "building__floors", "building__has_elevator").order_by("pk"):
        for i in range(max(1, e["households"])):
            out.append({"household": None, "entrance": e["pk"], "room": f"{i // 2 + 1}0{i % 2 + 1}",
                        "path": e["path"], "neighbourhood": e["building__compound__neighbourhood_id"],
                        "floors": e["building__floors"] or 6, "elevator": e["building__has_elevator"]})
    return out


def _visitors() -> dict[int, list[Any]]:
    """Neighbourhood staff accounts by the neighbourhood they were granted."""
    from jiayuan.accounts.models import AreaGrant
    from jiayuan.registry.models import Neighbourhood

    by_path = {n.path: n.pk for n in Neighbourhood.objects.only("pk", "path")}
    out: dict[int, list[Any]] = defaultdict(list)
    for g in AreaGrant.objects.filter(user__role="neighbourhood_staff",
                                      user__is_active=True).select_related("user"):
        if g.path in by_path:
            out[by_path[g.path]].append(g.user)
    return out


def wipe_demo_care() -> None:
    """Delete the whole care register (demo only: before the registry is wiped)."""
    for model in (CareTask, CareSignal, VisitLog, RiskAssessment, ElderLivingAlone):
        model.objects.all()._raw_delete(model.objects.db)  # type: ignore[attr-defined]


@transaction.atomic
def generate_demo_care(*, seed: int = 2026, share: float = 0.03,
                       now: dt.datetime | None = None) -> dict[str, int]:
    """Write the demo register; returns the row counts. Refuses a share outside (0, 0.2]."""
    if not 0 < share <= 0.2:
        raise ValueError("share 须在 0 与 0.2 之间")
    rng = random.Random(seed)
    now = now or timezone.now()
    today = timezone.localdate(now)
    places = _places()
    by_n: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in places:
        by_n[p["neighbourhood"]].append(p)
    visitors = _visitors()
    used_ids: set[str] = set(ElderLivingAlone.objects.exclude(id_number="").values_list(
        "id_number", flat=True))
    elders: list[ElderLivingAlone] = []
    signals_of: list[list[str]] = []
    for n_pk in sorted(by_n):
        pool = by_n[n_pk]
        count = max(1, round(len(pool) * share * rng.uniform(0.7, 1.3)))
        staff = visitors.get(n_pk, [])
        for p in rng.sample(pool, min(count, len(pool))):
            age = min(98, 65 + int(rng.expovariate(1 / 11)))
            birth = dt.date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
            attrs = _attributes(rng, age, p["floors"], p["elevator"])
            contacts = [] if rng.random() < 0.12 else [
                {"name": _name(rng), "relation": rng.choice(RELATIONS), "phone": _mobile(rng)}]
            signals = ["no_activity"] if rng.random() < 0.02 else []
            created = now - dt.timedelta(days=rng.randint(100, 900))
            elders.append(ElderLivingAlone(
                name=_name(rng), id_number=_id_number(rng, birth, used_ids), phone=_mobile(rng),
                birth_year=birth.year, entrance_id=p["entrance"], household_id=p["household"],
                neighbourhood_id=n_pk, room=p["room"], path=p["path"],
                emergency_contacts=contacts, consent=rng.random() < 0.93,
                consent_at=created, active_signals=signals,
                visitor=rng.choice(staff) if staff else None,
                volunteer_name=rng.choice(VOLUNTEERS) if rng.random() < 0.5 else "",
                **attrs))
            signals_of.append(signals)
    for e, sig in zip(elders, signals_of, strict=True):
        a = risk.assess(risk.Attributes(
            age=today.year - e.birth_year, health=e.health,
            chronic_conditions=e.chronic_conditions, mobility=e.mobility, cognition=e.cognition,
            living_conditions=e.living_conditions,
            stairs_without_elevator=e.stairs_without_elevator, carer=e.carer,
            children_nearby=e.children_nearby, has_emergency_contact=bool(e.emergency_contacts)),
            sig)
        e.risk_level, e.risk_score = a.level.value, a.score
        e.risk_reasons = [[k, p] for k, p in a.reasons]
    # SQLite ≥ 3.35 and PostgreSQL both return the new primary keys from bulk_create.
    elders = ElderLivingAlone.objects.bulk_create(elders, batch_size=CHUNK)
    assessments, visits, tasks, signal_rows = [], [], [], []
    for e in elders:
        created = now - dt.timedelta(days=rng.randint(100, 900))
        assessments.append(RiskAssessment(elder=e, at=created, level=e.risk_level,
                                          score=e.risk_score, reasons=e.risk_reasons,
                                          cause="registered"))
        interval = risk.visit_interval_days(e.risk_level)
        t = now - dt.timedelta(days=90) + dt.timedelta(days=rng.uniform(0, interval))
        last = None
        while t < now:
            if rng.random() > 0.12:  # about one visit in eight is missed
                outcome = rng.choices(("well", "concern", "not_home", "hospital"),
                                      (0.86, 0.07, 0.05, 0.02))[0]
                who = e.visitor
                visits.append(VisitLog(
                    elder=e, visited_at=t, visitor=who,
                    visitor_name=str(who) if who else (e.volunteer_name or "社工"),
                    method="phone" if rng.random() < 0.2 else "home", outcome=outcome,
                    notes={"well": "精神尚好", "concern": "血压偏高，已提醒就医",
                           "not_home": "敲门无人应答，电话联系上", "hospital": "住院中"}[outcome]))
                last = t
            t += dt.timedelta(days=interval * rng.uniform(0.8, 1.25))
        e.last_visit_at = last
        e.created_at = created
        e.next_visit_due = next_due(e.risk_level, last_visit_at=last, registered_at=created)
        if e.active_signals:
            at = now - dt.timedelta(hours=rng.randint(1, 30))
            signal_rows.append(CareSignal(elder=e, kind="no_activity", at=at,
                                          source_ref=f"demo.signal:{e.pk}"))
            tasks.append(CareTask(elder=e, path=e.path, kind="no_activity",
                                  reason="长时间无活动信号", opened_at=at,
                                  triggers=[{"kind": "no_activity", "at": at.isoformat(),
                                             "source_ref": f"demo.signal:{e.pk}", "note": ""}]))
    ElderLivingAlone.objects.bulk_update(
        elders, ["last_visit_at", "next_visit_due", "created_at"], batch_size=CHUNK)
    RiskAssessment.objects.bulk_create(assessments, batch_size=CHUNK)
    VisitLog.objects.bulk_create(visits, batch_size=CHUNK)
    CareSignal.objects.bulk_create(signal_rows, batch_size=CHUNK)
    CareTask.objects.bulk_create(tasks, batch_size=CHUNK)
    return {"elders": len(elders), "visits": len(visits), "care_tasks": len(tasks),
            "high": sum(e.risk_level == "high" for e in elders),
            "medium": sum(e.risk_level == "medium" for e in elders),
            "overdue": sum(bool(e.next_visit_due and e.next_visit_due < now) for e in elders)}
