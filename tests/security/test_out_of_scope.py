"""Item 11 (part): an object in another area answers exactly as one that does not exist.

On main before this change such an object answered 403 ``out_of_scope`` and a missing one 404,
so staff could tell which codes and numbers exist in other areas."""

from __future__ import annotations

import json

import pytest

MISSING_COMPOUND = "310115999999999"


def _with_code(body: dict, missing: str, code: str) -> dict:
    """The reply about the missing code, as it would read about ``code``."""
    return json.loads(json.dumps(body, ensure_ascii=False).replace(missing, code))


@pytest.fixture
def staff(tiny, make_user, login):
    return login(make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))


def test_another_areas_compound_reads_as_missing_in_the_api(staff, tiny):
    other = staff.get(f"/api/v1/registry/compounds/{tiny.compounds['S2N1C1'].code}")
    missing = staff.get(f"/api/v1/registry/compounds/{MISSING_COMPOUND}")
    code = tiny.compounds["S2N1C1"].code
    assert other.status_code == missing.status_code == 404
    assert other.json() == _with_code(missing.json(), MISSING_COMPOUND, code)
    assert other.json()["error"]["code"] == "not_found"


def test_changing_another_areas_compound_reads_as_missing_and_changes_nothing(staff, tiny):
    target = tiny.compounds["S2N1C1"]
    before = target.households
    other = staff.patch(f"/api/v1/registry/compounds/{target.code}",
                        data=json.dumps({"households": 999}), content_type="application/json")
    missing = staff.patch(f"/api/v1/registry/compounds/{MISSING_COMPOUND}",
                          data=json.dumps({"households": 999}), content_type="application/json")
    assert other.status_code == missing.status_code == 404
    assert other.json() == _with_code(missing.json(), MISSING_COMPOUND, target.code)
    target.refresh_from_db()
    assert target.households == before


def test_another_areas_compound_page_is_the_plain_404_page(staff, tiny):
    other = staff.get(f"/registry/compounds/{tiny.compounds['S2N1C1'].code}/")
    assert other.status_code == 404
    body = other.content.decode()
    assert tiny.compounds["S2N1C1"].name not in body
    assert "管辖范围" not in body  # nothing says "it exists, but is not yours"
