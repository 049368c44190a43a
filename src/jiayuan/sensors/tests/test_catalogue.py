"""Device kinds as data; per-device overrides merged on top, all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest

from jiayuan.sensors.rules.catalogue import load_device_kinds, rule_set_for
from jiayuan.sensors.rules.model import RuleConfigError, RuleKind, Severity

SAFETY_KIT = {"smoke_detector", "gas_detector", "panic_button", "video_alarm_host"}


def test_catalogue_has_the_safety_kit_and_the_street_and_care_devices() -> None:
    kinds = load_device_kinds()
    assert SAFETY_KIT | {"hydrant_pressure", "water_logging", "manhole_tilt", "ebike_shed",
                         "crowd_counter", "door_sensor", "water_meter"} <= set(kinds)
    for kind in kinds.values():
        assert kind.expected_interval_s > 0 and kind.interval_source
        assert kind.rules
        for rule in kind.rules:
            assert rule.source, rule.id
            assert rule.id.startswith(kind.code + ".")


def test_every_rule_kind_is_used_by_some_default() -> None:
    used = {r.kind for k in load_device_kinds().values() for r in k.rules}
    assert used == set(RuleKind)


def test_override_changes_thresholds_severity_and_disables_a_rule() -> None:
    rules = rule_set_for("door_sensor", {
        "expected_interval_s": 1800,
        "rules": {"no_activity": {"absence_seconds": 43200, "severity": "Extreme"},
                  "battery_low": {"enabled": False}}})
    by_id = {r.id: r for r in rules.rules}
    assert "door_sensor.battery_low" not in by_id
    assert by_id["door_sensor.no_activity"].absence_seconds == 43200
    assert by_id["door_sensor.no_activity"].severity is Severity.EXTREME
    assert rules.expected_interval_s == 1800


def test_composite_thresholds_are_overridden_together() -> None:
    rules = rule_set_for("ebike_shed", {"rules": {"hot_and_loaded": {"thresholds": [55, 75]}}})
    rule = next(r for r in rules.rules if r.id == "ebike_shed.hot_and_loaded")
    assert [c.threshold for c in rule.conditions] == [55, 75]


def test_extra_rule_is_added_for_one_device() -> None:
    rules = rule_set_for("crowd_counter", {"extra_rules": [
        {"id": "capacity", "kind": "threshold", "severity": "Severe", "title": "超过容量",
         "conditions": [["people", ">", 3000]], "source": "site capacity"}]})
    assert rules.rules[-1].id == "crowd_counter.capacity"


@pytest.mark.parametrize("overrides", [
    {"colour": "red"},
    {"rules": {"no_such_rule": {"threshold": 1}}},
    {"rules": {"hot_and_loaded": {"threshold": 50}}},
    {"rules": {"hot_and_loaded": {"thresholds": [50]}}},
    {"rules": {"overheat": {"threshold": "hot"}}},
    {"rules": {"overheat": {"severity": "Apocalyptic"}}},
    {"rules": {"overload": {"for_seconds": 0}}},
    {"rules": {"overheat": {"hysteresis": -1}}},
    {"rules": {"overheat": {"colour": "red"}}},
    {"expected_interval_s": 0},
    {"extra_rules": [{"id": "x", "kind": "threshold", "severity": "Minor",
                      "conditions": [["no_metric", ">", 1]]}]},
    {"extra_rules": [{"id": "overheat", "kind": "threshold", "severity": "Minor",
                      "conditions": [["temperature_c", ">", 1]]}]},
    {"extra_rules": [{"id": "y", "kind": "composite", "severity": "Minor",
                      "conditions": [["temperature_c", ">", 1]]}]},
])
def test_invalid_override_is_refused_with_a_chinese_message(overrides: dict[str, Any]) -> None:
    with pytest.raises(RuleConfigError) as info:
        rule_set_for("ebike_shed", overrides)
    assert info.value.code == "invalid_rule_config"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)


def test_unknown_device_kind_is_refused() -> None:
    with pytest.raises(RuleConfigError):
        rule_set_for("toaster")
