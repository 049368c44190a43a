"""Rules staff edit: the district's settings per device kind, each device's overrides, the
audit of every change, the pages, who may edit, and a running pipeline picking up an edit."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from jiayuan.core.errors import Forbidden, ValidationFailed
from jiayuan.sensors.models import Alarm, Device, KindRuleSettings, RuleChange
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.services import rule_config
from jiayuan.sensors.tests.django_support import Clock, make_device, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def district_officer(tiny, make_user):
    return make_user("duty-d", "duty_officer", "310115")


@pytest.fixture
def officer(tiny, make_user):
    """A subdistrict's duty officer: edits the devices of subdistrict 1 only."""
    return make_user("duty-s1", "duty_officer", "310115001")


def _rule(rule_set, short):
    return next(r for r in rule_set.rules if r.id.endswith("." + short))


def _threshold(device, short):
    return _rule(rule_config.rule_set_of(Device.objects.get(pk=device.pk)),
                 short).conditions[0].threshold


@pytest.mark.parametrize("bad, words", [
    ({"rules": {"nope": {"threshold": 1}}}, "不存在的规则"),
    ({"rules": {"gas_low": {"thresholds": [10, 20]}}}, "阈值个数"),
    ({"rules": {"gas_low": {"for_seconds": 0}}}, "需要正的 for_seconds"),
    ({"rules": {"gas_low": {"threshold": "high"}}}, "应为数值"),
    ({"rules": {"gas_low": {"severity": "Terrible"}}}, "严重程度无效"),
    ({"rules": ["gas_low"]}, "rules 应为"),
    ({"colour": "red"}, "未知字段"),
    ({"expected_interval_s": -5}, "不能小于"),
    ({"extra_rules": [{"id": "x", "kind": "threshold", "severity": "Minor",
                       "conditions": [["volume", ">", 1]]}]}, "没有的指标"),
    ("not an object", "JSON 对象"),
])
def test_refused_kind_settings_change_nothing(tiny, district_officer, bad, words):
    make_device(tiny, "GAS-1", "gas_detector")
    rule_config.set_kind_settings("gas_detector", {"rules": {"gas_high": {"threshold": 30}}},
                                  user=district_officer)
    version = rule_config.rules_version()
    with pytest.raises(ValidationFailed) as err:
        rule_config.set_kind_settings("gas_detector", bad, user=district_officer)
    assert words in err.value.message
    row = KindRuleSettings.objects.get(kind="gas_detector")
    assert row.overrides == {"rules": {"gas_high": {"threshold": 30}}} and row.version == 1
    assert rule_config.rules_version() == version
    assert RuleChange.objects.count() == 1


def test_a_device_registered_with_malformed_overrides_is_refused(tiny):
    with pytest.raises(ValidationFailed) as err:
        make_device(tiny, "GAS-1", "gas_detector", overrides={"rules": ["gas_low"]})
    assert "rules" in err.value.message
    assert not Device.objects.exists() and not RuleChange.objects.exists()


def test_unknown_kind_is_refused(tiny, district_officer):
    with pytest.raises(ValidationFailed):
        rule_config.set_kind_settings("toaster", {}, user=district_officer)
    assert not KindRuleSettings.objects.exists()


def test_kind_setting_changes_its_devices_but_not_a_devices_own_override(tiny,
                                                                         district_officer):
    plain = make_device(tiny, "GAS-1", "gas_detector")
    own = make_device(tiny, "GAS-2", "gas_detector",
                      overrides={"rules": {"gas_low": {"threshold": 12}}})
    smoke = make_device(tiny, "SMK-1", "smoke_detector")
    assert _threshold(plain, "gas_low") == 10 and _threshold(own, "gas_low") == 12
    rule_config.set_kind_settings(
        "gas_detector", {"rules": {"gas_low": {"threshold": 15, "for_seconds": 90}}},
        user=district_officer)
    assert _threshold(plain, "gas_low") == 15
    assert _threshold(own, "gas_low") == 12  # the device's own threshold stays
    # ... but what the device does not set itself follows the kind
    own_rules = rule_config.rule_set_of(Device.objects.get(pk=own.pk))
    assert _rule(own_rules, "gas_low").for_seconds == 90
    assert _threshold(smoke, "heat") == 57  # another kind: untouched
    # a device may switch back on a rule its kind switched off
    rule_config.set_kind_settings("gas_detector", {"rules": {"gas_high": {"enabled": False}}},
                                  user=district_officer)
    rule_config.set_device_overrides(Device.objects.get(pk=own.pk),
                                     {"rules": {"gas_high": {"enabled": True}}},
                                     user=district_officer)
    ids = {r.id for r in rule_config.rule_set_of(Device.objects.get(pk=plain.pk)).rules}
    assert "gas_detector.gas_high" not in ids
    ids = {r.id for r in rule_config.rule_set_of(Device.objects.get(pk=own.pk)).rules}
    assert "gas_detector.gas_high" in ids


def test_every_change_is_audited_with_who_before_and_after(tiny, district_officer):
    device = make_device(tiny, "GAS-1", "gas_detector")
    v0 = rule_config.rules_version()
    rule_config.set_kind_settings("gas_detector", {"rules": {"gas_high": {"threshold": 30}}},
                                  user=district_officer, note="vendor advice")
    rule_config.set_kind_settings("gas_detector", {"rules": {"gas_high": {"threshold": 30}}},
                                  user=district_officer)  # the same again: no new version
    rule_config.set_device_overrides(device, {"expected_interval_s": 600},
                                     user=district_officer)
    rule_config.reset_kind_settings("gas_detector", user=district_officer)
    changes = list(RuleChange.objects.order_by("id"))
    assert [(c.target, c.before, c.after) for c in changes] == [
        ("kind", {}, {"rules": {"gas_high": {"threshold": 30}}}),
        ("device", {}, {"expected_interval_s": 600}),
        ("kind", {"rules": {"gas_high": {"threshold": 30}}}, {}),
    ]
    assert all(c.actor == district_officer for c in changes)
    assert changes[0].note == "vendor advice" and changes[1].device_code == "GAS-1"
    row = KindRuleSettings.objects.get(kind="gas_detector")
    assert row.version == 2 and row.overrides == {} and row.changed_by == district_officer
    assert rule_config.rules_version() == (v0[0] + 3, changes[-1].pk)


def test_an_edit_committed_late_with_a_lower_id_still_moves_the_version(tiny):
    """Ids are taken before commit: an edit may commit after a later one with a lower id."""
    late = RuleChange.objects.create(at=timezone.now(), target="kind", kind="gas_detector")
    RuleChange.objects.create(at=timezone.now(), target="kind", kind="smoke_detector")
    late.delete()  # as if the first edit had not committed yet
    seen = rule_config.rules_version()
    RuleChange.objects.create(pk=late.pk, at=timezone.now(), target="kind",
                              kind="gas_detector")  # ... and now it has
    assert rule_config.rules_version() != seen


def test_reimporting_a_device_with_new_overrides_is_logged(tiny):
    make_device(tiny, "GAS-1", "gas_detector")
    v0 = rule_config.rules_version()
    make_device(tiny, "GAS-1", "gas_detector")  # unchanged: nothing to tell the workers
    assert rule_config.rules_version() == v0
    make_device(tiny, "GAS-1", "gas_detector", expected_interval_s=600)
    change = RuleChange.objects.get()
    assert change.before["expected_interval_s"] is None
    assert change.after["expected_interval_s"] == 600


def test_who_may_edit(tiny, make_user, district_officer, officer):
    mine = make_device(tiny, "GAS-1", "gas_detector", where="S1N1C1")
    theirs = make_device(tiny, "GAS-2", "gas_detector", where="S2N1C1")
    staff = make_user("nb", "neighbourhood_staff", "310115001001")
    admin = make_user("root", "admin")
    assert rule_config.may_edit_kinds(district_officer) and rule_config.may_edit_kinds(admin)
    assert not rule_config.may_edit_kinds(officer)  # a subdistrict is not the district
    assert not rule_config.may_edit_kinds(staff)
    assert rule_config.may_edit_device(officer, mine)
    assert not rule_config.may_edit_device(officer, theirs)
    assert not rule_config.may_edit_device(staff, mine)
    with pytest.raises(Forbidden):
        rule_config.set_kind_settings("gas_detector", {}, user=officer)
    with pytest.raises(Forbidden):
        rule_config.set_device_overrides(mine, {"expected_interval_s": 60}, user=staff)
    assert not RuleChange.objects.exists()


def test_plain_words_for_each_kind_of_rule(tiny):
    views, _ = rule_config.rule_views("ebike_shed")
    text = {v.short: v.text for v in views}
    assert "60" in text["hot_and_loaded"] and "80" in text["hot_and_loaded"]
    assert "温度" in text["hot_and_loaded"] and "负载" in text["hot_and_loaded"]
    assert "8" in text["heat_rise"]
    assert "10 min" in text["overload"] or "10 分钟" in text["overload"]
    views, _ = rule_config.rule_views("water_meter", {"rules": {"no_water": {
        "absence_seconds": 6 * 3600}}})
    no_water = next(v for v in views if v.short == "no_water")
    assert no_water.changed and no_water.absence_hours == 6
    assert "6 h" in no_water.text or "6 小时" in no_water.text
    assert rule_config.duration(90) in ("90 s", "90 秒")


# --- a running pipeline picks up an edit ----------------------------------------------------

def test_threshold_edited_while_the_pipeline_runs_changes_the_next_alarm(tiny,
                                                                         district_officer):
    make_device(tiny, "SMK-1", "smoke_detector")
    make_device(tiny, "SMK-2", "smoke_detector", overrides={"rules": {"heat": {"threshold": 57}}})
    clock = Clock()
    p = Pipeline(clock=clock)
    p.warm()
    assert p.refresh_rules(every_s=0)  # the first call takes the current version
    assert not p.refresh_rules(every_s=0)  # nothing changed since: nothing re-derived
    p.process([message("SMK-1", clock.at(-60), {"temperature_c": 50}, msg_id="1"),
               message("SMK-2", clock.at(-60), {"temperature_c": 50}, msg_id="1")])
    assert not Alarm.objects.exists()
    state_before = p.devices["SMK-1"].state
    rule_config.set_kind_settings("smoke_detector", {"rules": {"heat": {"threshold": 45}}},
                                  user=district_officer)
    assert not p.refresh_rules(every_s=3600)  # read at most every every_s seconds
    assert p.refresh_rules(every_s=0)
    assert p.devices["SMK-1"].state is state_before  # engine state kept
    p.process([message("SMK-1", clock.at(-30), {"temperature_c": 50}, msg_id="2"),
               message("SMK-2", clock.at(-30), {"temperature_c": 50}, msg_id="2")])
    alarm = Alarm.objects.get()
    assert alarm.device.code == "SMK-1" and alarm.rule_id == "smoke_detector.heat"
    # a device's own override edited while running: SMK-2 now alarms at 48
    rule_config.set_device_overrides(Device.objects.get(code="SMK-2"),
                                     {"rules": {"heat": {"threshold": 48}}},
                                     user=district_officer)
    assert p.refresh_rules(every_s=0)
    p.process([message("SMK-2", clock.at(-20), {"temperature_c": 50}, msg_id="3")])
    assert Alarm.objects.filter(device__code="SMK-2", rule_id="smoke_detector.heat").exists()


# --- pages ----------------------------------------------------------------------------------

class _Form(HTMLParser):
    """The named fields of the first form with ``data-testid``, as a browser would post."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.inside, self.data = testid, False, {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[a["name"]] = a.get("value", "on")
            else:
                self.data[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a
                                                   or self._select not in self.data):
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.data[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _form(html: str, testid: str) -> dict[str, str]:
    f = _Form(testid)
    f.feed(html)
    return f.data


def test_rules_page_lists_every_kind_in_plain_words(tiny, make_user, client):
    make_device(tiny, "GAS-1", "gas_detector")
    client.force_login(make_user("nb", "neighbourhood_staff", "310115001001"))
    page = client.get("/sensors/rules/").content.decode()
    for kind in ("smoke_detector", "gas_detector", "ebike_shed", "water_meter"):
        assert f'data-kind="{kind}"' in page
    assert "可燃气体浓度不低于 10%LEL" in page  # the gas_low rule, in words
    assert 'name="r.' not in page  # read-only for a neighbourhood's staff
    r = client.get("/sensors/rules/", {"device": "GAS-1"})
    assert r.status_code == 302 and r["Location"].endswith("/sensors/devices/GAS-1/rules/")


def test_kind_form_round_trip_saves_only_what_changed(tiny, district_officer, client):
    client.force_login(district_officer)
    page = client.get("/sensors/rules/gas_detector/").content.decode()
    data = _form(page, "kind-rules-form")
    assert data["r.gas_low.t0"] == "10" and data["r.gas_low.severity"] == "Severe"
    r = client.post("/sensors/rules/gas_detector/", data)  # unchanged: nothing to save
    assert r.status_code == 302 and not RuleChange.objects.exists()
    data["r.gas_low.t0"] = "15"
    data["r.gas_high.absence_hours"] = "1"  # not on the form for a threshold rule: ignored
    data.pop("r.gas_high.enabled")  # unticked: switched off
    r = client.post("/sensors/rules/gas_detector/", data)
    assert r.status_code == 302
    assert KindRuleSettings.objects.get(kind="gas_detector").overrides == {
        "rules": {"gas_low": {"thresholds": [15.0]}, "gas_high": {"enabled": False}}}
    page = client.get("/sensors/rules/gas_detector/").content.decode()
    assert _form(page, "kind-rules-form")["r.gas_low.t0"] == "15"
    assert "duty-d" in page  # the history says who


def test_kind_form_refuses_bad_input_and_saves_nothing(tiny, district_officer, client):
    client.force_login(district_officer)
    data = _form(client.get("/sensors/rules/gas_detector/").content.decode(),
                 "kind-rules-form")
    for field, value, words in (("r.gas_low.t0", "lots", "应为数值"),
                                ("r.gas_low.for_seconds", "0", "for_seconds"),
                                ("extra_rules", "[{", "JSON"),
                                ("expected_interval_s", "-1", "上报间隔")):
        bad = dict(data, **{field: value})
        r = client.post("/sensors/rules/gas_detector/", bad)
        assert r.status_code == 400, field
        assert words in r.content.decode(), field
        if field == "r.gas_low.t0":
            assert 'value="lots"' in r.content.decode()  # the input is kept
    assert not KindRuleSettings.objects.exists() and not RuleChange.objects.exists()


def test_device_form_sets_the_devices_own_rules_and_reset(tiny, officer, client):
    device = make_device(tiny, "SHED-1", "ebike_shed")
    client.force_login(officer)
    data = _form(client.get("/sensors/devices/SHED-1/rules/").content.decode(),
                 "device-rules-form")
    assert data["r.hot_and_loaded.t0"] == "60" and data["r.hot_and_loaded.t1"] == "80"
    data["r.hot_and_loaded.t1"] = "70"
    assert client.post("/sensors/devices/SHED-1/rules/", data).status_code == 302
    device.refresh_from_db()
    assert device.overrides == {"rules": {"hot_and_loaded": {"thresholds": [60.0, 70.0]}}}
    assert client.post("/sensors/devices/SHED-1/rules/reset").status_code == 302
    device.refresh_from_db()
    assert device.overrides == {}
    assert RuleChange.objects.filter(device_code="SHED-1").count() == 2


def test_pages_refuse_who_may_not_edit(tiny, make_user, officer, client):
    make_device(tiny, "GAS-1", "gas_detector", where="S1N1C1")
    make_device(tiny, "GAS-2", "gas_detector", where="S2N1C1")
    post = {"r.gas_low.present": "1", "r.gas_low.enabled": "on", "r.gas_low.t0": "15",
            "r.gas_low.for_seconds": "30", "r.gas_low.hysteresis": "3",
            "r.gas_low.severity": "Severe"}
    client.force_login(officer)  # a subdistrict's duty officer
    page = client.get("/sensors/rules/gas_detector/").content.decode()
    assert 'name="r.gas_low.t0"' not in page  # read-only: the kind is district-wide
    assert client.post("/sensors/rules/gas_detector/", post).status_code == 403
    assert client.post("/sensors/rules/gas_detector/reset").status_code == 403
    assert client.post("/sensors/devices/GAS-2/rules/", post).status_code == 404  # not theirs
    assert client.post("/sensors/devices/GAS-1/rules/", post).status_code == 302  # theirs
    staff = make_user("nb", "neighbourhood_staff", "310115001001")
    client.force_login(staff)
    page = client.get("/sensors/devices/GAS-1/rules/").content.decode()
    assert "GAS-1" in page and 'name="r.gas_low.t0"' not in page
    assert client.post("/sensors/devices/GAS-1/rules/", post).status_code == 403
    assert client.post("/sensors/devices/GAS-1/rules/reset").status_code == 403
    client.force_login(make_user("dep", "deputy", "310115001"))
    assert client.get("/sensors/rules/").status_code == 403
    assert KindRuleSettings.objects.count() == 0
    assert Device.objects.get(code="GAS-1").overrides == {
        "rules": {"gas_low": {"thresholds": [15.0]}}}
    assert list(RuleChange.objects.values_list("device_code", flat=True)) == ["GAS-1"]


def test_api_override_edit_is_audited(tiny, officer, client):
    make_device(tiny, "GAS-1", "gas_detector")
    client.force_login(officer)
    r = client.put("/api/v1/sensors/devices/GAS-1/overrides",
                   data=json.dumps({"overrides": {"rules": {"gas_high": {"threshold": 30}}}}),
                   content_type="application/json")
    assert r.status_code == 200
    change = RuleChange.objects.get()
    assert change.actor == officer and change.after == {
        "rules": {"gas_high": {"threshold": 30}}}
