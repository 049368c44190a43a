"""The synthetic demo district: a pure plan (``plan.plan``) and its writer (``generate``).

``generate`` is imported lazily so the pure ``plan`` module can be used without Django.
"""

from __future__ import annotations

from typing import Any

__all__ = ["generate", "plan"]


def __getattr__(name: str) -> Any:
    if name == "generate":
        from jiayuan.demo.generator.write import generate

        return generate
    if name == "plan":
        from jiayuan.demo.generator.plan import plan

        return plan
    raise AttributeError(name)
