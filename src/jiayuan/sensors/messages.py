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


class Reading:
    """One accepted reading. ``ts`` is timezone-aware; ``epoch`` is the same in seconds.

    Built from ``ts`` (a timezone-aware datetime) or, on the ingest's hot path, from
    ``epoch`` alone: the datetime and the idempotency ``key`` are then only made when asked
    for (most readings of a gateway message never need the datetime). Treat as immutable.
    """

    __slots__ = ("district", "device_code", "message_id", "metrics", "battery", "rssi",
                 "epoch", "_ts", "_key")

    district: str
    device_code: str
    message_id: str | None
    metrics: Mapping[str, Value]
    battery: float | None
    rssi: float | None
    epoch: float

    def __init__(self, district: str, device_code: str, message_id: str | None,
                 ts: datetime | None = None, metrics: Mapping[str, Value] | None = None,
                 battery: float | None = None, rssi: float | None = None, key: str = "",
                 *, epoch: float | None = None) -> None:
        if ts is not None:
            if ts.tzinfo is None or ts.utcoffset() is None:
                raise ValueError("Reading.ts must be timezone-aware")
            epoch = ts.timestamp()
        elif epoch is None:
            raise ValueError("Reading needs ts or epoch")
        self.district = district
        self.device_code = device_code
        self.message_id = message_id
        self.metrics = {} if metrics is None else metrics
        self.battery = battery
        self.rssi = rssi
        self.epoch = epoch
        self._ts = ts
        self._key = key

    @property
    def ts(self) -> datetime:
        ts = self._ts
        if ts is None:
            ts = self._ts = datetime.fromtimestamp(self.epoch, UTC)
        return ts

    @property
    def key(self) -> str:
        """The idempotency key (``idempotency_key``), computed once."""
        key = self._key
        if not key:
            key = self._key = _key(self.device_code, self.message_id, self.epoch, self.metrics)
        return key

    def _astuple(self) -> tuple[Any, ...]:
        return (self.district, self.device_code, self.message_id, self.epoch,
                dict(self.metrics), self.battery, self.rssi, self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reading):
            return NotImplemented
        return self._astuple() == other._astuple()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Reading(district={self.district!r}, device_code={self.device_code!r}, "
                f"message_id={self.message_id!r}, ts={self.ts!r}, metrics={self.metrics!r}, "
                f"battery={self.battery!r}, rssi={self.rssi!r}, key={self.key!r})")


def idempotency_key(
    device_code: str, message_id: str | None, ts: datetime, metrics: Mapping[str, Value]
) -> str:
    """Stable across processes (no ``hash()``), independent of metric order."""
    return _key(device_code, message_id, ts.timestamp(), metrics)


def _key(device_code: str, message_id: str | None, epoch: float,
         metrics: Mapping[str, Value]) -> str:
    if message_id is not None:
        return f"{device_code}:{message_id}"
    ms = round(epoch * 1000)
    body = json.dumps(sorted(metrics.items()), separators=(",", ":"))
    digest = hashlib.sha256(f"{device_code}|{ms}|{body}".encode()).hexdigest()[:20]
    return f"{device_code}:#{digest}"


def key_hash(key: str) -> int:
    """A signed 64-bit hash of an idempotency key (BLAKE2b), stable across processes and
    versions: with the device and the time it makes a stored reading unique."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                          signed=True)


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


MAX_FUTURE_S = MAX_FUTURE.total_seconds()
MAX_PAST_S = MAX_PAST.total_seconds()
# What ``datetime.fromtimestamp`` can represent (years 1–9999), a day spare at each end.
_MIN_EPOCH = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_MAX_EPOCH = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def _timestamp(raw: Any, now_e: float) -> tuple[float, datetime | None]:
    """(epoch seconds, the datetime when the payload gave one). Epoch milliseconds, the
    common case, make no datetime at all: the reading makes it if anyone asks."""
    kind = type(raw)
    ts: datetime | None = None
    if kind is int:
        try:
            epoch = raw / 1000
        except OverflowError:
            raise MalformedMessage("timestamp_invalid", "时间戳超出范围") from None
        if not _MIN_EPOCH <= epoch <= _MAX_EPOCH:
            raise MalformedMessage("timestamp_invalid", "时间戳超出范围")
    elif kind is str:
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise MalformedMessage("timestamp_invalid", "时间格式有误，应为 ISO-8601") from None
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise MalformedMessage("timestamp_invalid", "时间缺少时区偏移")
        epoch = ts.timestamp()
    else:
        raise MalformedMessage("wrong_type", "字段 ts 应为 ISO-8601 字符串或毫秒时间戳")
    if epoch - now_e > MAX_FUTURE_S:
        raise MalformedMessage("timestamp_future", "时间晚于当前时间过多，设备时钟可能有误")
    if now_e - epoch > MAX_PAST_S:
        raise MalformedMessage("timestamp_past", "时间早于当前时间过多，消息已过期")
    return epoch, ts


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
    return _reading(district, device_code, body, now.timestamp())


# Names already seen to match their pattern: the same few device codes and metric names come
# again and again, a set lookup is cheaper than the regular expression. Bounded, so a stream
# of ever-new names cannot grow them without limit.
_SEEN_DEVICES: set[str] = set()
_SEEN_METRICS: set[str] = set()
_SEEN_MAX = 100_000


def _msg_id_ok(m: str) -> bool:
    """``_MSG_ID_RE``: 1–64 visible ASCII characters (0x21–0x7e)."""
    return 0 < len(m) <= 64 and m.isascii() and m.isprintable() and " " not in m


def _reading(district: str, device_code: str | None, body: Any, now_e: float) -> Reading:
    """Validate one decoded reading object. ``device_code`` is the topic's device (a
    device topic) or None (an element of a gateway message: the body names the device).
    ``now_e`` is the worker's clock in epoch seconds. The checks and their order are those
    of ``parse_message``'s docstring; this is the ingest's hot path, so the common case
    (known names, numbers, epoch milliseconds) takes the shortest way."""
    if not isinstance(body, dict):
        raise MalformedMessage("not_object", "消息应为 JSON 对象")
    try:
        device = body["device"]
        raw_ts = body["ts"]
        raw_metrics = body["metrics"]
    except KeyError:
        missing = next(n for n in ("device", "ts", "metrics") if n not in body)
        raise MalformedMessage("missing_field", f"缺少字段 {missing}") from None
    if type(device) is not str:
        raise MalformedMessage("wrong_type", "字段 device 应为字符串")
    if device_code is None:
        if device not in _SEEN_DEVICES:
            if not _DEVICE_RE.fullmatch(device):
                raise MalformedMessage("wrong_type", "字段 device 应为 1–64 个字母、数字或 _.-")
            if len(_SEEN_DEVICES) < _SEEN_MAX:
                _SEEN_DEVICES.add(device)
        device_code = device
    elif device != device_code:
        raise MalformedMessage("device_mismatch", "消息中的设备编码与主题不一致")
    message_id = body.get("msg_id")
    if message_id is not None:
        kind = type(message_id)
        if kind is int:
            message_id = str(message_id)
        elif kind is not str:
            raise MalformedMessage("wrong_type", "字段 msg_id 应为字符串或整数")
        if not _msg_id_ok(message_id):
            raise MalformedMessage("wrong_type", "字段 msg_id 应为 1–64 个可见 ASCII 字符")
    epoch, ts = _timestamp(raw_ts, now_e)
    if type(raw_metrics) is not dict:
        raise MalformedMessage("wrong_type", "字段 metrics 应为对象")
    if not raw_metrics or len(raw_metrics) > MAX_METRICS:
        raise MalformedMessage("metrics_invalid", f"metrics 应有 1–{MAX_METRICS} 项")
    metrics: dict[str, Value] = {}
    seen = _SEEN_METRICS
    for name, raw in raw_metrics.items():
        if name not in seen:
            if not _METRIC_RE.fullmatch(name):
                raise MalformedMessage("metrics_invalid", f"指标名不合规：{name[:40]}")
            if len(seen) < _SEEN_MAX:
                seen.add(name)
        kind = type(raw)
        # a finite float (inf - inf and nan - nan are nan) or a boolean: kept as it is
        if (kind is float and raw - raw == 0.0) or kind is bool:
            metrics[name] = raw
        elif kind is int and -1e300 < raw < 1e300:
            metrics[name] = float(raw)
        else:
            metrics[name] = _number(f"metrics.{name}", raw)
    return Reading(district, device_code, message_id, ts, metrics,
                   _optional_number(body, "battery"), _optional_number(body, "rssi"),
                   epoch=epoch)


def _optional_number(body: dict[str, Any], key: str) -> float | None:
    """``body[key]`` as a finite float, or None when absent: plain finite floats and ints in
    range are taken as they are (the common case, checked without a call), anything else
    goes through ``_number``, which refuses what is not a finite number."""
    value = body.get(key)
    if value is None:
        return None
    kind = type(value)
    if kind is int and -1e300 < value < 1e300:
        return float(value)
    if kind is not float or value - value != 0.0:
        return _number(key, value)
    return value  # type: ignore[no-any-return]


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
    now_e = now.timestamp()
    for i, item in enumerate(items):
        try:
            readings.append(_reading(district, None, item, now_e))
        except MalformedMessage as exc:
            refused.append((i, item, exc))
    return readings, refused
