"""Fixtures for the Open311 tests: configured keys, a clean rate-limit cache, a form poster."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

PLAIN_KEY = "plain-test-key"
HASHED_KEY = "hashed-test-key"
INSIDE = {"lat": "31.15", "long": "121.425"}  # compound S1N1C1 of the tiny district


@pytest.fixture(autouse=True)
def open311_settings(settings):
    settings.JIAYUAN_OPEN311_KEYS = (
        f"{PLAIN_KEY},sha256:{hashlib.sha256(HASHED_KEY.encode()).hexdigest()}")
    settings.DEMO_MODE = False
    cache.clear()
    yield settings
    cache.clear()


def post_form(client, fmt: str, data: dict[str, Any] | list[tuple[str, str]],
              headers: dict[str, str] | None = None):
    """POST a form-encoded body, as the spec prescribes."""
    return client.post(f"/open311/v2/requests.{fmt}", data=urlencode(data, doseq=True),
                       content_type="application/x-www-form-urlencoded; charset=utf-8",
                       headers=headers or {})


@pytest.fixture
def post():
    return post_form


def body(response) -> Any:
    """The response parsed: JSON as data, XML as an ElementTree element."""
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)
    return ET.fromstring(response.content)


def error_descriptions(response) -> list[str]:
    """Descriptions from a spec error body, after checking its shape in either format."""
    parsed = body(response)
    if isinstance(parsed, list):
        assert all(set(e) == {"code", "description"} and e["code"] == response.status_code
                   for e in parsed)
        return [e["description"] for e in parsed]
    assert parsed.tag == "errors"
    errors = parsed.findall("error")
    assert errors and all(e.findtext("code") == str(response.status_code) for e in errors)
    return [e.findtext("description") or "" for e in errors]
