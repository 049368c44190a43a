"""The staff workbench: queues, filters, bulk actions, the case page's action forms, masking
of personal data, the live map's GeoJSON and notifications — all within the viewer's area."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from jiayuan.accounts.models import PersonalDataAccess
from jiayuan.cases.models import Case, CaseAttachment, Notification, ResponseTemplate
from jiayuan.cases.services import act, open_case
from jiayuan.cases.services.units import ref
from jiayuan.registry.models import JointStation

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Users here log in with force_login: a fast hasher keeps set-up quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}


@pytest.fixture
def people(tiny, make_user):
    n = tiny.neighbourhoods["S1N1"]
    return {
        "staff": make_user("wang", "neighbourhood_staff", n),
        "police": make_user("police", "department_staff", tiny.subdistricts["S1"],
                            department=tiny.departments["S1"]),
        "duty": make_user("zhou", "duty_officer", tiny.subdistricts["S1"]),
        "resident": make_user("li", "resident"),
    }


@pytest.fixture
def station(tiny):
    return ref(JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"]))


def home_case(tiny, key="S1N1C1", text="楼道灯坏了", **kw):
    case, _ = open_case(channel="home_code", description=text, entrance=tiny.entrances[key],
                        **kw)
    return case


# --- access and queues ----------------------------------------------------------------------

def test_the_workbench_needs_a_login_and_a_staff_role(client, people):
    assert client.get("/cases/").status_code == 302
    client.force_login(people["resident"])
    assert client.get("/cases/").status_code == 403


def test_intake_queue_shows_only_cases_of_the_staff_area(client, tiny, people):
    mine = home_case(tiny)
    other = home_case(tiny, "S2N1C1", "别的街道")
    client.force_login(people["staff"])
    body = client.get("/cases/?queue=intake").content.decode()
    assert mine.number in body and other.number not in body


def test_department_lands_on_its_units_dispatched_cases(client, tiny, people):
    ours = home_case(tiny, text="治安问题")
    theirs = home_case(tiny, "S1N1C2", text="给联勤站的")
    act(case=ours, user=people["duty"], kind="accept")
    act(case=ours, user=people["duty"], kind="dispatch", lead_unit=ref(tiny.departments["S1"]))
    act(case=theirs, user=people["duty"], kind="accept")
    act(case=theirs, user=people["duty"], kind="dispatch",
        lead_unit=ref(JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])),
        assisting_units=(ref(tiny.departments["S1"]),))
    untouched = home_case(tiny, "S1N2C1", text="未派遣")
    client.force_login(people["police"])
    body = client.get("/cases/").content.decode()
    # Lead or assisting: both are the department's work; a case not dispatched is not.
    assert ours.number in body and theirs.number in body and untouched.number not in body


def test_overdue_and_supervised_queues(client, tiny, people):
    late = home_case(tiny, text="超期的", reported_at=timezone.now() - dt.timedelta(days=30))
    fresh = home_case(tiny, "S1N1C2", text="刚报的")
    act(case=fresh, user=people["duty"], kind="supervise", reason="尽快处理")
    client.force_login(people["duty"])
    overdue = client.get("/cases/?queue=overdue").content.decode()
    assert late.number in overdue and fresh.number not in overdue
    supervised = client.get("/cases/?queue=supervised").content.decode()
    assert fresh.number in supervised and late.number not in supervised


def test_filters_narrow_the_list(client, tiny, people):
    lamp = home_case(tiny, text="路灯不亮")
    rubbish = home_case(tiny, "S1N1C2", text="垃圾满溢")
    act(case=rubbish, user=people["staff"], kind="accept")
    client.force_login(people["staff"])
    body = client.get("/cases/?queue=all&q=路灯").content.decode()
    assert lamp.number in body and rubbish.number not in body
    body = client.get("/cases/?queue=all&state=accepted").content.decode()
    assert rubbish.number in body and lamp.number not in body
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    body = client.get(f"/cases/?queue=all&date_from={tomorrow}").content.decode()
    assert lamp.number not in body and rubbish.number not in body


def test_an_htmx_filter_request_gets_the_list_fragment_only(client, tiny, people):
    home_case(tiny)
    client.force_login(people["staff"])
    res = client.get("/cases/?queue=all", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="case-list")
    body = res.content.decode()
    assert "<html" not in body and 'id="bulk-form"' in body


# --- bulk actions ---------------------------------------------------------------------------

def test_bulk_accept_acts_on_ticked_cases_and_reports_refusals(client, tiny, people):
    a, b = home_case(tiny), home_case(tiny, "S1N1C2")
    outside = home_case(tiny, "S2N1C1")
    client.force_login(people["staff"])
    res = client.post("/cases/bulk/?queue=intake", {
        "action": "accept", "numbers": [a.number, b.number, outside.number]},
        HTTP_HX_REQUEST="true")
    body = res.content.decode()
    assert res.status_code == 200 and 'data-testid="bulk-result"' in body
    assert f"没有编号为“{outside.number}”的工单" in body
    states = dict(Case.objects.values_list("number", "state"))
    assert states[a.number] == states[b.number] == "accepted"
    assert states[outside.number] == "reported"


def test_bulk_dispatch_sends_accepted_cases_to_a_unit(client, tiny, people, station):
    a = home_case(tiny)
    act(case=a, user=people["staff"], kind="accept")
    client.force_login(people["staff"])
    client.post("/cases/bulk/", {"action": "dispatch", "numbers": [a.number],
                                 "lead_unit": station})
    a.refresh_from_db()
    assert (a.state, a.lead_unit) == ("dispatched", station)


# --- the case page --------------------------------------------------------------------------

def test_case_page_offers_exactly_the_actions_the_user_may_take(client, tiny, people, station):
    case = home_case(tiny)
    client.force_login(people["staff"])
    body = client.get(f"/cases/{case.number}/").content.decode()
    offered = {k for k in ("accept", "reject", "merge", "dispatch", "handle", "close",
                           "supervise", "verify_ok") if f'data-action="{k}"' in body}
    assert offered == {"accept", "reject", "merge"}
    act(case=case, user=people["staff"], kind="accept")
    act(case=case, user=people["staff"], kind="dispatch", lead_unit=station)
    # The police are not the lead unit: they may not handle or return it.
    client.force_login(people["police"])
    body = client.get(f"/cases/{case.number}/").content.decode()
    assert 'data-action="handle"' not in body and 'data-action="return"' not in body


def test_a_refused_action_shows_the_chinese_reason_and_keeps_the_input(client, tiny, people,
                                                                        station):
    case = home_case(tiny)
    act(case=case, user=people["staff"], kind="accept")
    client.force_login(people["staff"])
    res = client.post(f"/cases/{case.number}/act/", {
        "kind": "dispatch", "lead_unit": station, "assisting_units": [station],
        "reason": "请今天处理"})
    body = res.content.decode()
    assert res.status_code == 400
    assert "主办单位不能同时是协办单位" in body
    assert "请今天处理</textarea>" in body and f'value="{station}" selected' in body
    case.refresh_from_db()
    assert case.state == "accepted"


def test_handling_with_photos_attaches_them_to_the_handle_step(client, tiny, people, station):
    case = home_case(tiny)
    act(case=case, user=people["staff"], kind="accept")
    act(case=case, user=people["staff"], kind="dispatch", lead_unit=station)
    client.force_login(people["staff"])
    photo = io.BytesIO(PNG)
    photo.name = "after.png"
    res = client.post(f"/cases/{case.number}/act/", {"kind": "handle", "reason": "已修复",
                                                     "photos": [photo]})
    assert res.status_code == 302
    att = CaseAttachment.objects.get(case=case)
    assert att.event.action == "handle" and att.uploaded_by == people["staff"]
    assert client.get(f"/cases/{case.number}/photos/{att.pk}/").status_code == 200


def test_a_bad_photo_refuses_the_whole_action(client, tiny, people, station):
    case = home_case(tiny)
    act(case=case, user=people["staff"], kind="accept")
    act(case=case, user=people["staff"], kind="dispatch", lead_unit=station)
    client.force_login(people["staff"])
    fake = io.BytesIO(b"%PDF-1.4")
    fake.name = "x.png"
    res = client.post(f"/cases/{case.number}/act/", {"kind": "handle", "reason": "已修复",
                                                     "photos": [fake]})
    assert res.status_code == 400
    case.refresh_from_db()
    assert case.state == "dispatched" and not CaseAttachment.objects.exists()


def test_merge_into_a_case_number(client, tiny, people):
    first, second = home_case(tiny), home_case(tiny, text="同一盏灯")
    client.force_login(people["staff"])
    client.post(f"/cases/{second.number}/act/", {"kind": "merge", "into_case": first.number})
    second.refresh_from_db()
    assert (second.state, second.merged_into_id) == ("merged", first.pk)


def test_extension_request_and_approval(client, tiny, people, station):
    case = home_case(tiny)
    act(case=case, user=people["staff"], kind="accept")
    act(case=case, user=people["staff"], kind="dispatch", lead_unit=station)
    due = Case.objects.get(pk=case.pk).due_at
    client.force_login(people["staff"])
    client.post(f"/cases/{case.number}/act/", {
        "kind": "request_extension", "reason": "等配件", "extension_amount": "2",
        "extension_unit": "working_days"})
    client.force_login(people["duty"])
    assert 'data-action="approve_extension"' in client.get(
        f"/cases/{case.number}/").content.decode()
    client.post(f"/cases/{case.number}/act/", {"kind": "approve_extension"})
    case.refresh_from_db()
    assert case.extension_count == 1 and case.due_at > due


def test_out_of_scope_case_page_is_404(client, tiny, people):
    other = home_case(tiny, "S2N1C1")
    client.force_login(people["staff"])
    assert client.get(f"/cases/{other.number}/").status_code == 404
    assert client.post(f"/cases/{other.number}/act/", {"kind": "accept"}).status_code == 404
    assert Case.objects.get(pk=other.pk).state == "reported"


def test_reporter_data_is_masked_until_shown_and_showing_is_logged(client, tiny, people):
    case = home_case(tiny, reporter_name="张三丰", reporter_phone="13812345678")
    client.force_login(people["staff"])
    body = client.get(f"/cases/{case.number}/").content.decode()
    assert "138****5678" in body and "13812345678" not in body and "张**" in body
    assert not PersonalDataAccess.objects.exists()
    res = client.post(f"/cases/{case.number}/reporter/", HTTP_HX_REQUEST="true")
    assert "13812345678" in res.content.decode() and "张三丰" in res.content.decode()
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.object_type, log.object_id) == (people["staff"], "case", case.number)


def test_response_templates_are_offered_for_the_reason(client, tiny, people):
    case = home_case(tiny)
    ResponseTemplate.objects.create(title="重复反映", body="该问题已在处理中，请耐心等待")
    ResponseTemplate.objects.create(title="停用模板", body="x", active=False)
    client.force_login(people["staff"])
    body = client.get(f"/cases/{case.number}/").content.decode()
    assert "重复反映" in body and "该问题已在处理中" in body and "停用模板" not in body


# --- live map and notifications -------------------------------------------------------------

def test_live_map_geojson_has_open_cases_in_scope_with_urgency(client, tiny, people):
    late = home_case(tiny, reported_at=timezone.now() - dt.timedelta(days=30))
    fresh = home_case(tiny, "S1N1C2")
    home_case(tiny, "S2N1C1")  # another subdistrict
    rejected = home_case(tiny, "S1N2C1")
    act(case=rejected, user=people["duty"], kind="reject", reason="不属于受理范围")
    client.force_login(people["duty"])
    data = client.get("/cases/map/cases.geojson").json()
    urgency = {f["properties"]["number"]: f["properties"]["urgency"] for f in data["features"]}
    assert urgency == {late.number: "overdue", fresh.number: "normal"}


def test_notifications_list_shows_only_the_users_own(client, tiny, people):
    case = home_case(tiny)
    Notification.objects.create(user=people["staff"], case=case, kind="dispatched",
                                message="新工单待处理")
    Notification.objects.create(user=people["duty"], kind="x", message="别人的通知")
    client.force_login(people["staff"])
    body = client.get("/notifications/").content.decode()
    assert "新工单待处理" in body and "别人的通知" not in body


def test_home_tiles_for_staff_not_for_residents(client, people):
    client.force_login(people["duty"])
    body = client.get("/").content.decode()
    assert 'data-tile="cases.workbench"' in body and 'data-tile="cases.map"' in body
    client.force_login(people["resident"])
    assert 'data-tile="cases.workbench"' not in client.get("/").content.decode()
