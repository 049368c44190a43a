"""Hand-made units for the rental rules' tests."""

from __future__ import annotations

from jiayuan.rental.engine import Mark, Room, RoomKind, Unit


def room(room_id: str, kind: str = "bedroom", area: float = 12.0, occupants: int = 0, *,
         partitioned: bool = False, support: bool = False) -> Room:
    return Room(room_id, RoomKind(kind), area, occupants, partitioned, support)


def unit(*rooms: Room, permit: bool = False, marks: tuple[str, ...] = (), unit_id: str = "U1") -> Unit:
    return Unit(unit_id, tuple(rooms), permit, frozenset(Mark(m) for m in marks))


def flat(*extra: Room, permit: bool = False, marks: tuple[str, ...] = ()) -> Unit:
    """Two bedrooms of 14 m² with two people each, a kitchen and a bathroom: compliant, plus
    ``extra`` rooms."""
    return unit(room("B1", area=14, occupants=2), room("B2", area=14, occupants=2),
                room("K", "kitchen", 6), room("W", "bathroom", 4), *extra,
                permit=permit, marks=marks)
