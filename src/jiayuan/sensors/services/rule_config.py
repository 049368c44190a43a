"""Rules staff edit: the district's settings per device kind and each device's overrides.

Three layers make the rules a device is judged by, each one's values winning over the one
before:

1. the catalogue's defaults (``data/device_kinds.json``, with their sources);
2. the district's settings of the kind (``KindRuleSettings.overrides``);
3. the device's own ``overrides`` (and its ``expected_interval_s`` column).

Layers 2 and 3 have the same shape (``{"expected_interval_s", "rules", "extra_rules"}``, see
``catalogue.rule_set_for``); ``merge_overrides`` lays 3 over 2 and the pure catalogue code
checks the result, so a setting the rules code refuses (``RuleConfigError``) is never saved.
Every change appends a ``RuleChange`` (who, when, before, after); the highest id of that log is
the *rules version* a running ingest worker polls (``rules_version``, one indexed aggregate)
to re-derive its cached rule sets without a restart (``Pipeline.refresh_rules``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import Forbidden, ValidationFailed
from jiayuan.registry.selectors import the_district
from jiayuan.sensors.models import CAMERA_KIND, Device, KindRuleSettings, RuleChange
from jiayuan.sensors.rules.catalogue import load_device_kinds, rule_set_for
from jiayuan.sensors.rules.model import (
    DeviceKind,
    MetricSpec,
    Op,
    Rule,
    RuleConfigError,
    RuleKind,
    RuleSet,
    Severity,
)

log = logging.getLogger(__name__)

TOP_KEYS = ("expected_interval_s", "rules", "extra_rules")
PARAM_KEYS = ("enabled", "thresholds", "hysteresis", "for_seconds", "absence_seconds",
              "severity")
MAX_INTERVAL_S = 30 * 86400
MAX_SECONDS = 30 * 86400


# --- the version the workers poll -------------------------------------------------------------

def rules_version() -> tuple[int, int]:
    """The current rules version: (number of ``RuleChange`` rows, highest id); (0, 0) before
    any. One aggregate over an append-only table of human edits, cheap enough to poll every
    few seconds. The count is there because ids are handed out before commit: an edit that
    commits after a later one has a lower id, but it still moves the count."""
    row = RuleChange.objects.aggregate(n=Count("id"), v=Max("id"))
    return int(row["n"] or 0), int(row["v"] or 0)


# --- merging the layers -----------------------------------------------------------------------

def check_shape(overrides: Any, what: str = "规则设置") -> dict[str, Any]:
    """Refuse anything that is not an override object of the documented shape (the values
    themselves are checked by the catalogue code)."""
    if not isinstance(overrides, dict):
        raise ValidationFailed(f"{what}应为 JSON 对象", details={"overrides": ["格式有误"]})
    unknown = set(overrides) - set(TOP_KEYS)
    if unknown:
        raise ValidationFailed(f"{what}含未知字段：{', '.join(sorted(map(str, unknown)))}",
                               details={"overrides": sorted(map(str, unknown))})
    rules = overrides.get("rules", {})
    if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
        raise ValidationFailed(f"{what}的 rules 应为“规则 → 设置”的对象",
                               details={"rules": ["格式有误"]})
    extra = overrides.get("extra_rules", [])
    if not isinstance(extra, list) or not all(isinstance(v, dict) for v in extra):
        raise ValidationFailed(f"{what}的 extra_rules 应为规则对象的列表",
                               details={"extra_rules": ["格式有误"]})
    return overrides


def merge_overrides(kind: Mapping[str, Any] | None,
                    device: Mapping[str, Any] | None) -> dict[str, Any]:
    """The device's overrides laid over the kind's settings: a value the device sets wins,
    the rest comes from the kind. A device's threshold(s) replace the kind's; a device's extra
    rule replaces the kind's extra rule of the same id."""
    kind, device = dict(kind or {}), dict(device or {})
    for layer in (kind, device):
        rules, extra = layer.get("rules") or {}, layer.get("extra_rules") or []
        if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
            raise RuleConfigError("规则覆盖配置的 rules 应为“规则 → 设置”的对象")
        if not isinstance(extra, list) or not all(isinstance(v, dict) for v in extra):
            raise RuleConfigError("规则覆盖配置的 extra_rules 应为规则对象的列表")
    out: dict[str, Any] = {k: v for k, v in kind.items() if k not in TOP_KEYS}
    out.update({k: v for k, v in device.items() if k not in TOP_KEYS})  # refused later
    if "expected_interval_s" in device:
        out["expected_interval_s"] = device["expected_interval_s"]
    elif "expected_interval_s" in kind:
        out["expected_interval_s"] = kind["expected_interval_s"]
    k_rules, d_rules = kind.get("rules") or {}, device.get("rules") or {}
    rules: dict[str, Any] = {}
    for short in [*k_rules, *(s for s in d_rules if s not in k_rules)]:
        below = dict(k_rules.get(short) or {})
        mine = dict(d_rules.get(short) or {})
        if "threshold" in mine or "thresholds" in mine:
            below.pop("threshold", None)
            below.pop("thresholds", None)
        rules[short] = {**below, **mine}
    if rules:
        out["rules"] = rules
    d_extra = list(device.get("extra_rules") or [])
    mine_ids = {r.get("id") for r in d_extra}
    extra = [r for r in kind.get("extra_rules") or [] if r.get("id") not in mine_ids] + d_extra
    if extra:
        out["extra_rules"] = extra
    return out


def kind_settings(kind: str) -> dict[str, Any]:
    """The district's settings of ``kind`` ({} when it follows the catalogue)."""
    row = KindRuleSettings.objects.filter(kind=kind).only("overrides").first()
    return dict(row.overrides or {}) if row else {}


def device_overrides(device: Device) -> dict[str, Any]:
    """The device's own layer: its overrides, plus its ``expected_interval_s`` column."""
    own = dict(device.overrides or {})
    if device.expected_interval_s:
        own.setdefault("expected_interval_s", device.expected_interval_s)
    return own


def rule_set_of(device: Device, *, kind_overrides: Mapping[str, Any] | None = None,
                ) -> RuleSet | None:
    """The effective rules of a device: catalogue, kind settings, device overrides (None for
    a video channel). ``kind_overrides`` saves the lookup when the caller has them."""
    from jiayuan.sensors.services.devices import parse_windows

    if device.kind == CAMERA_KIND:
        return None
    if kind_overrides is None:
        kind_overrides = kind_settings(device.kind)
    return rule_set_for(device.kind, merge_overrides(kind_overrides, device_overrides(device)),
                        maintenance=parse_windows(device.maintenance_windows))


def rule_sets_by_code(codes: Iterable[str]) -> dict[str, RuleSet | None]:
    """The effective rules of many active devices at once (a worker re-deriving its cache):
    the kind settings are read once, equal configurations share one ``RuleSet``, and only
    the columns the rules depend on are read. A device whose rows the rules code refuses is
    left out (and logged): it keeps what it had."""
    settings = {s.kind: dict(s.overrides or {}) for s in KindRuleSettings.objects.all()}
    shared: dict[str, RuleSet | None] = {}
    out: dict[str, RuleSet | None] = {}
    codes = list(codes)
    for i in range(0, len(codes), 5000):
        rows = Device.objects.filter(code__in=codes[i:i + 5000], active=True).values_list(
            "code", "kind", "overrides", "expected_interval_s", "maintenance_windows")
        for code, kind, overrides, interval, windows in rows:
            key = (f"{kind}|{interval}|" if not overrides and not windows else
                   json.dumps([kind, overrides, interval, windows], sort_keys=True,
                              default=str))
            if key not in shared:
                probe = Device(code=code, kind=kind, overrides=overrides,
                               expected_interval_s=interval, maintenance_windows=windows)
                try:
                    shared[key] = rule_set_of(probe, kind_overrides=settings.get(kind, {}))
                except Exception:  # noqa: BLE001 - a bad row must not stop ingest
                    log.exception("device %s has an unusable rule configuration", code)
                    continue
            out[code] = shared[key]
    return out


# --- who may edit -----------------------------------------------------------------------------

def may_edit_kinds(user: Any) -> bool:
    """The kind settings hold for the whole district: only device editors (duty officers,
    administrators) whose area is the whole district may change them."""
    from jiayuan.sensors.selectors import is_editor

    if not is_editor(user):
        return False
    scope = scope_for(user)
    if scope.everywhere:
        return True
    path = _district_path()
    return bool(path) and scope.covers(path)


def may_edit_device(user: Any, device: Device) -> bool:
    """Device editors whose area holds the device."""
    from jiayuan.sensors.selectors import is_editor

    return is_editor(user) and scope_for(user).covers(device.path)


def require_edit_kinds(user: Any) -> None:
    if not may_edit_kinds(user):
        raise Forbidden("只有全区范围的值班长或管理员可以修改设备类型的规则")


def require_edit_device(user: Any, device: Device) -> None:
    from jiayuan.sensors.selectors import require_editor

    require_editor(user)
    scope_for(user).require(device.path)


# --- the writes -------------------------------------------------------------------------------

def _refused(exc: RuleConfigError) -> ValidationFailed:
    return ValidationFailed(f"规则覆盖配置有误：{exc.message}",
                            details={"overrides": [exc.message]})


def _devices_broken_by(kind: str, kind_overrides: Mapping[str, Any]) -> list[str]:
    """Devices of ``kind`` whose own overrides would no longer fit over the new settings."""
    broken: list[str] = []
    seen: dict[str, bool] = {}
    for d in Device.objects.filter(kind=kind).only(
            "code", "kind", "overrides", "expected_interval_s", "maintenance_windows"
    ).iterator(chunk_size=2000):
        if not d.overrides and not d.expected_interval_s:
            continue
        key = json.dumps([d.overrides, d.expected_interval_s], sort_keys=True)
        if key not in seen:
            try:
                rule_set_for(kind, merge_overrides(kind_overrides, device_overrides(d)))
                seen[key] = True
            except RuleConfigError:
                seen[key] = False
        if not seen[key]:
            broken.append(d.code)
    return broken


def _log(*, actor: Any, target: str, kind: str, before: Any, after: Any, device: Any = None,
         note: str = "") -> RuleChange:
    return RuleChange.objects.create(
        at=timezone.now(), actor=actor if getattr(actor, "pk", None) else None, target=target,
        kind=kind, device_code=device.code if device is not None else "", before=before,
        after=after, note=note[:200],
        path=device.path if device is not None else _district_path())


def _district_path() -> str:
    district = the_district()
    return district.path if district else ""


@transaction.atomic
def set_kind_settings(kind: str, overrides: Any, *, user: Any, note: str = "",
                      ) -> KindRuleSettings:
    """Save the district's settings of ``kind``. Refuses (nothing saved) a user who may not
    edit them, an unknown kind, settings the rules code refuses, and settings under which a
    device's own overrides would no longer fit (those devices are named). Audited."""
    if user is not None:
        require_edit_kinds(user)
    if kind not in load_device_kinds():
        raise ValidationFailed(f"未知的设备类型“{kind}”", details={"kind": [kind]})
    overrides = check_shape(overrides)
    try:
        rule_set_for(kind, overrides)
    except RuleConfigError as exc:
        raise _refused(exc) from None
    broken = _devices_broken_by(kind, overrides)
    if broken:
        raise ValidationFailed(
            f"有 {len(broken)} 台设备的单独设置与新设置冲突，请先调整这些设备："
            f"{'、'.join(broken[:10])}", details={"devices": broken[:100]})
    row, _created = KindRuleSettings.objects.select_for_update().get_or_create(kind=kind)
    before = dict(row.overrides or {})
    if before == overrides:
        return row
    row.overrides = overrides
    row.version += 1
    row.changed_by = user if getattr(user, "pk", None) else None
    row.changed_at = timezone.now()
    row.save(update_fields=["overrides", "version", "changed_by", "changed_at"])
    _log(actor=user, target=RuleChange.Target.KIND, kind=kind, before=before, after=overrides,
         note=note)
    return row


def reset_kind_settings(kind: str, *, user: Any) -> KindRuleSettings:
    """Back to the catalogue's defaults (audited like any change)."""
    return set_kind_settings(kind, {}, user=user, note="恢复默认")


@transaction.atomic
def set_device_overrides(device: Device, overrides: Any, *, user: Any,
                         note: str = "") -> Device:
    """Save a device's own overrides. Refuses (nothing saved) a user who may not edit the
    device and overrides the rules code refuses over the kind's settings. Audited."""
    if user is not None:
        require_edit_device(user, device)
    overrides = check_shape(overrides, "规则覆盖配置")
    probe = Device(kind=device.kind, overrides=overrides,
                   expected_interval_s=device.expected_interval_s,
                   maintenance_windows=device.maintenance_windows)
    try:
        rule_set_of(probe)
    except RuleConfigError as exc:
        raise _refused(exc) from None
    device = Device.objects.select_for_update().get(pk=device.pk)
    before = dict(device.overrides or {})
    if before == overrides:
        return device
    device.overrides = overrides
    device.save(update_fields=["overrides", "updated_at"])
    _log(actor=user, target=RuleChange.Target.DEVICE, kind=device.kind, device=device,
         before=before, after=overrides, note=note)
    return device


def reset_device_overrides(device: Device, *, user: Any) -> Device:
    return set_device_overrides(device, {}, user=user, note="恢复默认")


def log_device_change(device: Device, *, user: Any, before: Mapping[str, Any],
                      after: Mapping[str, Any], note: str) -> None:
    """For ``register_device``: an existing device's rule inputs changed by a (re)import."""
    _log(actor=user, target=RuleChange.Target.DEVICE, kind=device.kind, device=device,
         before=dict(before), after=dict(after), note=note)


# --- plain words --------------------------------------------------------------------------------

def _n(x: float) -> str:
    """A number as staff write it: no exponent, no trailing ".0"."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.10f}".rstrip("0").rstrip(".")


number_text = _n


def duration(seconds: float) -> str:
    """``43200`` → "12 小时" (translated), the largest whole unit."""
    s = float(seconds)
    if s >= 3600 and s % 3600 == 0:
        return _("%(n)s h") % {"n": _n(s / 3600)}
    if s >= 60 and s % 60 == 0:
        return _("%(n)s min") % {"n": _n(s / 60)}
    if s >= 3600:
        return _("%(n)s h") % {"n": f"{s / 3600:.2f}".rstrip("0").rstrip(".")}
    return _("%(n)s s") % {"n": _n(s)}


def _cond(rule: Rule, metrics: Mapping[str, MetricSpec], i: int = 0) -> str:
    c = rule.conditions[i]
    m = metrics.get(c.metric)
    return c.describe_zh(m.label if m else c.metric, m.unit if m else "")


def describe_rule(rule: Rule, metrics: Mapping[str, MetricSpec]) -> str:
    """One rule in plain words: when it raises, for how long, how it clears."""
    if rule.kind is RuleKind.ABSENCE:
        activity = _(" or ").join(_cond(rule, metrics, i) for i in range(len(rule.conditions)))
        text = _("Alarm when there is no activity (%(activity)s) for %(duration)s") % {
            "activity": activity, "duration": duration(rule.absence_seconds)}
        return text
    if rule.kind is RuleKind.RATE:
        c = rule.conditions[0]
        m = metrics.get(c.metric)
        label, unit = (m.label, m.unit) if m else (c.metric, "")
        if c.op in (Op.LT, Op.LE):
            text = _("Alarm when %(metric)s falls by more than %(limit)s%(unit)s a minute") % {
                "metric": label, "limit": _n(abs(c.threshold)), "unit": unit}
        else:
            text = _("Alarm when %(metric)s rises by more than %(limit)s%(unit)s a minute") % {
                "metric": label, "limit": _n(c.threshold), "unit": unit}
    elif rule.kind is RuleKind.COMPOSITE:
        joiner = _(" and ") if rule.combine == "all" else _(" or ")
        text = _("Alarm when %(condition)s") % {
            "condition": joiner.join(_cond(rule, metrics, i)
                                     for i in range(len(rule.conditions)))}
    else:
        text = _("Alarm when %(condition)s") % {"condition": _cond(rule, metrics)}
    if rule.for_seconds:
        text += _(", held for %(duration)s") % {"duration": duration(rule.for_seconds)}
    if rule.hysteresis:
        c = rule.conditions[0]
        m = metrics.get(c.metric)
        text += _("; clears once %(h)s%(unit)s back past the threshold") % {
            "h": _n(rule.hysteresis), "unit": m.unit if m else ""}
    return text


SEVERITY_LABELS = {Severity.EXTREME: "特别严重", Severity.SEVERE: "严重",
                   Severity.MODERATE: "中等", Severity.MINOR: "轻微", Severity.UNKNOWN: "未知"}


@dataclass
class RuleView:
    """One catalogue rule as a page shows and edits it, at some layer."""

    short: str
    title: str
    kind: str
    enabled: bool
    severity: str
    conditions: list[dict[str, Any]]  # metric label, op, unit, threshold, editable
    hysteresis: float
    for_seconds: float
    absence_hours: float
    text: str  # plain words ("" when disabled)
    source: str
    changed: bool  # differs from the layer below
    extra: bool = False
    # what the edit form shows: the values as text (or, after a refused post, the input)
    form: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.form:
            self.form = {"hysteresis": _n(self.hysteresis), "for_seconds": _n(self.for_seconds),
                         "absence_hours": _n(self.absence_hours)}
            for i, c in enumerate(self.conditions):
                c["value"] = _n(c["threshold"])
                self.form[f"t{i}"] = c["value"]

    def keep_input(self, data: Mapping[str, Any]) -> None:
        """Show what was posted (a refused form keeps the user's input)."""
        prefix = f"r.{self.short}."
        if f"{prefix}present" not in data:
            return
        self.enabled = f"{prefix}enabled" in data
        self.severity = str(data.get(f"{prefix}severity", self.severity))
        for key in list(self.form):
            if f"{prefix}{key}" in data:
                self.form[key] = str(data[f"{prefix}{key}"])[:40]
        for i, c in enumerate(self.conditions):
            c["value"] = self.form.get(f"t{i}", c["value"])


def _params(rule: Rule) -> dict[str, Any]:
    return {"enabled": True, "thresholds": [c.threshold for c in rule.conditions],
            "hysteresis": rule.hysteresis, "for_seconds": rule.for_seconds,
            "absence_seconds": rule.absence_seconds, "severity": str(rule.severity)}


def _apply(params: dict[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key, value in raw.items():
        if key == "threshold":
            out["thresholds"] = [value]
        elif key in out:
            out[key] = value
    return out


def device_kind(kind: str) -> DeviceKind:
    """The catalogue's device kind ``kind``; an unknown one is NotFound."""
    kinds = load_device_kinds()
    if kind not in kinds:
        from jiayuan.core.errors import NotFound

        raise NotFound("未知的设备类型")
    return kinds[kind]


def layered_params(kind: str, *layers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per catalogue rule (short id): its parameters after the given override layers."""
    out: dict[str, dict[str, Any]] = {}
    for rule in device_kind(kind).rules:
        short = rule.id.split(".", 1)[1]
        p = _params(rule)
        for layer in layers:
            raw = (layer.get("rules") or {}).get(short)
            if raw:
                p = _apply(p, raw)
        out[short] = p
    return out


def rule_views(kind: str, *layers: Mapping[str, Any]) -> tuple[list[RuleView], RuleSet]:
    """The rules of ``kind`` after ``layers`` (kind settings, then a device's), in plain
    words, each marked when the last layer changed it; disabled rules are listed too."""
    dk = device_kind(kind)
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge_overrides(merged, layer)
    rs = rule_set_for(kind, merged)
    by_id = {r.id: r for r in rs.rules}
    below = layered_params(kind, *layers[:-1]) if layers else layered_params(kind)
    now = layered_params(kind, *layers)
    views: list[RuleView] = []
    for rule in dk.rules:
        short = rule.id.split(".", 1)[1]
        p = now[short]
        effective = by_id.get(rule.id)
        views.append(RuleView(
            short=short, title=rule.title, kind=str(rule.kind), enabled=effective is not None,
            severity=p["severity"],
            conditions=[{"label": (rs.metrics[c.metric].label if c.metric in rs.metrics
                                   else c.metric),
                         "unit": rs.metrics[c.metric].unit if c.metric in rs.metrics else "",
                         "op": str(c.op), "threshold": p["thresholds"][i],
                         "editable": c.op is not Op.EQ}
                        for i, c in enumerate(rule.conditions)],
            hysteresis=p["hysteresis"], for_seconds=p["for_seconds"],
            absence_hours=p["absence_seconds"] / 3600,
            text=describe_rule(effective, rs.metrics) if effective else "",
            source=rule.source, changed=bool(layers) and p != below[short]))
    for r in rs.rules:
        if r.id.split(".", 1)[1] not in now:
            views.append(RuleView(
                short=r.id.split(".", 1)[1], title=r.title, kind=str(r.kind), enabled=True,
                severity=str(r.severity), conditions=[], hysteresis=r.hysteresis,
                for_seconds=r.for_seconds, absence_hours=r.absence_seconds / 3600,
                text=describe_rule(r, rs.metrics), source=r.source, changed=False,
                extra=True))
    return views, rs


# --- the edit form → overrides ------------------------------------------------------------------

def _number(data: Mapping[str, Any], name: str, label: str) -> float:
    raw = str(data.get(name, "")).strip()
    if not raw:
        raise ValidationFailed(f"请填写{label}", details={name: ["必填"]})
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed(f"{label}应为数值：{raw[:20]}", details={name: [raw[:20]]}) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationFailed(f"{label}应为有限数值", details={name: [raw[:20]]})
    return value


def overrides_from_form(kind: str, data: Mapping[str, Any],
                        below: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Turn the rules form (``r.<rule>.enabled``, ``r.<rule>.t<i>``, ``.hysteresis``,
    ``.for_seconds``, ``.absence_hours``, ``.severity``, ``expected_interval_s``,
    ``extra_rules`` JSON) into an override layer holding only what differs from the layers
    ``below`` (for a device: the kind's settings), so the rest keeps following them.
    Refuses unreadable numbers with the field's name; the values are checked afterwards by
    the service, through the rules code."""
    below = list(below)
    dk = device_kind(kind)
    base = layered_params(kind, *below)
    rules: dict[str, Any] = {}
    for rule in dk.rules:
        short = rule.id.split(".", 1)[1]
        b = base[short]
        prefix = f"r.{short}."
        if f"{prefix}present" not in data:
            continue  # not on the form: keep following the layers below
        mine: dict[str, Any] = {}
        enabled = data.get(f"{prefix}enabled") in ("on", "1", "true", True)
        if enabled != b["enabled"]:
            mine["enabled"] = enabled
        thresholds = list(b["thresholds"])
        for i, c in enumerate(rule.conditions):
            if c.op is not Op.EQ and f"{prefix}t{i}" in data:
                thresholds[i] = _number(data, f"{prefix}t{i}", f"“{rule.title}”的阈值")
        if thresholds != b["thresholds"]:
            mine["thresholds"] = thresholds
        absence = rule.kind is RuleKind.ABSENCE  # the fields the form shows for the kind
        for key, label in (("hysteresis", "回差"), ("for_seconds", "持续秒数")):
            if not absence and f"{prefix}{key}" in data:
                v = _number(data, f"{prefix}{key}", f"“{rule.title}”的{label}")
                if v != b[key]:
                    mine[key] = v
        if absence and f"{prefix}absence_hours" in data:
            v = _number(data, f"{prefix}absence_hours", f"“{rule.title}”的无活动小时数") * 3600
            if abs(v - b["absence_seconds"]) > 1e-6:
                mine["absence_seconds"] = round(v, 3)
        sev = str(data.get(f"{prefix}severity", b["severity"]))
        if sev not in {s.value for s in Severity}:
            raise ValidationFailed(f"“{rule.title}”的严重程度无效", details={"severity": [sev]})
        if sev != b["severity"]:
            mine["severity"] = sev
        if mine:
            rules[short] = mine
    out: dict[str, Any] = {}
    interval_raw = str(data.get("expected_interval_s", "")).strip()
    if interval_raw:
        interval = _number(data, "expected_interval_s", "上报间隔秒数")
        if interval <= 0 or interval > MAX_INTERVAL_S:
            raise ValidationFailed("上报间隔应为 1 秒到 30 天之间",
                                   details={"expected_interval_s": [interval_raw]})
        below_interval = next((lay["expected_interval_s"] for lay in reversed(below)
                               if "expected_interval_s" in lay), dk.expected_interval_s)
        if interval != below_interval:
            out["expected_interval_s"] = int(interval) if interval.is_integer() else interval
    if rules:
        out["rules"] = rules
    extra_raw = str(data.get("extra_rules", "")).strip()
    if extra_raw:
        try:
            extra = json.loads(extra_raw)
        except ValueError:
            raise ValidationFailed("附加规则应为 JSON 列表", details={"extra_rules": ["格式有误"]}) \
                from None
        if extra:
            out["extra_rules"] = extra
    return check_shape(out)
