"""The operations screen and the device-health page on a hand-built network: the counts are
known, every page and endpoint is limited to the viewer's area."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayuan.cases.models import Case
from jiayuan.cases.services import open_case
from jiayuan.sensors.models import Alarm, Device, MaintenanceOrder
from jiayuan.sensors.services.devices import register_device
from jiayuan.sensors.views_ops import (
    STATUSES,
    health_counts,
    status_case,
    status_of,
    status_qs,
    vital_signs,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture(autouse=True)
def _fresh_now():
    """The pages judge silence by the real clock: take NOW when each test starts, not when the
    module was imported (a long parallel run imports it many minutes before some tests run)."""
    global NOW
    NOW = timezone.now()


def _device(code, kind, entrance, *, heard=None, silent=False, faults=(), interval=None):
    d, _ = register_device({"code": code, "kind": kind, "entrance": entrance.code,
                            "expected_interval_s": interval})
    Device.objects.filter(pk=d.pk).update(
        last_heard_at=NOW - heard if heard is not None else None, silent=silent,
        faults=list(faults))
    d.refresh_from_db()
    return d


def _alarm(device, rule, state="active", severity="Severe"):
    return Alarm.objects.create(device=device, rule_id=rule, title=f"{rule} 告警",
                                severity=severity, message="测试", raised_at=NOW - dt.timedelta(
                                    minutes=5), path=device.path, state=state)


@pytest.fixture
def network(tiny):
    e11, e12 = tiny.entrances["S1N1C1"], tiny.entrances["S1N1C2"]
    e21, e_s2 = tiny.entrances["S1N2C1"], tiny.entrances["S2N1C1"]
    h = dt.timedelta(hours=1)
    dev = {
        "SM1": _device("SM1", "smoke_detector", e11, heard=h),                 # ok
        "GAS1": _device("GAS1", "gas_detector", e11, heard=3 * h),             # silent (>2×1 h)
        "DOOR1": _device("DOOR1", "door_sensor", e12, heard=240 * h, silent=True),  # silent
        "SHED1": _device("SHED1", "ebike_shed", e12, heard=dt.timedelta(minutes=1),
                         faults=["temperature_c"]),                            # faulty
        "PB1": _device("PB1", "panic_button", e11),                            # never heard
        "DOOR2": _device("DOOR2", "door_sensor", e12, heard=48 * h,
                         interval=600000),                                     # ok (own interval)
        "SM2": _device("SM2", "smoke_detector", e21, heard=500 * h, silent=True),  # S1N2 silent
        "GAS2": _device("GAS2", "gas_detector", e_s2, heard=h / 2),            # S2 ok
    }
    _alarm(dev["SM1"], "smoke")
    _alarm(dev["SHED1"], "hot_and_loaded", state="acknowledged")
    _alarm(dev["DOOR1"], "no_activity", state="cleared")
    _alarm(dev["GAS2"], "gas")
    MaintenanceOrder.objects.create(device=dev["DOOR1"], reason="silence", message="离线",
                                    opened_at=NOW, path=dev["DOOR1"].path)
    c1, _ = open_case(channel="sensor", description="烟感告警", entrance=e11)
    c2, _ = open_case(channel="sensor", description="燃气告警", entrance=e12)
    c3, _ = open_case(channel="sensor", description="已结案", entrance=e11)
    c4, _ = open_case(channel="sensor", description="第二街道", entrance=e_s2)
    Case.objects.filter(pk=c1.pk).update(due_at=NOW - h)
    Case.objects.filter(pk=c2.pk).update(due_at=NOW + h)
    Case.objects.filter(pk=c3.pk).update(state="closed", due_at=NOW - h)
    Case.objects.filter(pk=c4.pk).update(due_at=NOW - h)
    return dev


@pytest.fixture
def users(tiny, make_user):
    return {
        "n1": make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]),
        "s1": make_user("zhou", "duty_officer", tiny.subdistricts["S1"]),
        "s2": make_user("sun", "duty_officer", tiny.subdistricts["S2"]),
        "analyst": make_user("li", "district_analyst"),
        "police": make_user("police", "department_staff", tiny.subdistricts["S1"],
                            department=tiny.departments["S1"]),
    }


def test_statuses_partition_the_devices(network):
    qs = Device.objects.filter(active=True)
    per = {s: qs.filter(q).count() for s, q in status_qs(NOW).items()}
    assert sum(per.values()) == qs.count() == 8
    assert per == {"silent": 3, "faulty": 1, "never_heard": 1, "ok": 3}


def test_sql_case_filters_and_python_agree_on_every_device(network):
    from jiayuan.sensors.rules.catalogue import load_device_kinds

    intervals = {c: k.expected_interval_s for c, k in load_device_kinds().items()}
    by_case = dict(Device.objects.annotate(st=status_case(NOW)).values_list("code", "st"))
    for status, q in status_qs(NOW).items():
        for d in Device.objects.filter(q):
            assert by_case[d.code] == status == status_of(d, NOW, intervals), d.code


def test_neighbourhood_vital_signs_count_only_its_own(network, users):
    from jiayuan.accounts.scope import scope_for

    v = vital_signs(scope_for(users["n1"]), NOW)
    assert (v["open_cases"], v["overdue_cases"]) == (2, 1)
    assert (v["active_alarms"], v["unacknowledged_alarms"]) == (2, 1)
    assert v["silent_devices"] == 2 and v["faulty_devices"] == 1 and v["devices"] == 6
    assert v["open_maintenance_orders"] == 1
    assert {k["kind"]: k["count"] for k in v["alarms_by_kind"]} == {
        "smoke_detector": 1, "ebike_shed": 1}


def test_subdistrict_and_district_see_more(network, users):
    from jiayuan.accounts.scope import scope_for

    s1 = vital_signs(scope_for(users["s1"]), NOW)
    assert s1["devices"] == 7 and s1["silent_devices"] == 3 and s1["active_alarms"] == 2
    everything = vital_signs(scope_for(users["analyst"]), NOW)
    assert everything["devices"] == 8 and everything["active_alarms"] == 3
    assert everything["open_cases"] == 3 and everything["overdue_cases"] == 2


def test_health_counts_per_kind_and_per_neighbourhood(network, users, tiny):
    from jiayuan.accounts.scope import scope_for

    c = health_counts(scope_for(users["s1"]), NOW)
    kinds = {r["kind"]: r for r in c["by_kind"]}
    assert kinds["door_sensor"]["silent"] == 1 and kinds["door_sensor"]["ok"] == 1
    assert kinds["smoke_detector"]["ok"] == 1 and kinds["smoke_detector"]["silent"] == 1
    nbs = {r["code"]: r for r in c["by_neighbourhood"]}
    n1, n2 = tiny.neighbourhoods["S1N1"].code, tiny.neighbourhoods["S1N2"].code
    assert set(nbs) == {n1, n2}
    assert {s: nbs[n1][s] for s in STATUSES} == {"silent": 2, "faulty": 1, "never_heard": 1,
                                                 "ok": 2}
    assert nbs[n2]["silent"] == 1 and nbs[n2]["total"] == 1


def test_screen_renders_and_polls_the_vitals_partial(network, users, login):
    c = login(users["n1"])
    html = c.get(reverse("sensors_ops:screen")).content.decode()
    assert 'hx-trigger="every 5s"' in html and 'data-map="ops"' in html
    part = c.get(reverse("sensors_ops:vitals"))
    assert part.status_code == 200 and part["Cache-Control"] == "no-store"
    body = part.content.decode()
    assert 'data-testid="v-open-cases">2<' in body
    assert 'data-testid="v-active-alarms">2<' in body
    assert 'data-testid="v-silent-devices">2<' in body
    data = c.get(reverse("sensors_ops:vitals_json")).json()
    assert data["overdue_cases"] == 1


def test_map_geojson_has_alarms_and_devices_of_the_area_only(network, users, login):
    fc = login(users["n1"]).get(reverse("sensors_ops:geojson")).json()
    alarms = [f for f in fc["features"] if f["properties"]["layer"] == "alarm"]
    devices = {f["properties"]["code"]: f["properties"]["status"]
               for f in fc["features"] if f["properties"]["layer"] == "device"}
    assert {a["properties"]["device"] for a in alarms} == {"SM1", "SHED1"}
    assert devices == {"SM1": "ok", "GAS1": "silent", "DOOR1": "silent", "SHED1": "faulty",
                       "PB1": "never_heard", "DOOR2": "ok"}
    assert fc["devices_total"] == 6
    for f in fc["features"]:
        lng, lat = f["geometry"]["coordinates"]
        assert 121.40 <= lng <= 121.50 and 31.10 <= lat <= 31.20


def test_area_parameter_narrows_and_is_refused_outside_scope(network, users, login, tiny):
    c = login(users["s1"])
    n2 = tiny.neighbourhoods["S1N2"].code
    data = c.get(reverse("sensors_ops:vitals_json"), {"area": n2}).json()
    assert data["devices"] == 1 and data["silent_devices"] == 1 and data["active_alarms"] == 0
    other = tiny.neighbourhoods["S2N1"].code
    assert c.get(reverse("sensors_ops:vitals_json"), {"area": other}).status_code == 404
    assert c.get(reverse("sensors_ops:screen"), {"area": other}).status_code == 404
    assert c.get(reverse("sensors_ops:screen"), {"area": "nope"}).status_code == 404


def test_other_subdistrict_and_other_roles(network, users, login):
    c = login(users["s2"])
    data = c.get(reverse("sensors_ops:vitals_json")).json()
    assert data["devices"] == 1 and data["active_alarms"] == 1 and data["open_cases"] == 1
    fc = c.get(reverse("sensors_ops:geojson")).json()
    assert {f["properties"].get("code") or f["properties"]["device"]
            for f in fc["features"]} == {"GAS2"}
    police = login(users["police"])
    for name in ("screen", "vitals", "vitals_json", "geojson", "health"):
        assert police.get(reverse(f"sensors_ops:{name}")).status_code == 403


def test_device_health_page_lists_unhealthy_with_last_heard(network, users, login):
    c = login(users["n1"])
    html = c.get(reverse("sensors_ops:health")).content.decode()
    for code in ("GAS1", "DOOR1", "SHED1", "PB1"):
        assert f'data-code="{code}"' in html
    for code in ("SM1", "DOOR2", "SM2", "GAS2"):
        assert f'data-code="{code}"' not in html
    only_silent = c.get(reverse("sensors_ops:health"), {"status": "silent"}).content.decode()
    assert 'data-code="GAS1"' in only_silent and 'data-code="SHED1"' not in only_silent
    kind = c.get(reverse("sensors_ops:health"), {"kind": "ebike_shed"}).content.decode()
    assert 'data-code="SHED1"' in kind and 'data-code="GAS1"' not in kind


def test_home_tiles_for_duty_officers_not_for_department_staff(users, login):
    html = login(users["s1"]).get(reverse("web:home")).content.decode()
    assert reverse("sensors_ops:screen") in html and reverse("sensors_ops:health") in html
    police = login(users["police"]).get(reverse("web:home")).content.decode()
    assert reverse("sensors_ops:screen") not in police
