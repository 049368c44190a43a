"""Helpers for the Django-side sensor tests: devices in the tiny district, messages, clocks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from jiayuan.sensors.messages import topic_for

DISTRICT = "310115"


class Clock:
    """A settable clock for ``Pipeline(clock=...)``: starts at the real now (readings must
    lie within 7 days of it) and moves only when told."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = (start or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self.t0 = self.now

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, seconds: float) -> dt.datetime:
        return self.t0 + dt.timedelta(seconds=seconds)

    def advance_to(self, seconds: float) -> dt.datetime:
        self.now = self.at(seconds)
        return self.now


def message(code: str, ts: dt.datetime | int, metrics: Mapping[str, Any],
            msg_id: str | None = None, district: str = DISTRICT,
            **extra: Any) -> tuple[str, bytes]:
    body: dict[str, Any] = {"device": code,
                            "ts": ts if isinstance(ts, int) else ts.isoformat(),
                            "metrics": dict(metrics), **extra}
    if msg_id is not None:
        body["msg_id"] = msg_id
    return topic_for(district, code), json.dumps(body).encode()


def make_device(tiny: Any, code: str, kind: str, where: str = "S1N1C1",
                **values: Any) -> Any:
    from jiayuan.sensors.services.devices import register_device

    device, _ = register_device({"code": code, "kind": kind, "district_code": DISTRICT,
                                 "entrance": tiny.entrances[where].code, **values})
    return device
