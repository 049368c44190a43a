"""Other modules follow the cases they raised.

A module that opens cases through ``open_case(..., source_ref="sensors.alarm:42")`` registers
one observer here, in its ``AppConfig.ready()``::

    hooks.subscribe("sensors.alarm", on_alarm_case_event)

After every committed step of such a case (its report and routing at intake, a state change
by a person or by the SLA sweep, a warning, a note: every row of its history) the observer is
called with the case and the event, in the order of the history. The one writer of the history,
:mod:`jiayuan.cases.events`, schedules the call once the transaction commits, so a failing
observer never undoes the case's step (it is logged and the next observer still runs) and a
step that rolled back is never heard of.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jiayuan.cases.models import Case, CaseEvent

log = logging.getLogger(__name__)

Observer = Callable[["Case", "CaseEvent"], None]
_observers: dict[str, list[Observer]] = {}


def subscribe(prefix: str, observer: Observer) -> None:
    """Call ``observer(case, event)`` for cases whose ``source_ref`` is ``<prefix>:<id>``."""
    observers = _observers.setdefault(prefix, [])
    if observer not in observers:
        observers.append(observer)


def source_of(source_ref: str) -> tuple[str, str]:
    """``"sensors.alarm:42"`` → ``("sensors.alarm", "42")``; ``("", "")`` when there is none."""
    prefix, _, ident = source_ref.partition(":")
    return (prefix, ident) if ident else ("", "")


def watched(source_ref: str) -> bool:
    """Whether some observer follows cases of this ``source_ref``'s source."""
    prefix, _ = source_of(source_ref)
    return bool(prefix) and bool(_observers.get(prefix))


def deliver(case: Case, event: CaseEvent) -> None:
    """Call the observers of the case's source with ``event`` now. Only
    :mod:`jiayuan.cases.events` calls this, once the event's transaction has committed."""
    prefix, _ = source_of(case.source_ref)
    for observer in list(_observers.get(prefix, ()) if prefix else ()):
        try:
            observer(case, event)
        except Exception:  # one module's bug must not break the case loop
            log.exception("case observer %r failed on %s#%s", observer, case.pk, event.seq)
