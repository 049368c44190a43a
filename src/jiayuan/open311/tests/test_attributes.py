"""Service attributes as data: the shipped table loads, and submitted values are checked."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from jiayuan.cases.services.catalogue import default_rows
from jiayuan.open311.attributes import (
    DATATYPES,
    AttributeTableError,
    load_attribute_table,
    parse_attribute_table,
    validate_attributes,
)

SH = ZoneInfo("Asia/Shanghai")


def test_shipped_table_refers_only_to_default_categories_and_uses_every_datatype():
    table = load_attribute_table()
    codes = {row["code"] for row in default_rows()}
    assert set(table) <= codes
    assert {a.datatype for attrs in table.values() for a in attrs} == set(DATATYPES)


@pytest.mark.parametrize(("raw", "message"), [
    ({"X": [{"code": "a", "datatype": "colour", "description": "d"}]}, "datatype"),
    ({"X": [{"code": "a", "datatype": "singlevaluelist", "description": "d"}]}, "values"),
    ({"X": [{"code": "a", "datatype": "string", "description": "d"},
           {"code": "a", "datatype": "number", "description": "e"}]}, "重复"),
    ({"X": [{"code": "a", "datatype": "text", "description": "d", "variable": False,
             "required": True}]}, "说明性"),
    ({"X": [{"code": "a[0]", "datatype": "text", "description": "d"}]}, "方括号"),
])
def test_malformed_table_is_refused_with_the_fault_named(raw, message):
    with pytest.raises(AttributeTableError, match=message):
        parse_attribute_table(raw)


@pytest.fixture
def noise():
    return load_attribute_table()["06028"]


def test_valid_values_are_cleaned(noise):
    clean, problems = validate_attributes(
        noise, {"noise_source": ["shop", "traffic", "shop"],
                "noise_started_at": ["2026-11-16T22:30:00+08:00"]}, tz=SH)
    assert problems == []
    assert clean == {"noise_source": ["shop", "traffic"],
                     "noise_started_at": "2026-11-16T22:30:00+08:00"}


def test_every_fault_is_reported_not_just_the_first(noise):
    _, problems = validate_attributes(
        noise, {"noise_source": ["shop", "thunder"], "noise_started_at": ["22:30"],
                "colour": ["red"]}, tz=SH)
    assert len(problems) == 3
    assert any("thunder" in p for p in problems)
    assert any("colour" in p for p in problems)


def test_required_attribute_missing_is_refused(noise):
    _, problems = validate_attributes(noise, {}, tz=SH)
    assert problems == [p for p in problems if "noise_source" in p] and problems


def test_numbers_single_values_and_notices_are_checked():
    table = load_attribute_table()
    _, p1 = validate_attributes(table["09009"], {"vehicle_count": ["many"]}, tz=SH)
    _, p2 = validate_attributes(table["01037"], {"fault": ["off", "flicker"]}, tz=SH)
    _, p3 = validate_attributes(table["09012"], {"fire_notice": ["ok"]}, tz=SH)
    clean, p4 = validate_attributes(table["09009"], {"vehicle_count": ["3"]}, tz=SH)
    assert "数字" in p1[0] and "一个值" in p2[0] and "说明" in p3[0]
    assert p4 == [] and clean == {"vehicle_count": 3}


def test_string_is_one_line_and_limited():
    attrs = load_attribute_table()["09009"]
    _, long_problems = validate_attributes(attrs, {"plate_number": ["沪" * 201]}, tz=SH)
    _, line_problems = validate_attributes(attrs, {"plate_number": ["沪A\n12345"]}, tz=SH)
    assert "200" in long_problems[0] and "单行" in line_problems[0]
