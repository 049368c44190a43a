"""Outgoing notifications (SMS, WeChat …) behind one small interface.

The default backend only logs, with phone numbers masked (the log is read by more people,
and kept longer, than the messages); a deployment sets ``JIAYUAN_NOTIFY_BACKEND`` to the dotted path
of a class with ``send(*, to: str, text: str, kind: str) -> None``. Services call
``notify(...)`` inside ``transaction.on_commit`` so nothing is sent for a rolled-back change.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from functools import lru_cache
from typing import Protocol

from django.utils.module_loading import import_string

from jiayuan.core.masking import mask_phone, mask_phones_in

log = logging.getLogger("jiayuan.notify")


class Backend(Protocol):
    def send(self, *, to: str, text: str, kind: str) -> None: ...


class LoggingBackend:
    """Writes each message to the log; the default, and what the demo uses."""

    # The last messages, for tests and the demo; bounded so a long-running worker stays small.
    sent: deque[tuple[str, str, str]] = deque(maxlen=1000)

    def send(self, *, to: str, text: str, kind: str) -> None:
        log.info("notify %s → %s: %s", kind, mask_phone(to), mask_phones_in(text))
        LoggingBackend.sent.append((to, text, kind))


@lru_cache(maxsize=1)
def backend() -> Backend:
    path = os.environ.get("JIAYUAN_NOTIFY_BACKEND")
    return import_string(path)() if path else LoggingBackend()  # type: ignore[no-any-return]


def notify(*, to: str, text: str, kind: str) -> None:
    if to:
        backend().send(to=to, text=text, kind=kind)
