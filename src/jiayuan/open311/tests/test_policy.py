"""The channel policy table and the coarse grid (pure)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.open311.policy import PolicyError, coarsen, load_policies, parse_policies, policy_of

HEADER = "channel,listed,description,position,note\n"


def test_the_packaged_table_keeps_machine_and_call_channels_internal():
    table = load_policies()
    for channel in ("video_ai", "sensor", "hotline_12345"):
        assert not table[channel].listed and not table[channel].show_description
    assert table["open311"].listed and table["open311"].show_description
    home = table["home_code"]
    assert home.listed and not home.show_description
    assert not home.exact_position(consent=False) and home.exact_position(consent=True)


def test_an_internal_row_can_neither_show_its_text_nor_its_exact_position():
    table = parse_policies(HEADER + "video_ai,internal,shown,exact,wrong on purpose\n")
    p = table["video_ai"]
    assert (p.listed, p.show_description, p.exact_position(consent=True)) == (False, False, False)


def test_an_unknown_channel_is_internal():
    p = policy_of({}, "new_channel")
    assert not p.listed and not p.show_description and not p.exact_position(consent=True)


@pytest.mark.parametrize("row", ["open311,public,shown,somewhere,x", "open311,yes,shown,exact,x",
                                 ",public,shown,exact,x"])
def test_a_bad_row_refuses_the_table(row):
    with pytest.raises(PolicyError):
        parse_policies(HEADER + row + "\n")


def test_a_repeated_channel_refuses_the_table():
    with pytest.raises(PolicyError, match="repeated"):
        parse_policies(HEADER + "open311,public,shown,exact,a\nopen311,internal,withheld,coarse,b\n")


@given(st.floats(min_value=18.0, max_value=53.0), st.floats(min_value=73.0, max_value=135.0),
       st.sampled_from([100.0, 150.0, 200.0]))
def test_a_coarse_point_is_the_centre_of_its_square(lat, lng, grid):
    c_lat, c_lng = coarsen(lat, lng, grid_m=grid)
    assert coarsen(c_lat, c_lng, grid_m=grid) == (c_lat, c_lng)
    dy = (c_lat - lat) * 111_320
    dx = (c_lng - lng) * 111_320 * math.cos(math.radians(c_lat))
    assert abs(dy) <= grid / 2 + 0.2 and abs(dx) <= grid / 2 + 0.5
