"""MQTT topic and payload parsing: what is accepted, and each refusal's reason code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.sensors.messages import (
    MAX_PAYLOAD_BYTES,
    REASONS,
    MalformedMessage,
    Reading,
    encode_payload,
    parse_message,
    parse_topic,
    topic_for,
)

NOW = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
TOPIC = "jiayuan/310115/devices/SMK-0001/readings"


def payload(**overrides: object) -> bytes:
    body: dict[str, object] = {"device": "SMK-0001", "msg_id": "a1",
                               "ts": "2026-11-23T10:15:00+08:00",
                               "metrics": {"smoke": True, "temperature_c": 24.5},
                               "battery": 87, "rssi": -71}
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def test_a_well_formed_message_becomes_a_reading() -> None:
    r = parse_message(TOPIC, payload(), now=NOW)
    assert (r.district, r.device_code, r.message_id) == ("310115", "SMK-0001", "a1")
    assert r.ts == NOW and r.ts.utcoffset() == timedelta(hours=8)
    assert r.metrics == {"smoke": True, "temperature_c": 24.5}
    assert (r.battery, r.rssi) == (87.0, -71.0)
    assert r.key == "SMK-0001:a1"


def test_epoch_milliseconds_are_accepted_as_utc() -> None:
    r = parse_message(TOPIC, payload(ts=int(NOW.timestamp() * 1000)), now=NOW)
    assert r.ts == NOW


def test_key_without_message_id_is_a_stable_hash_independent_of_metric_order() -> None:
    a = parse_message(TOPIC, payload(msg_id=..., metrics={"a": 1, "b": 2}), now=NOW)
    b = parse_message(TOPIC, payload(msg_id=..., metrics={"b": 2, "a": 1}), now=NOW)
    c = parse_message(TOPIC, payload(msg_id=..., metrics={"a": 1, "b": 3}), now=NOW)
    assert a.key == b.key != c.key
    assert a.key.startswith("SMK-0001:#")


def test_topic_scheme_round_trips() -> None:
    assert parse_topic(topic_for("310115", "DOOR.7")) == ("310115", "DOOR.7")


@pytest.mark.parametrize(("battery", "rssi"), [(87, -71), (87.5, -71.25), (0, 0), (None, -70)])
def test_battery_and_rssi_are_kept_as_floats(battery, rssi) -> None:
    extra = {k: v for k, v in (("battery", battery), ("rssi", rssi)) if v is not None}
    body = {"device": "SMK-0001", "ts": "2026-11-23T10:15:00+08:00", "metrics": {"t": 1},
            **extra}
    r = parse_message(TOPIC, json.dumps(body).encode(), now=NOW)
    assert (r.battery, r.rssi) == (None if battery is None else float(battery), float(rssi))
    assert all(type(v) is float for v in (r.battery, r.rssi) if v is not None)


def test_encode_payload_is_the_inverse_of_parse() -> None:
    r = parse_message(TOPIC, payload(), now=NOW)
    assert parse_message(TOPIC, encode_payload(r), now=NOW) == r


@pytest.mark.parametrize(("topic", "body", "reason"), [
    ("jiayuan/310115/devices/SMK-0001/status", payload(), "topic_invalid"),
    ("jiayuan/31x115/devices/SMK-0001/readings", payload(), "topic_invalid"),
    ("jiayuan/310115/devices/SMK 1/readings", payload(), "topic_invalid"),
    (TOPIC, b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "payload_too_large"),
    (TOPIC, b'{"device": "\xff"}', "not_utf8"),
    (TOPIC, b"smoke=1", "not_json"),
    (TOPIC, b"[1, 2]", "not_object"),
    (TOPIC, payload(metrics=...), "missing_field"),
    (TOPIC, payload(ts=...), "missing_field"),
    (TOPIC, payload(device=...), "missing_field"),
    (TOPIC, payload(device=17), "wrong_type"),
    (TOPIC, payload(metrics={"temperature_c": "hot"}), "wrong_type"),
    (TOPIC, payload(metrics=[1]), "wrong_type"),
    (TOPIC, payload(battery="full"), "wrong_type"),
    (TOPIC, payload(battery=True), "wrong_type"),
    (TOPIC, payload(rssi=[1]), "wrong_type"),
    (TOPIC, b'{"device":"SMK-0001","ts":"2026-11-23T10:15:00+08:00","metrics":{"t":1},'
     b'"battery":1e400}', "not_finite"),
    (TOPIC, b'{"device":"SMK-0001","ts":"2026-11-23T10:15:00+08:00","metrics":{"t":1},'
     b'"rssi":' + b"9" * 400 + b"}", "not_finite"),
    (TOPIC, payload(ts=True), "wrong_type"),
    (TOPIC, payload(ts=1.5), "wrong_type"),
    (TOPIC, payload(msg_id={"x": 1}), "wrong_type"),
    (TOPIC, b'{"device":"SMK-0001","ts":"2026-11-23T10:15:00+08:00","metrics":{"t":NaN}}',
     "not_finite"),
    (TOPIC, b'{"device":"SMK-0001","ts":"2026-11-23T10:15:00+08:00","metrics":{"t":1e400}}',
     "not_finite"),
    (TOPIC, b'{"device":"SMK-0001","ts":"2026-11-23T10:15:00+08:00","metrics":{"t":-Infinity}}',
     "not_finite"),
    (TOPIC, payload(ts="yesterday"), "timestamp_invalid"),
    (TOPIC, payload(ts="2026-11-23T10:15:00"), "timestamp_invalid"),
    (TOPIC, payload(ts=10**20), "timestamp_invalid"),
    (TOPIC, payload(ts="2026-11-23T10:25:00+08:00"), "timestamp_future"),
    (TOPIC, payload(ts="2026-11-01T10:15:00+08:00"), "timestamp_past"),
    (TOPIC, payload(device="SMK-0002"), "device_mismatch"),
    (TOPIC, payload(metrics={}), "metrics_invalid"),
    (TOPIC, payload(metrics={"Temp C": 1}), "metrics_invalid"),
    (TOPIC, payload(metrics={f"m{i}": i for i in range(40)}), "metrics_invalid"),
])
def test_malformed_message_is_refused_with_its_reason(topic: str, body: bytes,
                                                     reason: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        parse_message(topic, body, now=NOW)
    assert info.value.reason == reason
    assert reason in REASONS
    assert info.value.code == "malformed_message"
    assert info.value.as_dict()["details"] == {"reason": reason}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)


def test_five_minutes_of_clock_skew_is_tolerated() -> None:
    ahead = (NOW + timedelta(minutes=5)).astimezone(timezone(timedelta(hours=8)))
    r = parse_message(TOPIC, payload(ts=ahead.isoformat()), now=NOW)
    assert r.ts == ahead


def test_reading_refuses_a_naive_timestamp() -> None:
    with pytest.raises(ValueError):
        Reading("310115", "D", None, datetime(2026, 1, 1), {"x": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.fixed_dictionaries({"device": st.sampled_from(["SMK-0001", "X"]),
                           "ts": st.one_of(st.integers(), st.text(max_size=30),
                                           st.just("2026-11-23T10:15:00+08:00")),
                           "metrics": json_values}).map(
        lambda d: json.dumps(d).encode()),
))
def test_any_payload_either_parses_or_is_refused_with_a_known_reason(body: bytes) -> None:
    try:
        r = parse_message(TOPIC, body, now=NOW)
    except MalformedMessage as exc:
        assert exc.reason in REASONS
    else:
        assert r.device_code == "SMK-0001" and r.ts.tzinfo is not None
        assert all(isinstance(v, bool | float) for v in r.metrics.values())
