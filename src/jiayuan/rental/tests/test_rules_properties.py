"""Properties of the rental rules over generated units (hypothesis)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.rental.engine import (
    Mark,
    RentalSettings,
    Room,
    RoomKind,
    Rule,
    Unit,
    check_unit,
    let_living_rooms,
)

areas = st.one_of(st.integers(0, 40).map(float),
                  st.decimals(0, 40, places=2).map(lambda d: float(d)))


@st.composite
def units(draw: st.DrawFn) -> Unit:
    n = draw(st.integers(0, 7))
    rooms = tuple(
        Room(f"R{i}", draw(st.sampled_from(list(RoomKind))), draw(areas), draw(st.integers(0, 5)),
             draw(st.booleans()), draw(st.booleans()))
        for i in range(n)
    )
    marks = frozenset(draw(st.sets(st.sampled_from(list(Mark)))))
    return Unit("U", rooms, draw(st.booleans()), marks)


rental_settings = st.builds(RentalSettings, max_people_per_room=st.integers(1, 4),
                            min_area_per_person_m2=st.sampled_from([0.0, 4.0, 5.0, 7.5]),
                            min_living_room_m2=st.sampled_from([0.0, 10.0, 12.0, 15.0]))

PER_PERSON = {Rule.PEOPLE_PER_ROOM, Rule.AREA_PER_PERSON}


@given(units(), rental_settings)
def test_codes_are_sorted_and_unique_compliant_means_no_codes_and_one_reason_per_code(u, s):
    result = check_unit(u, s)
    codes = [r.value for r in result.rules]
    assert codes == sorted(set(codes))
    assert result.compliant == (codes == [])
    assert len(result.reasons) == len(codes) and all(result.reasons)
    assert all("；" not in reason for reason in result.reasons)


@given(units(), rental_settings)
def test_checking_is_deterministic(u, s):
    assert check_unit(u, s) == check_unit(u, s)


@given(units(), rental_settings)
def test_a_unit_with_no_occupants_marks_or_partitions_is_compliant(u, s):
    empty = dataclasses.replace(
        u, marks=frozenset(),
        rooms=tuple(dataclasses.replace(r, occupants=0, partitioned=False) for r in u.rooms))
    assert check_unit(empty, s).compliant


@given(units(), rental_settings, st.data())
def test_removing_occupants_never_adds_a_per_person_breach(u, s, data):
    """As long as the same living rooms stay let (the living area is then unchanged)."""
    fewer = tuple(dataclasses.replace(r, occupants=data.draw(st.integers(0, r.occupants)))
                  for r in u.rooms)
    v = dataclasses.replace(u, rooms=fewer)
    if {r.room_id for r in let_living_rooms(u)} != {r.room_id for r in let_living_rooms(v)}:
        return
    before = set(check_unit(u, s).rules) & PER_PERSON
    after = set(check_unit(v, s).rules) & PER_PERSON
    assert after <= before


@given(units(), rental_settings)
def test_the_support_relation_only_ever_lifts_people_per_room(u, s):
    supported = dataclasses.replace(
        u, rooms=tuple(dataclasses.replace(r, support_relation=True) for r in u.rooms))
    plain = set(check_unit(u, s).rules)
    assert set(check_unit(supported, s).rules) == plain - {Rule.PEOPLE_PER_ROOM}


@given(units(), rental_settings)
def test_marks_decide_not_registrable_and_nothing_else(u, s):
    unmarked = dataclasses.replace(u, marks=frozenset())
    marked = dataclasses.replace(u, marks=frozenset({Mark.FIRE}))
    assert set(check_unit(marked, s).rules) == set(check_unit(unmarked, s).rules) | {Rule.NOT_REGISTRABLE}


@given(units(), rental_settings)
def test_stricter_numbers_never_forgive_a_breach(u, s):
    stricter = RentalSettings(max_people_per_room=max(1, s.max_people_per_room - 1),
                              min_area_per_person_m2=s.min_area_per_person_m2 + 1,
                              min_living_room_m2=s.min_living_room_m2 + 1)
    assert set(check_unit(u, s).rules) <= set(check_unit(u, stricter).rules)


@given(units(), rental_settings)
def test_rooms_named_by_a_breach_are_rooms_of_the_unit_that_break_it(u, s):
    ids = {r.room_id: r for r in u.rooms}
    for breach in check_unit(u, s).breaches:
        assert set(breach.rooms) <= set(ids)
        for rid in breach.rooms:
            room = ids[rid]
            assert rid in breach.reason
            if breach.rule is Rule.PARTITIONED:
                assert room.partitioned and room.kind is not RoomKind.LIVING_ROOM
            if breach.rule is Rule.PEOPLE_PER_ROOM:
                assert room.occupants > s.max_people_per_room and not room.support_relation


@settings(max_examples=50)
@given(st.lists(units(), max_size=5), rental_settings)
def test_units_are_checked_independently(us, s):
    from jiayuan.rental.engine import check_units

    assert check_units(us, s) == [check_unit(u, s) for u in us]


def reference_codes(u: Unit, s: RentalSettings) -> list[str]:
    """The issue's definitions, written out plainly and independently of the engine."""
    codes = set()
    living_rooms_let = [r for r in u.rooms if r.kind == "living_room" and (r.occupants or r.partitioned)]
    people = sum(r.occupants for r in u.rooms)
    area = sum(r.usable_area_m2 for r in u.rooms if r.kind == "bedroom") + \
        sum(r.usable_area_m2 for r in living_rooms_let)
    if people and area / people < s.min_area_per_person_m2 - 1e-9:
        codes.add("area_per_person")
    if any(r.occupants for r in u.rooms
           if r.kind in {"kitchen", "bathroom", "balcony", "storage", "basement", "dining", "corridor"}):
        codes.add("non_living_space")
    if u.marks:
        codes.add("not_registrable")
    if any(r.partitioned for r in u.rooms if r.kind != "living_room"):
        codes.add("partitioned")
    if any(r.occupants > s.max_people_per_room and not r.support_relation for r in u.rooms):
        codes.add("people_per_room")
    if living_rooms_let and (not u.x_plus_1_permit or len(living_rooms_let) > 1
                             or any(r.usable_area_m2 < s.min_living_room_m2 for r in living_rooms_let)):
        codes.add("x_plus_1")
    return sorted(codes)


@settings(max_examples=300)
@given(units(), rental_settings)
def test_the_engine_agrees_with_a_plain_reading_of_the_issue(u, s):
    assert [r.value for r in check_unit(u, s).rules] == reference_codes(u, s)
