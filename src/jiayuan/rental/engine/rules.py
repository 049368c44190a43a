"""The rental-housing rules: one unit (套) in, the rules it breaks out, each with its rooms and a
Chinese reason. Pure: no Django, no I/O, no clock; the same unit and settings give the same
result. The readings of the rules are documented in docs/rental-rules.md.

Rule codes (stable, sorted as listed):

* ``area_per_person`` — living area (bedrooms, plus any living room let under X+1) divided by
  the unit's occupants (every room) is below ``min_area_per_person_m2``;
* ``non_living_space`` — a kitchen, bathroom, balcony, storage room, basement, dining area or
  corridor has occupants;
* ``not_registrable`` — the unit carries an illegal-structure, seizure or fire mark;
* ``partitioned`` — a partitioned room that is not a living room (a partitioned living room is
  let under X+1 and judged by ``x_plus_1``);
* ``people_per_room`` — a room has more than ``max_people_per_room`` occupants without a legal
  duty of support between them;
* ``x_plus_1`` — a living room is let (has occupants or is partitioned) and the unit has no
  permit, or the room is under ``min_living_room_m2``, or more than one living room is let.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import RentalRuleError


class RoomKind(StrEnum):
    BEDROOM = "bedroom"
    LIVING_ROOM = "living_room"
    DINING = "dining"
    CORRIDOR = "corridor"
    KITCHEN = "kitchen"
    BATHROOM = "bathroom"
    BALCONY = "balcony"
    STORAGE = "storage"
    BASEMENT = "basement"


class Mark(StrEnum):
    """The registry's marks that bar a unit from being registered for letting."""

    ILLEGAL_STRUCTURE = "illegal_structure"
    SEIZURE = "seizure"
    FIRE = "fire"


class Rule(StrEnum):
    AREA_PER_PERSON = "area_per_person"
    NON_LIVING_SPACE = "non_living_space"
    NOT_REGISTRABLE = "not_registrable"
    PARTITIONED = "partitioned"
    PEOPLE_PER_ROOM = "people_per_room"
    X_PLUS_1 = "x_plus_1"


#: Chinese names of the room kinds, used in reasons (and accepted in spreadsheets).
KIND_LABELS: dict[RoomKind, str] = {
    RoomKind.BEDROOM: "卧室",
    RoomKind.LIVING_ROOM: "客厅",
    RoomKind.DINING: "饭厅",
    RoomKind.CORRIDOR: "过道",
    RoomKind.KITCHEN: "厨房",
    RoomKind.BATHROOM: "卫生间",
    RoomKind.BALCONY: "阳台",
    RoomKind.STORAGE: "储藏室",
    RoomKind.BASEMENT: "地下室",
}

MARK_LABELS: dict[Mark, str] = {
    Mark.ILLEGAL_STRUCTURE: "违法建筑",
    Mark.SEIZURE: "查封",
    Mark.FIRE: "消防不达标",
}

#: Kinds that are never let for living: occupants there break ``non_living_space``. Dining
#: areas and corridors are included: the X+1 rule excludes them from the living room, and
#: "other rooms may not change their original use" (see docs/rental-rules.md).
NON_LIVING_KINDS: frozenset[RoomKind] = frozenset({
    RoomKind.KITCHEN, RoomKind.BATHROOM, RoomKind.BALCONY, RoomKind.STORAGE, RoomKind.BASEMENT,
    RoomKind.DINING, RoomKind.CORRIDOR,
})

# Sums of areas are compared after rounding to this many decimals, so that 2.1 + 2.9 m² for
# one person meets a 5 m² minimum exactly as it does on paper.
_AREA_DECIMALS = 9


@dataclass(frozen=True, slots=True)
class RentalSettings:
    """The district's numbers. Defaults: Shanghai's rules on residential rental and the 张江
    X+1 pilot (at most 2 people per room, 5 m² per person, a living room of 12 m² or more)."""

    max_people_per_room: int = 2
    min_area_per_person_m2: float = 5.0
    min_living_room_m2: float = 12.0

    def __post_init__(self) -> None:
        if isinstance(self.max_people_per_room, bool) or not isinstance(self.max_people_per_room, int) \
                or self.max_people_per_room < 1:
            raise RentalRuleError("invalid_settings", "每间房居住人数上限必须是不小于 1 的整数")
        for value, label in ((self.min_area_per_person_m2, "人均居住面积下限"),
                             (self.min_living_room_m2, "X+1 客厅面积下限")):
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise RentalRuleError("invalid_settings", f"{label}必须是不小于 0 的数值")


_DEFAULT_SETTINGS = RentalSettings()


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    kind: RoomKind
    usable_area_m2: float
    occupants: int = 0
    partitioned: bool = False
    #: every occupant of the room has a legal duty to support the others (spouses, parents and
    #: children …): they may exceed the people-per-room limit.
    support_relation: bool = False

    def __post_init__(self) -> None:
        a, o = self.usable_area_m2, self.occupants
        if self.room_id and self.kind.__class__ is RoomKind and (a.__class__ is float or a.__class__ is int) \
                and 0 <= a < math.inf and o.__class__ is int and o >= 0:
            return  # the common case, checked fast: a portfolio has a hundred thousand rooms
        if not self.room_id:
            raise RentalRuleError("invalid_room", "房间编号不能为空")
        if not isinstance(self.kind, RoomKind):
            raise RentalRuleError("invalid_room", f"房间 {self.room_id} 的类型无效")
        if isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a) or a < 0:
            raise RentalRuleError("invalid_room", f"房间 {self.room_id} 的使用面积必须是不小于 0 的数值")
        raise RentalRuleError("invalid_room", f"房间 {self.room_id} 的居住人数必须是不小于 0 的整数")

    @property
    def label(self) -> str:
        """``卧室 B2``: the kind in Chinese and the room's id, as reasons name it."""
        return f"{KIND_LABELS[self.kind]} {self.room_id}"


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    rooms: tuple[Room, ...]
    x_plus_1_permit: bool = False
    marks: frozenset[Mark] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for room in self.rooms:
            if room.room_id in seen:
                raise RentalRuleError("duplicate_room", f"套房 {self.unit_id} 的房间 {room.room_id} 重复",
                                      details={"unit_id": self.unit_id, "room_id": room.room_id})
            seen.add(room.room_id)

    @property
    def occupants(self) -> int:
        return sum(r.occupants for r in self.rooms)


@dataclass(frozen=True, slots=True)
class Breach:
    """One rule broken: the rooms involved (empty for a rule about the whole unit) and the
    Chinese reason, which names them and the numbers."""

    rule: Rule
    rooms: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class UnitResult:
    unit_id: str
    #: at most one per rule, sorted by rule code.
    breaches: tuple[Breach, ...]

    @property
    def compliant(self) -> bool:
        return not self.breaches

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(b.rule for b in self.breaches)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(b.reason for b in self.breaches)

    def rooms_breaking(self, rule: Rule) -> tuple[str, ...]:
        return next((b.rooms for b in self.breaches if b.rule is rule), ())


def fmt_number(value: float) -> str:
    """``12``, ``3.6``, ``3.33``: at most two decimals, no trailing zeros."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _labels(rooms: Iterable[Room]) -> str:
    return "、".join(r.label for r in rooms)


def _is_let(room: Room) -> bool:
    return room.kind is RoomKind.LIVING_ROOM and (room.occupants > 0 or room.partitioned)


def let_living_rooms(unit: Unit) -> tuple[Room, ...]:
    """Living rooms let as a room: with occupants, or partitioned."""
    return tuple(r for r in unit.rooms if _is_let(r))


def living_area_m2(unit: Unit) -> float:
    """Bedrooms plus the living rooms let under X+1 (see :func:`let_living_rooms`)."""
    return math.fsum(r.usable_area_m2 for r in unit.rooms
                     if r.kind is RoomKind.BEDROOM or _is_let(r))


def check_unit(unit: Unit, settings: RentalSettings | None = None) -> UnitResult:
    """The rules ``unit`` breaks, at most one breach per rule, in rule-code order.

    One pass over the rooms gathers what every rule needs; the breaches are then built in the
    order of their codes (``Rule`` lists them sorted).
    """
    s = settings or _DEFAULT_SETTINGS
    people = 0
    living: list[float] = []
    non_living: list[Room] = []
    partitioned: list[Room] = []
    crowded: list[Room] = []
    let: list[Room] = []
    limit = s.max_people_per_room
    for r in unit.rooms:
        kind = r.kind
        occ = r.occupants
        people += occ
        if kind is RoomKind.BEDROOM:
            living.append(r.usable_area_m2)
        elif kind is RoomKind.LIVING_ROOM:
            if occ > 0 or r.partitioned:
                let.append(r)
                living.append(r.usable_area_m2)
        elif occ > 0 and kind in NON_LIVING_KINDS:
            non_living.append(r)
        if r.partitioned and kind is not RoomKind.LIVING_ROOM:
            partitioned.append(r)
        if occ > limit and not r.support_relation:
            crowded.append(r)

    breaches: list[Breach] = []
    if people:
        area = math.fsum(living)
        if round(area - s.min_area_per_person_m2 * people, _AREA_DECIMALS) < 0:
            breaches.append(Breach(Rule.AREA_PER_PERSON, (), (
                f"居住面积 {fmt_number(area)} 平方米（卧室及按 X+1 出租的客厅）住 {people} 人，"
                f"人均 {fmt_number(area / people)} 平方米，"
                f"低于人均 {fmt_number(s.min_area_per_person_m2)} 平方米下限")))
    if non_living:
        who = "、".join(f"{r.label} 住 {r.occupants} 人" for r in non_living)
        breaches.append(Breach(Rule.NON_LIVING_SPACE, tuple(r.room_id for r in non_living),
                               f"{who}，厨房、卫生间、阳台、储藏室、地下室、饭厅和过道不得出租居住"))
    if unit.marks:
        names = "、".join(MARK_LABELS[m] for m in Mark if m in unit.marks)
        breaches.append(Breach(Rule.NOT_REGISTRABLE, (), f"房屋有{names}注记，不得登记备案出租"))
    if partitioned:
        breaches.append(Breach(
            Rule.PARTITIONED, tuple(r.room_id for r in partitioned),
            f"{_labels(partitioned)} 被隔断，只有按 X+1 出租的客厅可以隔断，其他房间不得隔断或按床位出租"))
    if crowded:
        who = "、".join(f"{r.label} 住 {r.occupants} 人" for r in crowded)
        breaches.append(Breach(Rule.PEOPLE_PER_ROOM, tuple(r.room_id for r in crowded),
                               f"{who}，超过每间 {limit} 人上限，且无法定赡养扶养关系"))
    if let:
        parts: list[str] = []
        if not unit.x_plus_1_permit:
            parts.append(f"{_labels(let)} 作为房间出租（有人居住或已隔断），但无 X+1 许可")
        small = [r for r in let if r.usable_area_m2 < s.min_living_room_m2]
        if small:
            sizes = "、".join(f"{r.label} {fmt_number(r.usable_area_m2)} 平方米" for r in small)
            parts.append(f"{sizes}，不足 X+1 要求的 {fmt_number(s.min_living_room_m2)} 平方米（不含饭厅、过道）")
        if len(let) > 1:
            parts.append(f"出租客厅 {len(let)} 间（{_labels(let)}），X+1 只允许一间客厅作为房间出租")
        if parts:
            breaches.append(Breach(Rule.X_PLUS_1, tuple(r.room_id for r in let), "，".join(parts)))
    return UnitResult(unit.unit_id, tuple(breaches))


def check_units(units: Sequence[Unit], settings: RentalSettings | None = None) -> list[UnitResult]:
    """:func:`check_unit` for each unit, in the given order."""
    s = settings or _DEFAULT_SETTINGS
    return [check_unit(u, s) for u in units]
