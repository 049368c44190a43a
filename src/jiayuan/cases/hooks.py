"""Other modules follow the cases they raised.

A module that opens cases through ``open_case(..., source_ref="sensors.alarm:42")`` registers
one observer here, in its ``AppConfig.ready()``::

    hooks.subscribe("sensors.alarm", on_alarm_case_event)

After every committed step of such a case (a state change, or a note) the observer is called
with the case and the event. Observers run after the transaction commits, so a failing
observer never undoes the case's step; it is logged and the next observer still runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import transaction

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


def publish(case: Case, event: CaseEvent) -> None:
    """Tell the observers of the case's source about ``event`` once the transaction commits."""
    prefix, _ = source_of(case.source_ref)
    if not prefix or prefix not in _observers:
        return

    def deliver() -> None:
        for observer in list(_observers.get(prefix, ())):
            try:
                observer(case, event)
            except Exception:  # one module's bug must not break the case loop
                log.exception("case observer %r failed on %s#%s", observer, case.pk, event.seq)

    transaction.on_commit(deliver)
