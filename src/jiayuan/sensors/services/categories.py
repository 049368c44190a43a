"""Case categories of sensor alarms (物联感知报警), installed on first use.

The case dictionary (GB/T 47678) has no class for a smoke alarm in a flat or a hot e-bike
shed, so the sensors app adds its own small major class ``S`` ("物联感知报警"), one minor
class per kind of hazard, with minute time limits and the department kind that usually acts.
"""

from __future__ import annotations

from jiayuan.cases.models import Category

MAJOR = ("S", "物联感知报警")

# code: (name, default department kind, time limit in minutes)
CATEGORIES: dict[str, tuple[str, str, int]] = {
    "S-fire": ("火灾报警（烟感、温感、车棚）", "fire", 15),
    "S-gas": ("燃气泄漏报警", "gas", 15),
    "S-panic": ("紧急求助报警", "police_station", 10),
    "S-water": ("消防供水压力异常", "fire", 60),
    "S-flood": ("积水报警", "city_management", 30),
    "S-manhole": ("窨井盖异常", "city_management", 60),
    "S-crowd": ("大客流预警", "police_station", 15),
    "S-care": ("独居老人异常", "civil_affairs", 30),
    "S-video": ("视频智能识别事件", "city_management", 60),
    "S-other": ("其他物联感知报警", "city_management", 60),
}

# device kind → category code
BY_KIND: dict[str, str] = {
    "smoke_detector": "S-fire", "gas_detector": "S-gas", "panic_button": "S-panic",
    "video_alarm_host": "S-panic", "hydrant_pressure": "S-water", "water_logging": "S-flood",
    "manhole_tilt": "S-manhole", "ebike_shed": "S-fire", "crowd_counter": "S-crowd",
    "door_sensor": "S-care", "water_meter": "S-care", "electric_meter": "S-care",
    "video_camera": "S-video",
}


def category_for_kind(kind: str) -> str:
    return BY_KIND.get(kind, "S-other")


def time_limit_minutes(code: str) -> int:
    return CATEGORIES.get(code, CATEGORIES["S-other"])[2]


def ensure_category(code: str) -> str:
    """Make sure ``code`` exists in the case dictionary; return it."""
    if code not in CATEGORIES:
        code = "S-other"
    name, department_kind, minutes = CATEGORIES[code]
    Category.objects.get_or_create(code=code, defaults={
        "name": name, "kind": Category.Kind.EVENT, "major_code": MAJOR[0],
        "major_name": MAJOR[1], "time_limit_amount": minutes, "time_limit_unit": "minutes",
        "default_department_kind": department_kind, "public": False,
        "source": "jiayuan.sensors: alarm classes of the sensors app"})
    return code


_installed: set[str] = set()  # codes this process has made sure of


def installed_category(code: str) -> str:
    """``ensure_category``, once per process and code (the sensors' classes are installed
    once and stay; ``forget_installed`` when one may have gone)."""
    if code not in _installed:
        code = ensure_category(code)
        _installed.add(code)
    return code


def forget_installed() -> None:
    _installed.clear()
