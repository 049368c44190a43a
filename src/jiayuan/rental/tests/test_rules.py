"""The rental rules, one hand-made unit per case: codes, rooms and the Chinese reasons."""

from __future__ import annotations

import pytest

from jiayuan.rental.engine import (
    RentalRuleError,
    RentalSettings,
    Room,
    RoomKind,
    Rule,
    Unit,
    check_unit,
)

from .builders import flat, room, unit


def codes(u: Unit, settings: RentalSettings | None = None) -> list[str]:
    return [r.value for r in check_unit(u, settings).rules]


def test_a_plain_flat_is_compliant():
    result = check_unit(flat())
    assert result.compliant and result.rules == () and result.reasons == ()


# people_per_room ---------------------------------------------------------------------------

def test_three_in_a_room_breaks_people_per_room_naming_the_room():
    result = check_unit(flat(room("B3", area=20, occupants=3)))
    assert [r.value for r in result.rules] == ["people_per_room"]
    assert result.rooms_breaking(Rule.PEOPLE_PER_ROOM) == ("B3",)
    assert result.reasons == ("卧室 B3 住 3 人，超过每间 2 人上限，且无法定赡养扶养关系",)


def test_a_family_with_a_duty_of_support_may_share_a_room():
    assert codes(flat(room("B3", area=20, occupants=4, support=True))) == []


def test_two_in_a_room_is_the_limit_and_the_limit_is_a_setting():
    assert codes(flat(room("B3", area=20, occupants=2))) == []
    assert codes(flat(), RentalSettings(max_people_per_room=1)) == ["people_per_room"]


# area_per_person ---------------------------------------------------------------------------

def test_area_per_person_below_five_square_metres():
    u = unit(room("B1", area=9.9, occupants=2))
    result = check_unit(u)
    assert [r.value for r in result.rules] == ["area_per_person"]
    assert "人均 4.95 平方米，低于人均 5 平方米下限" in result.reasons[0]


def test_exactly_five_square_metres_per_person_is_enough_even_from_decimal_sums():
    assert codes(unit(room("B1", area=2.1, occupants=0), room("B2", area=2.9, occupants=1))) == []
    assert codes(unit(room("B1", area=10, occupants=2))) == []


def test_occupants_of_every_room_count_but_only_bedrooms_and_let_living_rooms_are_living_area():
    # 12 m² of bedroom, one person there and one in the kitchen: 6 m² each, but non-living.
    assert codes(unit(room("B1", area=12, occupants=1), room("K", "kitchen", 30, occupants=1))) == \
        ["non_living_space"]
    # a 30 m² living room not let adds nothing: 8 m² for 2 people is 4 each.
    assert codes(unit(room("B1", area=8, occupants=2), room("L", "living_room", 30))) == \
        ["area_per_person"]
    # let under X+1 with a permit, it counts: (8 + 30) / 3.
    assert codes(unit(room("B1", area=8, occupants=2), room("L", "living_room", 30, occupants=1),
                      permit=True)) == []


def test_an_empty_unit_breaks_no_per_person_rule():
    assert codes(unit(room("B1", area=1), room("L", "living_room", 3))) == []


# non_living_space ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["kitchen", "bathroom", "balcony", "storage", "basement",
                                  "dining", "corridor"])
def test_nobody_lives_in_a_non_living_space(kind):
    result = check_unit(flat(room("X", kind, 8, occupants=1)))
    assert [r.value for r in result.rules] == ["non_living_space"]
    assert result.rooms_breaking(Rule.NON_LIVING_SPACE) == ("X",)
    assert result.reasons[0].startswith(f"{room('X', kind).label} 住 1 人，")


# not_registrable -------------------------------------------------------------------------

@pytest.mark.parametrize("mark", ["illegal_structure", "seizure", "fire"])
def test_a_marked_unit_is_not_registrable(mark):
    assert codes(flat(marks=(mark,))) == ["not_registrable"]


def test_the_reason_names_every_mark():
    result = check_unit(flat(marks=("fire", "illegal_structure")))
    assert result.reasons == ("房屋有违法建筑、消防不达标注记，不得登记备案出租",)


# partitioned -------------------------------------------------------------------------------

def test_a_partitioned_bedroom_breaks_partitioned():
    result = check_unit(unit(room("B1", area=20, occupants=2, partitioned=True)))
    assert [r.value for r in result.rules] == ["partitioned"]
    assert result.reasons[0].startswith("卧室 B1 被隔断")


def test_a_partitioned_living_room_under_a_valid_permit_is_compliant():
    assert codes(flat(room("L", "living_room", 14, occupants=1, partitioned=True), permit=True)) == []


def test_a_partitioned_living_room_without_permit_is_x_plus_1_only():
    assert codes(flat(room("L", "living_room", 14, partitioned=True))) == ["x_plus_1"]


# x_plus_1 ----------------------------------------------------------------------------------

def test_a_living_room_with_occupants_needs_the_permit():
    result = check_unit(flat(room("L", "living_room", 14, occupants=1)))
    assert [r.value for r in result.rules] == ["x_plus_1"]
    assert result.rooms_breaking(Rule.X_PLUS_1) == ("L",)
    assert result.reasons == ("客厅 L 作为房间出租（有人居住或已隔断），但无 X+1 许可",)


def test_a_let_living_room_under_twelve_square_metres_breaks_x_plus_1_even_with_a_permit():
    result = check_unit(flat(room("L", "living_room", 11.5, occupants=1), permit=True))
    assert [r.value for r in result.rules] == ["x_plus_1"]
    assert "客厅 L 11.5 平方米，不足 X+1 要求的 12 平方米" in result.reasons[0]
    assert codes(flat(room("L", "living_room", 12, occupants=1), permit=True)) == []


def test_only_one_living_room_may_be_let():
    u = flat(room("L1", "living_room", 15, occupants=1), room("L2", "living_room", 15, occupants=1),
             permit=True)
    result = check_unit(u)
    assert [r.value for r in result.rules] == ["x_plus_1"]
    assert result.rooms_breaking(Rule.X_PLUS_1) == ("L1", "L2")
    assert "出租客厅 2 间" in result.reasons[0]


def test_an_unlet_living_room_needs_no_permit_and_a_permit_alone_breaks_nothing():
    assert codes(flat(room("L", "living_room", 8))) == []
    assert codes(flat(permit=True)) == []


# several rules -------------------------------------------------------------------------------

def test_codes_are_sorted_with_one_reason_each_in_the_same_order():
    u = unit(room("B1", area=6, occupants=3, partitioned=True),
             room("L", "living_room", 10, occupants=2),
             room("K", "kitchen", 4, occupants=1), marks=("seizure",))
    result = check_unit(u)
    assert [r.value for r in result.rules] == [
        "area_per_person", "non_living_space", "not_registrable", "partitioned",
        "people_per_room", "x_plus_1"]
    assert len(result.reasons) == 6
    assert result.reasons[4].startswith("卧室 B1 住 3 人")
    assert result.reasons[5].startswith("客厅 L 作为房间出租")
    assert all("；" not in reason for reason in result.reasons)


# bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"max_people_per_room": 0}, {"min_area_per_person_m2": -1},
                                    {"min_living_room_m2": float("nan")}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(RentalRuleError) as exc:
        RentalSettings(**kwargs)
    assert exc.value.code == "invalid_settings"


@pytest.mark.parametrize("area,occupants", [(-1.0, 0), (float("inf"), 0), (10.0, -1)])
def test_bad_rooms_are_refused(area, occupants):
    with pytest.raises(RentalRuleError) as exc:
        Room("B1", RoomKind.BEDROOM, area, occupants)
    assert exc.value.code == "invalid_room"


def test_a_duplicate_room_in_a_unit_is_refused():
    with pytest.raises(RentalRuleError) as exc:
        unit(room("B1"), room("B1"))
    assert exc.value.code == "duplicate_room"
