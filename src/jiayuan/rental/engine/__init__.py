"""The rental-housing rules engine: pure, typed, no Django. See docs/rental-rules.md.

* :mod:`.rules` — rooms and units in, :class:`UnitResult` (the rules broken, per-room, with
  Chinese reasons) out; :class:`RentalSettings` holds the district's numbers.
* :mod:`.errors` — :class:`RentalRuleError` with stable codes and Chinese messages.
"""

from jiayuan.rental.engine.errors import CODES, RentalRuleError
from jiayuan.rental.engine.rules import (
    KIND_LABELS,
    MARK_LABELS,
    NON_LIVING_KINDS,
    Breach,
    Mark,
    RentalSettings,
    Room,
    RoomKind,
    Rule,
    Unit,
    UnitResult,
    check_unit,
    check_units,
    fmt_number,
    let_living_rooms,
    living_area_m2,
)

__all__ = [
    "CODES", "KIND_LABELS", "MARK_LABELS", "NON_LIVING_KINDS", "Breach", "Mark", "RentalRuleError",
    "RentalSettings", "Room", "RoomKind", "Rule", "Unit", "UnitResult", "check_unit",
    "check_units", "fmt_number", "let_living_rooms", "living_area_m2",
]
