"""JSON responses validate against the published GeoReport v2 schemas.

The schemas are unchanged copies in ``shared/data/open311-georeport-v2-schemas/`` beside the
repository (CI: ``<repo>/../shared``; a worktree: ``<repo>/../../shared``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone

from jiayuan.cases.models import Case

from .conftest import INSIDE, PLAIN_KEY, body, post_form

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
referencing = pytest.importorskip("referencing", reason="referencing is not installed")

REPO = Path(__file__).resolve().parents[4]
CANDIDATES = [REPO / "../shared/data/open311-georeport-v2-schemas",
              REPO / "../../shared/data/open311-georeport-v2-schemas"]
SCHEMAS = next((p.resolve() for p in CANDIDATES if (p / "request.json").is_file()), None)
pytestmark = pytest.mark.skipif(
    SCHEMAS is None, reason="shared/data/open311-georeport-v2-schemas not found beside the repo")


def validator(name: str):
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    assert SCHEMAS is not None
    registry = Registry().with_resources(
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
        for p in SCHEMAS.glob("*.json") if p.name != "swagger.json")
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft7Validator(schema, registry=registry,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def assert_valid(name: str, data) -> None:
    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_validator_rejects_what_the_schema_forbids():
    # Guards against a silently permissive set-up (unresolved $ref, no format checks).
    assert list(validator("requests.json").iter_errors([{"status": "pending"}]))
    if "date-time" not in jsonschema.Draft7Validator.FORMAT_CHECKER.checkers:
        pytest.skip("date-time format needs rfc3339-validator")
    assert list(validator("request.json").iter_errors(
        {"service_request_id": "1", "status": "open", "service_code": "x",
         "requested_datetime": "yesterday"}))


def test_services_validate(db, client):
    data = body(client.get("/open311/v2/services.json"))
    assert len(data) > 30
    assert_valid("services.json", data)


@pytest.mark.parametrize("code", ["06028", "09012", "06010"])
def test_service_definitions_validate(db, client, code):
    assert_valid("service-definition.json",
                 body(client.get(f"/open311/v2/services/{code}.json")))


def test_requests_and_one_request_validate(tiny, client):
    form = {"api_key": PLAIN_KEY, "service_code": "06013", "description": "道路破损",
            "attribute[damage_size]": "small", "media_url": "https://img.example.cn/1.jpg",
            **INSIDE}
    number = body(post_form(client, "json", form))[0]["service_request_id"]
    post_form(client, "json", {**form, "lat": "", "long": "", "address_string": "测试路2号",
                               "media_url": ""})
    Case.objects.filter(number=number).update(state="closed", closed_at=timezone.now(),
                                              lead_unit=f"department:{tiny.departments['S1'].code}")
    listed = body(client.get("/open311/v2/requests.json"))
    assert len(listed) == 2
    assert_valid("requests.json", listed)
    (one,) = body(client.get(f"/open311/v2/requests/{number}.json"))
    assert one["agency_responsible"] == "第1派出所" and one["status"] == "closed"
    assert_valid("request.json", one)
