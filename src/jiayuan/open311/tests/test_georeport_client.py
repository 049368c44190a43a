"""An independent client from PyPI (georeport 0.3.1) reads our API over real HTTP.

georeport covers the GET side; the POST goes through ``requests`` as a plain form, as any
client would send it. Runs against pytest-django's ``live_server``.
"""

from __future__ import annotations

import pytest

georeport = pytest.importorskip("georeport", reason="georeport is not installed")
requests = pytest.importorskip("requests", reason="requests is not installed")

from .conftest import INSIDE, PLAIN_KEY  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _categories_back_after_the_flush(django_db_blocker):
    """Live-server tests are transactional: the database is flushed after each, taking the
    categories the migrations installed. Put them back for the tests that run after these.
    (Serialized rollback would too, but clashes with content types another transactional
    test's flush has recreated.)"""
    yield
    from jiayuan.cases.models import Category
    from jiayuan.cases.services.catalogue import install_default_categories

    with django_db_blocker.unblock():
        install_default_categories(Category)


@pytest.fixture
def root(live_server, transactional_db, tiny):
    from jiayuan.cases.models import Category
    from jiayuan.cases.services.catalogue import install_default_categories

    install_default_categories(Category)  # gone if an earlier transactional test flushed
    return f"{live_server.url}/open311/v2"


def _post(root: str, fmt: str = "json", **extra: str) -> requests.Response:
    form = {"api_key": PLAIN_KEY, "service_code": "06028", "description": "工地夜间施工",
            "attribute[noise_source][]": ["construction", "traffic"], **INSIDE, **extra}
    return requests.post(f"{root}/requests.{fmt}", data=form, timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_client_reads_services_and_a_definition(root, fmt):
    client = georeport.GeoReport(root, output_format=fmt)
    services = {s["service_code"]: s for s in client.get_service_list()}
    assert services["06028"]["service_name"] == "噪声扰民"
    definition = client.get_service_definition("06028")
    if fmt == "json":
        codes = [a["code"] for a in definition["attributes"]]
    else:
        codes = [a["code"] for a in definition["attributes"]["attribute"]]
    assert codes == ["noise_source", "noise_started_at"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_client_finds_a_request_posted_as_a_form(root, fmt):
    posted = _post(root)
    assert posted.status_code == 200, posted.text
    number = posted.json()[0]["service_request_id"]
    client = georeport.GeoReport(root, output_format=fmt)
    one = client.get_service_request(number)
    assert (one["service_request_id"], one["status"], one["service_code"]) == (
        number, "open", "06028")
    listed = client.get_service_requests(service_code="06028", status="open")
    # xmltodict gives a dict for a single <request>, a list for several.
    rows = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in rows] == [number]
    by_id = client.get_service_requests(service_request_id=number)
    assert (by_id if isinstance(by_id, list) else [by_id])[0]["service_request_id"] == number


def test_client_sees_http_errors_for_unknown_ids_and_refused_posts(root):
    client = georeport.GeoReport(root)
    with pytest.raises(requests.HTTPError) as exc:
        client.get_service_request("JY00000000000000")
    assert exc.value.response.status_code == 404
    refused = _post(root, "xml", api_key="wrong")
    assert refused.status_code == 403 and b"<errors><error><code>403</code>" in refused.content
