"""The network-of-devices page: figures, alarms with acknowledge, import with errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiayuan.sensors.models import Alarm, Device
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.tests.django_support import Clock, make_device, message

pytestmark = pytest.mark.django_db


def test_page_shows_the_areas_alarms_and_acknowledge_works(tiny, make_user, client):
    make_device(tiny, "GAS-1", "gas_detector")
    make_device(tiny, "GAS-2", "gas_detector", where="S2N1C1")
    clock = Clock()
    Pipeline(clock=clock).process([
        message("GAS-1", clock.at(-10), {"gas_lel_pct": 30}, msg_id="1"),
        message("GAS-2", clock.at(-10), {"gas_lel_pct": 30}, msg_id="1")])
    officer = make_user("duty-v1", "duty_officer", "310115001")
    client.force_login(officer)
    page = client.get("/sensors/").content.decode()
    assert "GAS-1" in page and "GAS-2" not in page
    alarm = Alarm.objects.filter(device__code="GAS-1").first()
    r = client.post(f"/sensors/alarms/{alarm.pk}/acknowledge")
    assert r.status_code == 302
    alarm.refresh_from_db()
    assert alarm.state == "acknowledged"
    other = Alarm.objects.filter(device__code="GAS-2").first()
    client.post(f"/sensors/alarms/{other.pk}/acknowledge")
    other.refresh_from_db()
    assert other.state == "active"  # out of the officer's area: refused, unchanged


def test_import_page_reports_row_errors_and_stores_nothing(tiny, make_user, client):
    client.force_login(make_user("duty-v2", "duty_officer", "310115001"))
    e = tiny.entrances["S1N1C1"].code
    data = f"设备编码,设备类型,单元编码\nSMK-1,smoke_detector,{e}\nSMK-2,toaster,{e}\n".encode()
    r = client.post("/sensors/devices/import",
                    {"file": SimpleUploadedFile("d.csv", data)}, follow=True)
    text = r.content.decode()
    assert "第 3 行" in text and "未保存任何设备" in text
    assert not Device.objects.exists()
