"""MQTT topic scheme and JSON payload of sensor readings; parsing at the edge.

Topic: ``jiayuan/<district>/devices/<device_code>/readings`` where ``district`` is the
district's code (digits) and ``device_code`` is ``[A-Za-z0-9_.-]{1,64}``. Payload (UTF-8
JSON object, at most ``MAX_PAYLOAD_BYTES``)::

    {"device": "SMK-0001",            # must equal the topic's device_code
     "msg_id": "a1b2c3",              # optional; the idempotency key uses it when present
     "ts": "2026-11-23T10:15:00+08:00",   # ISO-8601 with offset, or epoch milliseconds
     "metrics": {"smoke": true, "temperature_c": 24.5},
     "battery": 87, "rssi": -71}      # optional, percent and dBm

Pure: no Django, no clock of its own (``now`` is passed). Every refusal is a
``MalformedMessage`` with a stable ``reason`` and a Chinese message; nothing is half-parsed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jiayuan.core.errors import ValidationFailed

TOPIC_PREFIX = "jiayuan"
TOPIC_FILTER = "jiayuan/+/devices/+/readings"
SHARED_TOPIC_FILTER = "$share/ingest/" + TOPIC_FILTER
MAX_PAYLOAD_BYTES = 4096
MAX_METRICS = 32
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)

_DEVICE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_DISTRICT_RE = re.compile(r"[0-9]{6}")
_METRIC_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_MSG_ID_RE = re.compile(r"[\x21-\x7e]{1,64}")


class MalformedMessage(ValidationFailed):
    """A message the ingest worker refuses. ``reason`` is stable (see REASONS)."""

    code = "malformed_message"
    default_message = "设备消息格式有误"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message, details={"reason": reason})


REASONS = (
    "topic_invalid", "payload_too_large", "not_utf8", "not_json", "not_object",
    "missing_field", "wrong_type", "not_finite", "timestamp_invalid", "timestamp_future",
    "timestamp_past", "device_mismatch", "metrics_invalid",
)

Value = float | bool


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted reading. ``ts`` is timezone-aware; ``epoch`` is the same in seconds."""

    district: str
    device_code: str
    message_id: str | None
    ts: datetime
    metrics: Mapping[str, Value]
    battery: float | None = None
    rssi: float | None = None
    key: str = ""  # idempotency key; computed when left empty
    epoch: float = 0.0  # ts in epoch seconds; computed

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("Reading.ts must be timezone-aware")
        object.__setattr__(self, "epoch", self.ts.timestamp())
        if not self.key:
            key = idempotency_key(self.device_code, self.message_id, self.ts, self.metrics)
            object.__setattr__(self, "key", key)


def idempotency_key(
    device_code: str, message_id: str | None, ts: datetime, metrics: Mapping[str, Value]
) -> str:
    """Stable across processes (no ``hash()``), independent of metric order."""
    if message_id is not None:
        return f"{device_code}:{message_id}"
    ms = round(ts.timestamp() * 1000)
    body = json.dumps(sorted(metrics.items()), separators=(",", ":"))
    digest = hashlib.sha256(f"{device_code}|{ms}|{body}".encode()).hexdigest()[:20]
    return f"{device_code}:#{digest}"


def topic_for(district: str, device_code: str) -> str:
    """The topic a device publishes its readings on."""
    return f"{TOPIC_PREFIX}/{district}/devices/{device_code}/readings"


def parse_topic(topic: str) -> tuple[str, str]:
    """Return (district, device_code) of a readings topic; refuse any other topic."""
    parts = topic.split("/")
    if (
        len(parts) != 5
        or parts[0] != TOPIC_PREFIX
        or parts[2] != "devices"
        or parts[4] != "readings"
        or not _DISTRICT_RE.fullmatch(parts[1])
        or not _DEVICE_RE.fullmatch(parts[3])
    ):
        raise MalformedMessage("topic_invalid", f"主题格式有误：{topic[:120]}")
    return parts[1], parts[3]


def _number(name: str, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise MalformedMessage("wrong_type", f"字段 {name} 应为数值")
    try:
        value = float(raw)
    except OverflowError:
        raise MalformedMessage("not_finite", f"字段 {name} 数值过大") from None
    if not math.isfinite(value):
        raise MalformedMessage("not_finite", f"字段 {name} 不是有限数值")
    return value


def _reject_constant(token: str) -> float:
    raise MalformedMessage("not_finite", f"消息含非有限数值 {token}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _timestamp(raw: Any, now: datetime) -> datetime:
    if isinstance(raw, bool):
        raise MalformedMessage("wrong_type", "字段 ts 应为 ISO-8601 字符串或毫秒时间戳")
    if isinstance(raw, int):
        try:
            ts = datetime.fromtimestamp(raw / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedMessage("timestamp_invalid", "时间戳超出范围") from None
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise MalformedMessage("timestamp_invalid", "时间格式有误，应为 ISO-8601") from None
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise MalformedMessage("timestamp_invalid", "时间缺少时区偏移")
    else:
        raise MalformedMessage("wrong_type", "字段 ts 应为 ISO-8601 字符串或毫秒时间戳")
    if ts - now > MAX_FUTURE:
        raise MalformedMessage("timestamp_future", "时间晚于当前时间过多，设备时钟可能有误")
    if now - ts > MAX_PAST:
        raise MalformedMessage("timestamp_past", "时间早于当前时间过多，消息已过期")
    return ts


def parse_message(topic: str, payload: bytes, *, now: datetime) -> Reading:
    """Parse one MQTT message into a ``Reading``.

    Refuses (``MalformedMessage.reason``): a topic outside the scheme, a payload over
    ``MAX_PAYLOAD_BYTES``, bytes that are not UTF-8, text that is not JSON or not an object,
    a missing ``device``/``ts``/``metrics``, wrong types, NaN or infinities, a timestamp
    without offset or more than ``MAX_FUTURE`` ahead of / ``MAX_PAST`` behind ``now``, a
    device code that differs from the topic's, and empty, oversized or badly named metrics.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    district, device_code = parse_topic(topic)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MalformedMessage("payload_too_large", f"消息超过 {MAX_PAYLOAD_BYTES} 字节")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("not_utf8", "消息不是 UTF-8 编码") from None
    try:
        body = _DECODER.decode(text)
    except MalformedMessage:
        raise
    except (ValueError, RecursionError):
        raise MalformedMessage("not_json", "消息不是合法的 JSON") from None
    return _reading(district, device_code, body, now)


def _reading(district: str, device_code: str | None, body: Any, now: datetime) -> Reading:
    """Validate one decoded reading object. ``device_code`` is the topic's device (a
    device topic) or None (an element of a gateway message: the body names the device)."""
    if not isinstance(body, dict):
        raise MalformedMessage("not_object", "消息应为 JSON 对象")
    for name in ("device", "ts", "metrics"):
        if name not in body:
            raise MalformedMessage("missing_field", f"缺少字段 {name}")
    device = body["device"]
    if not isinstance(device, str):
        raise MalformedMessage("wrong_type", "字段 device 应为字符串")
    if device_code is None:
        if not _DEVICE_RE.fullmatch(device):
            raise MalformedMessage("wrong_type", "字段 device 应为 1–64 个字母、数字或 _.-")
        device_code = device
    elif device != device_code:
        raise MalformedMessage("device_mismatch", "消息中的设备编码与主题不一致")
    message_id = body.get("msg_id")
    if message_id is not None:
        if isinstance(message_id, bool) or not isinstance(message_id, str | int):
            raise MalformedMessage("wrong_type", "字段 msg_id 应为字符串或整数")
        message_id = str(message_id)
        if not _MSG_ID_RE.fullmatch(message_id):
            raise MalformedMessage("wrong_type", "字段 msg_id 应为 1–64 个可见 ASCII 字符")
    ts = _timestamp(body["ts"], now)
    raw_metrics = body["metrics"]
    if not isinstance(raw_metrics, dict):
        raise MalformedMessage("wrong_type", "字段 metrics 应为对象")
    if not raw_metrics or len(raw_metrics) > MAX_METRICS:
        raise MalformedMessage("metrics_invalid", f"metrics 应有 1–{MAX_METRICS} 项")
    metrics: dict[str, Value] = {}
    for name, raw in raw_metrics.items():
        if not _METRIC_RE.fullmatch(name):
            raise MalformedMessage("metrics_invalid", f"指标名不合规：{name[:40]}")
        metrics[name] = raw if isinstance(raw, bool) else _number(f"metrics.{name}", raw)
    battery = body.get("battery")
    rssi = body.get("rssi")
    return Reading(
        district=district,
        device_code=device_code,
        message_id=message_id,
        ts=ts,
        metrics=metrics,
        battery=None if battery is None else _number("battery", battery),
        rssi=None if rssi is None else _number("rssi", rssi),
    )


def encode_payload(reading: Reading) -> bytes:
    """The inverse of ``parse_message`` for the payload (demo replay, tests)."""
    body: dict[str, Any] = {"device": reading.device_code, "ts": reading.ts.isoformat(),
                            "metrics": dict(reading.metrics)}
    if reading.message_id is not None:
        body["msg_id"] = reading.message_id
    if reading.battery is not None:
        body["battery"] = reading.battery
    if reading.rssi is not None:
        body["rssi"] = reading.rssi
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- gateways: several readings in one message ---------------------------------------------------
#
# A gateway (a LoRa/NB-IoT concentrator, a vendor's cloud) may forward the readings of many
# devices in one message on ``jiayuan/<district>/gateways/<gateway_code>/readings``:
#
#     {"gateway": "GW-01", "readings": [{"device": ..., "msg_id": ..., "ts": ...,
#                                         "metrics": {...}}, ...]}
#
# Each element is judged like a device message (same fields, same refusals, the element's
# ``device`` names the device); a bad element is refused alone, the others are kept.

GATEWAY_TOPIC_FILTER = TOPIC_PREFIX + "/+/gateways/+/readings"
MAX_GATEWAY_PAYLOAD_BYTES = 512 * 1024
MAX_GATEWAY_READINGS = 1000


def gateway_topic_for(district: str, gateway_code: str) -> str:
    return f"{TOPIC_PREFIX}/{district}/gateways/{gateway_code}/readings"


def is_gateway_topic(topic: str) -> bool:
    parts = topic.split("/")
    return len(parts) == 5 and parts[2] == "gateways"


def parse_gateway_topic(topic: str) -> tuple[str, str]:
    parts = topic.split("/")
    if (
        len(parts) != 5
        or parts[0] != TOPIC_PREFIX
        or parts[2] != "gateways"
        or parts[4] != "readings"
        or not _DISTRICT_RE.fullmatch(parts[1])
        or not _DEVICE_RE.fullmatch(parts[3])
    ):
        raise MalformedMessage("topic_invalid", f"主题格式有误：{topic[:120]}")
    return parts[1], parts[3]


def parse_gateway_message(
    topic: str, payload: bytes, *, now: datetime, loads: Any = None
) -> tuple[list[Reading], list[tuple[int, Any, MalformedMessage]]]:
    """Parse a gateway message into (readings, refused elements as (index, element, error)).

    Refuses the whole message (``MalformedMessage``) for a bad topic, a payload over
    ``MAX_GATEWAY_PAYLOAD_BYTES``, bytes that are not UTF-8 JSON, a body without a
    ``readings`` list of 1–``MAX_GATEWAY_READINGS`` items. ``loads`` may be a faster JSON
    decoder (orjson.loads); it must refuse NaN and infinities, as orjson does.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    district, _ = parse_gateway_topic(topic)
    if len(payload) > MAX_GATEWAY_PAYLOAD_BYTES:
        raise MalformedMessage("payload_too_large", f"消息超过 {MAX_GATEWAY_PAYLOAD_BYTES} 字节")
    try:
        body = loads(payload) if loads is not None else _DECODER.decode(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedMessage("not_utf8", "消息不是 UTF-8 编码") from None
    except MalformedMessage:
        raise
    except (ValueError, RecursionError):
        raise MalformedMessage("not_json", "消息不是合法的 JSON 或含非有限数值") from None
    if not isinstance(body, dict):
        raise MalformedMessage("not_object", "消息应为 JSON 对象")
    items = body.get("readings")
    if not isinstance(items, list):
        raise MalformedMessage("missing_field", "缺少字段 readings（列表）")
    if not items or len(items) > MAX_GATEWAY_READINGS:
        raise MalformedMessage("metrics_invalid", f"readings 应有 1–{MAX_GATEWAY_READINGS} 项")
    readings: list[Reading] = []
    refused: list[tuple[int, Any, MalformedMessage]] = []
    for i, item in enumerate(items):
        try:
            readings.append(_reading(district, None, item, now))
        except MalformedMessage as exc:
            refused.append((i, item, exc))
    return readings, refused
