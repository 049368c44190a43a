"""The resident's pages: report by home code (photos, position, idempotency, rate limits) and
the tracking page (public timeline, note, rate, reopen, merged cases)."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache

from jiayuan.cases import views
from jiayuan.cases.models import Case, CaseAttachment, CaseEvent, Category
from jiayuan.cases.services import act
from jiayuan.cases.services.attachments import MAX_BYTES, check_photos, sniff
from jiayuan.cases.services.units import ref
from jiayuan.core.errors import ValidationFailed
from jiayuan.registry.models import JointStation

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def upload(data: bytes, name: str = "photo.png") -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def entrance(tiny):
    return tiny.entrances["S1N1C1"]


@pytest.fixture
def category(db):
    cat, _ = Category.objects.get_or_create(code="T01001", defaults={
        "name": "楼道灯不亮", "kind": "component", "major_code": "T01", "major_name": "公用设施"})
    return cat


def report(client, entrance, *, key="k" * 20, ip="10.0.0.1", **fields):
    data = {"description": "楼道灯坏了", "category": "other", "idempotency_key": key}
    data.update(fields)
    return client.post(f"/h/{entrance.home_code}/report/", data, REMOTE_ADDR=ip)


def close_case(case, tiny, make_user):
    n = tiny.neighbourhoods["S1N1"]
    staff = make_user("wang", "neighbourhood_staff", n, display_name="王社工")
    duty = make_user("zhou", "duty_officer", tiny.subdistricts["S1"])
    station = ref(JointStation.objects.get(neighbourhood=n))
    case = act(case=case, user=staff, kind="accept")
    case = act(case=case, user=staff, kind="dispatch", lead_unit=station)
    case = act(case=case, user=staff, kind="return", reason="内部：不属于本站职责，13900001111")
    case = act(case=case, user=staff, kind="redispatch", lead_unit=station)
    case = act(case=case, user=staff, kind="handle", reason="已更换灯泡")
    case = act(case=case, user=duty, kind="verify_ok")
    return act(case=case, user=duty, kind="close")


# --- photos -------------------------------------------------------------------------------

def test_photos_are_recognised_by_magic_bytes_not_by_name():
    assert sniff(PNG[:8]) == ("image/png", "png")
    assert sniff(JPEG[:8]) == ("image/jpeg", "jpg")
    assert sniff(b"GIF89a..") is None
    with pytest.raises(ValidationFailed):
        check_photos([upload(b"<html>not a photo</html>", "evil.jpg")])


def test_more_than_three_photos_or_one_over_5_mb_is_refused():
    with pytest.raises(ValidationFailed, match="最多上传 3 张"):
        check_photos([upload(PNG) for _ in range(4)])
    with pytest.raises(ValidationFailed, match="超过 5 MB"):
        check_photos([upload(PNG + b"\x00" * MAX_BYTES)])


# --- reporting ----------------------------------------------------------------------------

def test_landing_page_links_to_the_report_form(client, entrance):
    body = client.get(f"/h/{entrance.home_code}/").content.decode()
    assert f"/h/{entrance.home_code}/report/" in body


def test_report_form_groups_active_categories_by_major_class(client, entrance, category):
    Category.objects.create(code="T01999", name="停用类别", kind="component", major_code="T01",
                            major_name="公用设施", active=False)
    body = client.get(f"/h/{entrance.home_code}/report/").content.decode()
    assert '<optgroup label="公用设施">' in body and "楼道灯不亮" in body
    assert "停用类别" not in body
    assert 'value="other"' in body


def test_a_report_with_a_photo_opens_a_case_at_the_entrance_and_leads_to_tracking(
        client, entrance, category):
    res = report(client, entrance, category="T01001", reporter_phone="13812345678",
                 photos=[upload(PNG), upload(JPEG, "b.jpg")])
    case = Case.objects.get()
    assert res.status_code == 302
    assert res["Location"] == f"/t/{case.tracking_token}/?new=1"
    assert (case.channel, case.category, case.entrance) == ("home_code", category, entrance)
    assert case.reporter_phone == "13812345678"
    photos = CaseAttachment.objects.filter(case=case).order_by("id")
    assert [p.content_type for p in photos] == ["image/png", "image/jpeg"]
    assert {p.event.seq for p in photos} == {1}


def test_not_sure_leaves_the_category_empty(client, entrance):
    report(client, entrance, category="other")
    assert Case.objects.get().category is None


def test_browser_position_refines_the_place_near_the_entrance_and_is_refused_far_away(
        client, tiny, entrance):
    # A point 190 m from the entrance (inside its compound's square) refines the position …
    report(client, entrance, key="a" * 20, lng="121.427", lat="31.15")
    near = Case.objects.get()
    assert near.compound == tiny.compounds["S1N1C1"] and near.entrance == entrance
    assert abs(near.lng - 121.427) < 1e-9
    # … a point in the neighbouring compound, 4.7 km away, is refused, and the form comes
    # back without it, so sending again places the report at the entrance.
    res = report(client, entrance, key="b" * 20, lng="121.475", lat="31.15")
    assert res.status_code == 400 and "300 米" in res.content.decode()
    assert res.context["form"]["lng"].value() in ("", None)
    assert Case.objects.count() == 1


def test_double_submit_with_the_same_form_key_creates_one_case(client, entrance):
    first = report(client, entrance, photos=[upload(PNG)])
    second = report(client, entrance, photos=[upload(PNG)])
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1 and CaseAttachment.objects.count() == 1


def test_a_point_in_the_entrances_own_compound_keeps_the_entrance(client, tiny, entrance):
    report(client, entrance, lng="121.425", lat="31.15")
    case = Case.objects.get()
    assert case.entrance == entrance and abs(case.lng - 121.425) < 1e-9


def test_a_file_that_is_not_a_photo_is_refused_and_the_input_kept(client, entrance):
    res = report(client, entrance, description="垃圾满溢", photos=[upload(b"MZ\x90\x00", "x.png")])
    assert res.status_code == 400
    body = res.content.decode()
    assert "不是 JPEG 或 PNG 照片" in body and "垃圾满溢" in body
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()


def test_reports_are_rate_limited_per_ip_with_a_chinese_message(client, tiny, entrance):
    for i in range(views.REPORT_LIMIT):
        assert report(client, entrance, key=f"{i:020d}").status_code == 302
    # Another entrance, same IP: still refused.
    other = tiny.entrances["S1N1C2"]
    res = report(client, other, key="x" * 20)
    assert res.status_code == 429
    assert "提交过于频繁" in res.content.decode()
    assert Case.objects.count() == views.REPORT_LIMIT


def test_reports_are_rate_limited_per_entrance_across_ips(client, entrance):
    for i in range(views.REPORT_LIMIT):
        report(client, entrance, key=f"{i:020d}", ip=f"10.0.1.{i}")
    res = report(client, entrance, key="y" * 20, ip="10.0.2.1")
    assert res.status_code == 429 and Case.objects.count() == views.REPORT_LIMIT


def test_a_retry_of_a_filed_report_is_answered_even_over_the_limit(client, entrance):
    for i in range(views.REPORT_LIMIT):
        report(client, entrance, key=f"{i:020d}")
    res = report(client, entrance, key=f"{0:020d}")
    assert res.status_code == 302 and Case.objects.count() == views.REPORT_LIMIT


def test_unknown_home_code_is_404(client, db):
    assert client.get("/h/nope/report/").status_code == 404


# --- tracking -----------------------------------------------------------------------------

def test_tracking_page_shows_state_deadline_and_a_public_timeline(client, tiny, entrance,
                                                                  make_user):
    report(client, entrance)
    case = close_case(Case.objects.get(), tiny, make_user)
    body = client.get(f"/t/{case.tracking_token}/").content.decode()
    assert 'data-state="closed"' in body
    assert "已处置：已更换灯泡" in body  # the outcome is the reporter's to read
    assert "王社工" not in body and "13900001111" not in body and "不属于本站职责" not in body
    assert "station:" not in body


def test_open_case_shows_its_deadline(client, entrance):
    report(client, entrance)
    case = Case.objects.get()
    body = client.get(f"/t/{case.tracking_token}/").content.decode()
    assert 'data-testid="deadline"' in body


def test_reporter_adds_a_note_with_a_photo(client, entrance):
    report(client, entrance)
    case = Case.objects.get()
    res = client.post(f"/t/{case.tracking_token}/note/",
                      {"note": "晚上九点后完全不亮", "photos": [upload(JPEG)]})
    assert res.status_code == 302
    note = CaseEvent.objects.get(case=case, action="note")
    # seq 1 report, 2 route (system), 3 the reporter's note
    assert (note.seq, note.reason, note.to_state) == (3, "晚上九点后完全不亮", "reported")
    assert note.attachments.count() == 1
    assert Case.objects.get().seq == 3


def test_an_empty_note_is_refused_and_changes_nothing(client, entrance):
    report(client, entrance)
    case = Case.objects.get()
    res = client.post(f"/t/{case.tracking_token}/note/", {"note": "  "})
    assert res.status_code == 400 and "请填写补充说明" in res.content.decode()
    assert CaseEvent.objects.filter(case=case).count() == 2  # report and route only


def test_rating_before_closure_is_refused_in_chinese(client, entrance):
    report(client, entrance)
    case = Case.objects.get()
    res = client.post(f"/t/{case.tracking_token}/rate/", {"rating": "satisfied"})
    assert res.status_code == 400 and "不能执行「评价」" in res.content.decode()
    assert Case.objects.get().state == "reported"


def test_reporter_rates_a_closed_case(client, tiny, entrance, make_user):
    report(client, entrance)
    case = close_case(Case.objects.get(), tiny, make_user)
    res = client.post(f"/t/{case.tracking_token}/rate/", {"rating": "basically_satisfied"})
    assert res.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.rating) == ("rated", "basically_satisfied")


def test_reporter_reopens_a_closed_case_with_a_reason(client, tiny, entrance, make_user):
    report(client, entrance)
    case = close_case(Case.objects.get(), tiny, make_user)
    assert client.post(f"/t/{case.tracking_token}/reopen/", {"reason": ""}).status_code == 400
    res = client.post(f"/t/{case.tracking_token}/reopen/", {"reason": "灯又坏了"})
    assert res.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.reopened_count) == ("accepted", 1)


def test_a_merged_case_shows_and_follows_the_surviving_case(client, tiny, entrance, make_user):
    report(client, entrance, key="a" * 20)
    report(client, entrance, key="b" * 20, ip="10.9.9.9")
    first, second = Case.objects.order_by("id")
    staff = make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    act(case=second, user=staff, kind="merge", into_case=first)
    act(case=first, user=staff, kind="accept")
    body = client.get(f"/t/{second.tracking_token}/").content.decode()
    assert first.number in body and 'data-testid="merged-note"' in body
    assert 'data-state="accepted"' in body
    # A note on the merged case lands on the surviving one.
    client.post(f"/t/{second.tracking_token}/note/", {"note": "同一个问题"})
    assert CaseEvent.objects.filter(case=first, action="note").exists()


def test_a_photo_of_another_case_is_not_served_on_a_tracking_link(client, entrance):
    report(client, entrance, key="a" * 20, photos=[upload(PNG)])
    report(client, entrance, key="b" * 20)
    first, second = Case.objects.order_by("id")
    photo = CaseAttachment.objects.get()
    assert client.get(f"/t/{first.tracking_token}/photos/{photo.pk}/").status_code == 200
    assert client.get(f"/t/{second.tracking_token}/photos/{photo.pk}/").status_code == 404


def test_unknown_tracking_token_is_404(client, db):
    assert client.get("/t/unknown-token/").status_code == 404
