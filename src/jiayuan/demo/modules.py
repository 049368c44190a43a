"""The domain modules' demo data, generated after the registry, the year of cases and the demo
log-ins (so staff can be assigned), and wiped before the registry they point at.

Each entry names a ``generate(seed=…)`` returning row counts and a ``wipe()``; they are
imported lazily so the demo app depends on no domain app at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

# (label, "module:generate", "module:wipe"), in generation order; wiped in reverse.
DEMO_MODULES: list[tuple[str, str, str]] = [
    ("care", "jiayuan.care.demo:generate_demo_care", "jiayuan.care.demo:wipe_demo_care"),
    ("council", "jiayuan.council.demo:generate_councils", "jiayuan.council.demo:clear_councils"),
    ("sensors", "jiayuan.sensors.demo:generate_demo_sensors",
     "jiayuan.sensors.demo:wipe_demo_sensors"),
]


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    fn: Callable[..., Any] = getattr(import_module(module), name)
    return fn


def generate_modules(seed: int, progress: Callable[[str], None]) -> dict[str, int]:
    """Run every module's demo generator; returns ``{"<label>.<table>": rows}``."""
    counts: dict[str, int] = {}
    for label, generate, _wipe in DEMO_MODULES:
        made = _resolve(generate)(seed=seed) or {}
        progress(f"{label}: " + ", ".join(f"{k} {v:,}" for k, v in made.items()))
        counts.update({f"{label}.{k}": v for k, v in made.items() if isinstance(v, int)})
    return counts


def wipe_modules() -> None:
    """Delete every module's demo rows, last generated first."""
    for _label, _generate, wipe in reversed(DEMO_MODULES):
        _resolve(wipe)()
