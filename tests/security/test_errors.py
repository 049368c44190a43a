"""No 500s from ordinary bad input or an ordinary role (issue #12, item 10).

List APIs check ``offset`` and ``limit`` in one place (``core.pagination``): out of range is a
422 ``invalid_page`` with a Chinese message, before any query. A page a role may not see is
the 403 page with the refusal in Chinese, never a server error. Every page without URL
parameters, opened by every role, answers something other than 500.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

LIST_APIS = [
    "/api/v1/care/elders",
    "/api/v1/cases/cases",
    "/api/v1/registry/compounds",
    "/api/v1/index/scores",
    "/api/v1/sensors/devices",
    "/api/v1/sensors/alarms",
    "/api/v1/sensors/ngsi/devices",
    "/api/v1/sensors/ngsi/alerts",
    "/api/v1/sensors/rejected",
]
BAD_PAGES = [{"offset": -1}, {"offset": 10**30}, {"limit": 0}, {"limit": 10**9},
             {"limit": -5}]


@pytest.fixture
def admin(make_user):
    return make_user("errors-admin", "admin")


@pytest.fixture
def safe_client():
    """A client that answers 500 like the server does instead of raising the exception."""
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_APIS)
@pytest.mark.parametrize("params", BAD_PAGES)
def test_list_apis_refuse_an_out_of_range_page_with_422(tiny, admin, safe_client, url, params):
    safe_client.force_login(admin)
    r = safe_client.get(url, params)
    assert r.status_code == 422, (url, params, r.status_code)
    error = r.json()["error"]
    assert error["code"] == "invalid_page"
    assert "须在" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_APIS)
def test_list_apis_still_page_within_range(tiny, admin, safe_client, url):
    from jiayuan.index.models import IndexPeriod

    safe_client.force_login(admin)
    r = safe_client.get(url, {"offset": 0, "limit": 10})
    # The index has no run yet in this district: a 404 in the API's format, not a 500.
    expected = 404 if url.startswith("/api/v1/index/") and not IndexPeriod.objects.exists() \
        else 200
    assert r.status_code == expected, (url, r.status_code)


@pytest.mark.django_db
def test_sensors_page_as_a_property_company_is_the_403_page(tiny, make_user, safe_client):
    user = make_user("errors-property", "property_company", tiny.compounds["S1N1C1"])
    safe_client.force_login(user)
    r = safe_client.get("/sensors/")
    assert r.status_code == 403
    assert "只有工作人员可以查看设备与报警" in r.content.decode()


def _plain_urls() -> list[str]:
    """Every page URL without parameters (the API, the admin and static files left out)."""
    out: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and "<" not in route and "(" not in route \
                    and "^" not in route:
                out.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    skip = ("/api/", "/admin/", "/static/", "/media/", "/logout", "/accounts/logout")
    return sorted({u for u in out if not u.startswith(skip)})


ROLES = ["resident", "landlord", "leasing_enterprise", "property_company", "deputy",
         "liaison", "department_staff", "neighbourhood_staff", "duty_officer",
         "district_analyst", "admin"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_page_answers_500_to_any_role(tiny, make_user, safe_client, role):
    needs_area = role not in {"admin", "district_analyst", "resident"}
    area = [tiny.compounds["S1N1C1"]] if needs_area else []
    user = make_user(f"errors-{role}", role, *area)
    safe_client.force_login(user)
    urls = _plain_urls()
    assert "/sensors/" in urls
    failures = [(u, r.status_code) for u in urls
                if (r := safe_client.get(u)).status_code >= 500]
    assert failures == []


BAD_FILES = {
    "damaged.xlsx": b"PK\x03\x04 this is not a workbook",
    "damaged.zip": b"PK\x05\x06 neither is this an archive",
    # A cell longer than the csv module's field limit: csv.Error, a 500 before.
    "long-field.csv": "编码,名称\n310115001001001,\"".encode() + b"x" * 200_000 + b"\"\n",
    "utf16.csv": "编码,名称\n".encode("utf-16"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("url", ["/api/v1/registry/import", "/api/v1/sensors/devices/import"])
def test_a_bad_upload_is_a_422_with_a_chinese_message(tiny, admin, safe_client, url, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if url.endswith("devices/import") and name.endswith(".zip"):
        name = "damaged.xlsx"
    safe_client.force_login(admin)
    r = safe_client.post(url, {"file": SimpleUploadedFile(name, BAD_FILES[name])})
    assert r.status_code == 422, (url, name, r.status_code)
    error = r.json()["error"]
    assert error["code"] in {"import_rejected", "invalid", "unreadable_file"}
    text = str(error)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
