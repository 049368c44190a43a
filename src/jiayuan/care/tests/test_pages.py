"""Pages and API: scope, masking, the access log, bad input in the UI and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayuan.accounts.models import PersonalDataAccess
from jiayuan.care.models import CareTask, ElderLivingAlone, VisitLog
from jiayuan.care.services import record_signal

pytestmark = pytest.mark.django_db


def test_register_list_is_masked_and_scoped(elder, people, login):
    c = login(people["staff"])
    html = c.get(reverse("care:list")).content.decode()
    assert "张**" in html and "138****5678" in html
    assert "张桂英" not in html and "13812345678" not in html
    assert not PersonalDataAccess.objects.exists()
    other = login(people["other"]).get(reverse("care:list")).content.decode()
    assert "张**" not in other


def test_list_filters_by_risk_and_neighbourhood(elder, people, login, tiny):
    c = login(people["duty"])
    assert "张**" in c.get(reverse("care:list"), {"risk": "medium"}).content.decode()
    assert "张**" not in c.get(reverse("care:list"), {"risk": "high"}).content.decode()
    code = tiny.neighbourhoods["S1N2"].code
    assert "张**" not in c.get(reverse("care:list"), {"neighbourhood": code}).content.decode()


def test_other_neighbourhood_cannot_open_the_person_page(elder, people, login):
    c = login(people["other"])
    assert c.get(reverse("care:person", args=[elder.pk])).status_code == 404
    assert c.post(reverse("care:reveal", args=[elder.pk])).status_code == 404
    assert not PersonalDataAccess.objects.exists()
    assert login(people["police"]).get(reverse("care:list")).status_code == 403


def test_person_page_is_masked_until_revealed_and_the_reveal_is_logged(elder, people, login):
    c = login(people["staff"])
    html = c.get(reverse("care:person", args=[elder.pk])).content.decode()
    assert "张桂英" not in html and "13900001111" not in html
    r = c.post(reverse("care:reveal", args=[elder.pk]), HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "张桂英" in body and "13900001111" in body and elder.id_number in body
    log = PersonalDataAccess.objects.get()
    assert log.user == people["staff"] and log.object_type == "care.elder"
    assert log.object_id == str(elder.pk) and "id_number" in log.fields


def test_registering_through_the_page_and_bad_input_shows_chinese_errors(tiny, people, login):
    c = login(people["staff"])
    form = {"name": "刘阿婆", "birth_year": "1938", "entrance_code": tiny.entrances["S1N1C2"].code,
            "health": "poor", "chronic_conditions": "2", "mobility": "assisted",
            "cognition": "normal", "living_conditions": "fair", "carer": "none",
            "contact1_name": "刘强", "contact1_phone": "13700000000"}
    bad = c.post(reverse("care:new"), {**form, "birth_year": "1999"})
    assert bad.status_code == 400 and "出生年份" in bad.content.decode()
    outside = c.post(reverse("care:new"), {**form,
                                           "entrance_code": tiny.entrances["S2N1C1"].code})
    assert outside.status_code == 400 and "找不到该对象" in outside.content.decode()
    assert not ElderLivingAlone.objects.exists()
    ok = c.post(reverse("care:new"), form)
    assert ok.status_code == 302
    e = ElderLivingAlone.objects.get()
    assert e.risk_level == "high" and e.emergency_contacts[0]["phone"] == "13700000000"


def test_quick_visit_form_and_my_visits_this_week(elder, people, login):
    c = login(people["staff"])
    page = c.get(reverse("care:my_visits")).content.decode()
    assert reverse("care:person", args=[elder.pk]) in page
    bad = c.post(reverse("care:visit", args=[elder.pk]), {"outcome": "", "method": "home"})
    assert bad.status_code == 400 and not VisitLog.objects.exists()
    r = c.post(reverse("care:visit", args=[elder.pk]),
               {"outcome": "well", "method": "home", "notes": "身体好", "next": "visits"})
    assert r.status_code == 302 and r.url == reverse("care:my_visits")
    assert VisitLog.objects.get().visitor == people["staff"]
    page = c.get(reverse("care:my_visits")).content.decode()
    assert reverse("care:person", args=[elder.pk]) not in page  # next due in 14 days


def test_task_queue_take_and_finish(elder, people, login):
    record_signal(person=elder, kind="panic", at=timezone.now(), source_ref="sensors.alarm:1")
    task = CareTask.objects.get()
    other = login(people["other"]).get(reverse("care:tasks")).content.decode()
    assert "紧急呼叫" not in other
    c = login(people["staff"])
    assert "紧急呼叫按钮" in c.get(reverse("care:tasks")).content.decode()
    c.post(reverse("care:task_action", args=[task.pk]), {"action": "assign"})
    bad = c.post(reverse("care:task_action", args=[task.pk]), {"action": "done"})
    assert bad.status_code == 400
    c.post(reverse("care:task_action", args=[task.pk]),
           {"action": "done", "outcome": "help_given", "notes": "已上门"})
    task.refresh_from_db()
    assert task.status == "done" and task.done_by == people["staff"]


def test_api_lists_masked_logs_detail_and_refuses_bad_input(elder, people, login, tiny):
    c = login(people["staff"])
    data = c.get("/api/v1/care/elders").json()
    assert data["count"] == 1 and data["results"][0]["name"] == "张**"
    assert c.get(f"/api/v1/care/elders/{elder.pk}").json()["name"] == "张桂英"
    assert PersonalDataAccess.objects.count() == 1
    r = login(people["other"]).get(f"/api/v1/care/elders/{elder.pk}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    c = login(people["staff"])
    r = c.post("/api/v1/care/elders", {"name": "", "birth_year": 1930,
                                       "entrance": tiny.entrances["S1N1C1"].code},
               content_type="application/json")
    assert r.status_code == 422 and "name" in r.json()["error"]["details"]
    r = c.post("/api/v1/care/elders", {"name": "王大爷", "birth_year": 1930,
                                       "entrance": tiny.entrances["S1N1C1"].code,
                                       "mobility": "bedridden"},
               content_type="application/json")
    assert r.status_code == 201 and r.json()["risk_level"] == "high"
    r = c.post(f"/api/v1/care/elders/{elder.pk}/visits", {"outcome": "nope"},
               content_type="application/json")
    assert r.status_code == 422 and r.json()["error"]["details"]["outcome"]
    r = c.post(f"/api/v1/care/elders/{elder.pk}/visits", {"outcome": "well"},
               content_type="application/json")
    assert r.status_code == 201
    record_signal(person=elder, kind="smoke", at=timezone.now())
    tasks = c.get("/api/v1/care/tasks").json()
    assert tasks["count"] == 1
    tid = tasks["results"][0]["id"]
    assert c.post(f"/api/v1/care/tasks/{tid}/done", {"outcome": "false_alarm"},
                  content_type="application/json").json()["status"] == "done"


def test_home_tile_for_neighbourhood_staff(people, login):
    html = login(people["staff"]).get(reverse("web:home")).content.decode()
    assert reverse("care:my_visits") in html and reverse("care:list") in html


def test_editing_logs_the_view_moves_the_person_and_refuses_outside(elder, people, login,
                                                                     tiny):
    c = login(people["staff"])
    form = c.get(reverse("care:edit", args=[elder.pk]))
    assert "张桂英" in form.content.decode()
    assert PersonalDataAccess.objects.filter(purpose="edit register").count() == 1
    data = {"name": "张桂英", "birth_year": "1940", "id_number": elder.id_number,
            "phone": "13812345678", "entrance_code": tiny.entrances["S1N1C2"].code,
            "room": "302", "health": "fair", "chronic_conditions": "0",
            "mobility": "independent", "cognition": "normal", "living_conditions": "good",
            "carer": "none", "children_nearby": "on", "contact1_name": "李明",
            "contact1_phone": "13900001111"}
    outside = c.post(reverse("care:edit", args=[elder.pk]),
                     {**data, "entrance_code": tiny.entrances["S1N2C1"].code})
    assert outside.status_code == 400
    elder.refresh_from_db()
    assert elder.entrance == tiny.entrances["S1N1C1"]
    assert c.post(reverse("care:edit", args=[elder.pk]), data).status_code == 302
    elder.refresh_from_db()
    assert elder.entrance == tiny.entrances["S1N1C2"] and elder.room == "302"
    assert elder.path == tiny.entrances["S1N1C2"].path


def test_api_patch_changes_fields_raises_a_task_and_refuses_bad_values(elder, people, login):
    c = login(people["staff"])
    r = c.patch(f"/api/v1/care/elders/{elder.pk}", {"mobility": "teleporting"},
                content_type="application/json")
    assert r.status_code == 422 and "mobility" in r.json()["error"]["details"]
    r = c.patch(f"/api/v1/care/elders/{elder.pk}", {"mobility": "bedridden"},
                content_type="application/json")
    assert r.status_code == 200 and r.json()["risk_level"] == "high"
    assert r.json()["name"] == "张桂英" and r.json()["phone"] == "13812345678"  # kept
    assert CareTask.objects.get(elder=elder).kind == "risk_rise"
    r = login(people["other"]).patch(f"/api/v1/care/elders/{elder.pk}", {"health": "poor"},
                                     content_type="application/json")
    assert r.status_code == 404
