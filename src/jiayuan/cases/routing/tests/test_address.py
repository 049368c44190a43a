from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.cases.routing.address import (
    AddressMatcher,
    CompoundRecord,
    normalise_address,
)

COMPOUNDS = [
    CompoundRecord("C1", "锦绣苑", aliases=("锦绣小区",), address="崂山路123弄"),
    CompoundRecord("C2", "阳光花园", address="崂山路125弄"),
    CompoundRecord("C3", "梅园一村", address="张杨路1500号"),
    CompoundRecord("C4", "梅园二村", address="张杨路1600号"),
    CompoundRecord("C5", "东方名邸", aliases=("东方公寓",), address="东方路88号"),
]


@pytest.fixture(scope="module")
def matcher() -> AddressMatcher:
    return AddressMatcher(COMPOUNDS)


@pytest.mark.parametrize(("raw", "expected"), [
    ("上海市浦东新区潍坊新村街道崂山路１２３弄３栋", "崂山路123弄3号"),
    ("浦东新区张江镇阳光小区3号楼", "阳光小区3号"),
    ("梅园一村5幢", "梅园一村5号"),
    ("锦绣苑一〇八弄", "锦绣苑108弄"),
    ("古镇花园", "古镇花园"),  # a one-character town name is part of the compound's name
])
def test_normalisation_strips_prefixes_and_unifies_numbers(raw, expected):
    assert normalise_address(raw) == expected


def test_exact_name_matches(matcher):
    m = matcher.match("锦绣苑")
    assert (m.status, m.code, m.score) == ("matched", "C1", 100.0)


def test_alias_and_noise_around_the_name_still_match(matcher):
    assert matcher.match("上海市浦东新区东方公寓3号楼门口").code == "C5"
    assert matcher.match("浦东新区锦绣小区东门旁边").code == "C1"


def test_road_and_number_with_full_width_digits_match(matcher):
    m = matcher.match("浦东新区崂山路１２３弄５号")
    assert (m.status, m.code) == ("matched", "C1")


def test_a_different_lane_number_on_the_same_road_does_not_match(matcher):
    # 崂山路124弄 is neither 123弄 nor 125弄, however alike the strings are.
    m = matcher.match("崂山路124弄")
    assert m.status == "none" and m.code is None


def test_two_close_candidates_are_ambiguous_and_both_reported(matcher):
    m = matcher.match("梅园村")
    assert m.status == "ambiguous" and m.code is None
    assert {c.code for c in m.candidates} == {"C3", "C4"}


def test_unrelated_text_matches_nothing(matcher):
    m = matcher.match("人民广场")
    assert m.status == "none" and m.code is None


def test_duplicate_compound_codes_are_refused():
    with pytest.raises(ValueError):
        AddressMatcher([COMPOUNDS[0], COMPOUNDS[0]])


@given(st.sampled_from(COMPOUNDS), st.sampled_from(["", "上海市", "浦东新区", "上海市浦东新区花木街道"]),
       st.sampled_from(["", "3号楼", "东门", "门口"]))
def test_a_compound_name_with_any_prefix_and_suffix_finds_that_compound(compound, prefix, suffix):
    m = AddressMatcher(COMPOUNDS).match(f"{prefix}{compound.name}{suffix}")
    assert m.code == compound.code or (m.status == "ambiguous"
                                       and compound.code in {c.code for c in m.candidates})


def test_lane_address_is_found_among_many_compounds_on_the_same_road():
    # Given 300 compounds along one road (more than the shortlist holds),
    many = [CompoundRecord(f"L{n}", f"崂山{n}号小区", address=f"崂山路{n}弄") for n in range(1, 301)]
    # when a resident gives only the lane and door number,
    m = AddressMatcher(many).match("上海市浦东新区崂山路２７７弄５号")
    # then the compound on that lane is found, not a neighbour with a similar number.
    assert (m.status, m.code) == ("matched", "L277")


def test_same_lane_registered_twice_is_ambiguous():
    twins = [*COMPOUNDS, CompoundRecord("C9", "新锦绣", address="崂山路123弄")]
    m = AddressMatcher(twins).match("崂山路123弄")
    assert m.status == "ambiguous" and {c.code for c in m.candidates} >= {"C1", "C9"}


ADDRESS_PARTS = st.lists(st.sampled_from(
    ["上海市", "浦东新区", "花木街道", "张江镇", "锦绣", "阳光", "小区", "苑", "新村", "崂山路",
     "１２３", "45", "弄", "号", "栋", "幢", "号楼", "一〇八", " ", "，", "东门"]), max_size=8)


@given(ADDRESS_PARTS)
def test_normalisation_is_idempotent_and_leaves_no_full_width_digits(parts):
    once = normalise_address("".join(parts))
    assert normalise_address(once) == once
    assert not any("０" <= ch <= "９" for ch in once)
    assert " " not in once and "，" not in once
