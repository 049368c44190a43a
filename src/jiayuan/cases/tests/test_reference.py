"""The shipped category dictionary and default time limits load, cohere and are checked."""

from __future__ import annotations

import pytest

from jiayuan.cases.reference import (
    default_limit,
    load_categories,
    load_time_limits,
    parse_categories,
    parse_time_limits,
)
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.core.errors import ImportRejected

CATEGORY_HEADER = "scheme,kind,level,code,name,major_code,major_name,firmness,source\n"
LIMIT_HEADER = ("category_code,category_name,request_type,step,amount,unit,is_default,"
                "firmness,source,note\n")


def test_shipped_categories_have_both_kinds_and_every_minor_sits_under_a_known_major():
    cats = load_categories()
    assert {c.kind for c in cats} == {"component", "event"}
    majors = {(c.scheme, c.kind, c.code) for c in cats if c.level == "major"}
    for c in cats:
        if c.level == "minor":
            assert (c.scheme, c.kind, c.major_code) in majors
    names = {c.code: c.name for c in cats if c.kind == "event" and c.level == "minor"}
    assert names["06001"] == "私搭乱建" and names["09012"] == "占用消防通道"


def test_shipped_time_limits_carry_source_and_firmness_and_match_the_reference():
    rows = load_time_limits()
    assert all(r.source and r.firmness in {"[C]", "[R]", "[U]"} for r in rows)
    assert default_limit(rows, category="06010") == TimeLimit(4, TimeUnit.WORKING_HOURS)
    assert default_limit(rows, request_type="complaint") == TimeLimit(13, TimeUnit.WORKING_DAYS)
    assert default_limit(rows, request_type="consultation") == TimeLimit(3, TimeUnit.WORKING_DAYS)
    assert default_limit(rows, step="dispatch") == TimeLimit(5, TimeUnit.MINUTES)
    assert default_limit(rows, category="06001", step="demolition") == TimeLimit(
        20, TimeUnit.WORKING_DAYS)


def test_a_category_without_its_own_limit_falls_back_to_the_request_type():
    rows = load_time_limits()
    assert default_limit(rows, category="09009", request_type="complaint") == TimeLimit(
        13, TimeUnit.WORKING_DAYS)
    assert default_limit(rows, category="09009") is None


def test_broken_category_file_is_refused_with_every_problem_and_its_row():
    text = CATEGORY_HEADER + (
        "gbt47678,event,minor,6001,私搭乱建,06,市容环境类,[R],x\n"
        "gbt47678,thing,major,06,市容环境类,06,市容环境类,[X],x\n"
    )
    with pytest.raises(ImportRejected) as info:
        parse_categories(text)
    found = {(p["row"], p["column"]) for p in info.value.problems}
    assert found == {(2, "code"), (3, "kind"), (3, "firmness")}


def test_time_limit_with_unknown_category_unit_or_double_default_is_refused():
    cats = load_categories()
    text = LIMIT_HEADER + (
        "99999,不存在,,handle,1,working_days,yes,[C],s,\n"
        "06010,暴露垃圾,,handle,1,fortnights,yes,[C],s,\n"
        ",,complaint,handle,13,working_days,yes,[C],s,\n"
        ",,complaint,handle,10,working_days,yes,[C],s,\n"
    )
    with pytest.raises(ImportRejected) as info:
        parse_time_limits(text, cats)
    found = {(p["row"], p["column"]) for p in info.value.problems}
    assert found == {(2, "category_code"), (3, "amount"), (5, "is_default")}


def test_wrong_header_is_refused():
    with pytest.raises(ImportRejected):
        parse_categories("code,name\n01,x\n")
