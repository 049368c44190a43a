"""Loading the working calendar: a State Council schedule or the district's local days.

The only writer of ``CalendarEntry``, ``CalendarYear`` and ``CalendarEvent``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.cases.calendar import parse_calendar_file
from jiayuan.cases.holidays import CalendarDay, DaySource
from jiayuan.cases.models import CalendarEntry, CalendarEvent, CalendarYear
from jiayuan.core.errors import Forbidden

MANAGE_ROLES = frozenset({"admin"})


def can_manage_calendar(user: Any) -> bool:
    """Administrators, and duty officers of the district's operations centre (a grant on the
    district itself, not on one subdistrict): the calendar is the whole district's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role in MANAGE_ROLES:
        return True
    if user.role != "duty_officer":
        return False
    return any(p.count("/") == 1 for p in user.area_grants.values_list("path", flat=True))


@dataclass
class CalendarImport:
    """What an import changed, per (year, source): dates added, changed and removed."""

    days: int = 0
    changes: dict[tuple[int, str], dict[str, list[str]]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@transaction.atomic
def import_calendar(*, file_name: str, data: bytes, by: Any = None) -> CalendarImport:
    """Load a calendar file: for every (year, source) it contains, that year's days of that
    source become exactly the file's (added, changed, removed), and a ``schedule`` year is
    marked loaded. One ``CalendarEvent`` per (year, source) that changed; a file identical
    to what is loaded changes nothing.

    ``by`` is the acting user (``None`` from the command line, which runs as the operator).
    Refuses a user who may not manage the calendar (``Forbidden``) and a bad file
    (``ImportRejected`` with every problem): nothing is written then.
    """
    if by is not None and not can_manage_calendar(by):
        raise Forbidden("只有区运行管理中心值班人员或管理员可以载入工作日历")
    days = parse_calendar_file(file_name, data)
    digest = hashlib.sha256(data).hexdigest()
    groups: dict[tuple[int, DaySource], list[CalendarDay]] = defaultdict(list)
    for d in days:
        groups[(d.day.year, d.source)].append(d)
    result = CalendarImport(days=len(days))
    now = timezone.now()
    for (year, source), wanted in sorted(groups.items()):
        existing = {e.date: e for e in CalendarEntry.objects.select_for_update().filter(
            source=source, date__year=year)}
        want = {d.day: d for d in wanted}
        added = [d for day, d in want.items() if day not in existing]
        changed = [d for day, d in want.items() if day in existing
                   and (existing[day].kind, existing[day].name) != (d.kind.value, d.name)]
        removed = [day for day in existing if day not in want]
        if removed:
            CalendarEntry.objects.filter(source=source, date__in=removed).delete()
        for d in changed:
            entry = existing[d.day]
            entry.kind, entry.name = d.kind.value, d.name
            entry.full_clean()
            entry.save(update_fields=["kind", "name", "updated_at"])
        new_rows = [CalendarEntry(date=d.day, source=source.value, kind=d.kind.value, name=d.name)
                    for d in added]
        for row in new_rows:
            row.full_clean(validate_unique=False, validate_constraints=False)
        CalendarEntry.objects.bulk_create(new_rows)
        year_marked = False
        if source is DaySource.SCHEDULE:
            loaded, created = CalendarYear.objects.get_or_create(
                year=year, defaults={"file_name": file_name[:200], "sha256": digest,
                                     "loaded_by": by})
            year_marked = created
            if not created and (added or changed or removed):
                loaded.file_name, loaded.sha256, loaded.loaded_by = file_name[:200], digest, by
                loaded.save(update_fields=["file_name", "sha256", "loaded_by", "updated_at"])
        if not (added or changed or removed or year_marked):
            continue
        diff = {"added": sorted(d.day.isoformat() for d in added),
                "changed": sorted(d.day.isoformat() for d in changed),
                "removed": sorted(day.isoformat() for day in removed)}
        CalendarEvent.objects.create(
            at=now, actor=by, year=year, source=source.value, file_name=file_name[:200],
            sha256=digest, payload={**diff, "days": len(wanted)})
        result.changes[(year, source.value)] = diff
    return result
