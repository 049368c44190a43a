"""Commands: ``jiayuan ingest`` without a broker replays in process; the periodic jobs."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from jiayuan.core.periodic import registered
from jiayuan.sensors.models import Device, Reading

pytestmark = pytest.mark.django_db


def test_ingest_without_broker_replays_simulated_readings_through_the_pipeline(tiny):
    out = io.StringIO()
    call_command("ingest", url="", devices=16, duration=120, rate=2, stdout=out)
    assert "no broker configured" in out.getvalue()
    assert Device.objects.filter(code__startswith="DEMO-").count() == 16
    stored = Reading.objects.count()
    assert 200 <= stored <= 240  # 240 simulated, minus silences
    assert Device.objects.filter(last_heard_at__isnull=False).count() == 16


def test_periodic_jobs_are_registered():
    names = {job.name for job in registered()}
    assert {"sensors.health", "sensors.reconcile"} <= names


def test_simulator_streams_are_valid_messages(tiny):
    import datetime as dt

    from jiayuan.sensors.messages import parse_gateway_message, parse_message
    from jiayuan.sensors.simulator import SensorStream, ensure_devices

    devices = ensure_devices(10, prefix="T")
    now = dt.datetime.now(dt.UTC)
    stream = SensorStream(devices, faults=True, alarm_rate=0.1)
    for topic, payload in stream.batch(100, now):
        assert parse_message(topic, payload, now=now).device_code.startswith("T-")
    topic, payload, n = stream.gateway_message(20, now)
    readings, refused = parse_gateway_message(topic, payload, now=now)
    assert len(readings) == n == 20 and not refused
