"""Exact numbers and canonical digests shared by the rules.

Thresholds and shares are :class:`fractions.Fraction`; areas arrive as ``Decimal``, ``Fraction``
or ``int`` square metres and are turned into ``Fraction`` without loss. Floats are refused: a
float such as ``0.1`` is not the number a clerk typed, and a vote at a bound must not depend on
binary rounding. The canonical JSON writes every fraction as ``"n/d"`` in lowest terms, keys
sorted, no spaces, UTF-8, so the same inputs always give the same sha256.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from jiayuan.council.rules.errors import CouncilRuleError

Area = Decimal | Fraction | int


class Bound(StrEnum):
    """How a share is compared with its threshold.

    ``at_least`` is the Chinese legal "以上": the bound itself is included (Civil Code art. 1259).
    ``more_than`` is "过半数" / "超过": the bound itself is excluded.
    """

    AT_LEAST = "at_least"
    MORE_THAN = "more_than"


def exact_area(value: object, *, what: str = "") -> Fraction:
    """Return ``value`` (square metres) as a Fraction; refuse floats, bools, NaN and values <= 0."""
    if isinstance(value, bool) or not isinstance(value, Decimal | Fraction | int):
        raise CouncilRuleError("invalid_area", details={"value": repr(value), "what": what})
    if isinstance(value, Decimal) and not value.is_finite():
        raise CouncilRuleError("invalid_area", details={"value": str(value), "what": what})
    result = Fraction(value)
    if result <= 0:
        raise CouncilRuleError("invalid_area", details={"value": str(value), "what": what})
    return result


def check_threshold(threshold: Fraction) -> Fraction:
    """Return ``threshold`` if it is a Fraction in (0, 1]; otherwise refuse with ``invalid_threshold``."""
    if not isinstance(threshold, Fraction) or not (0 < threshold <= 1):
        raise CouncilRuleError("invalid_threshold", details={"threshold": repr(threshold)})
    return threshold


def meets(numerator: Fraction | int, denominator: Fraction | int, threshold: Fraction,
          bound: Bound) -> bool:
    """Whether ``numerator / denominator`` meets ``threshold`` under ``bound``; a zero base never does.

    Compared by cross-multiplication on exact numbers, so 2/3 of 3 owners is exactly 2.
    """
    if denominator <= 0:
        return False
    lhs = Fraction(numerator)
    rhs = threshold * Fraction(denominator)
    return lhs >= rhs if bound is Bound.AT_LEAST else lhs > rhs


def share(numerator: Fraction | int, denominator: Fraction | int) -> Fraction:
    """``numerator / denominator`` exactly; zero when the base is zero (nothing to share)."""
    if denominator == 0:
        return Fraction(0)
    return Fraction(numerator) / Fraction(denominator)


def fmt_fraction(value: Fraction | int) -> str:
    """Canonical text of an exact number: ``"7"`` or ``"7/3"`` (lowest terms)."""
    f = Fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def fmt_percent(value: Fraction) -> str:
    """A share as a percentage with two decimals, rounded half-up on exact arithmetic."""
    hundredths = value * 10000
    rounded = (hundredths.numerator * 2 + hundredths.denominator) // (2 * hundredths.denominator)
    return f"{rounded // 100}.{rounded % 100:02d}%"


def fmt_area(value: Fraction) -> str:
    """An area for people: exact decimal when it terminates within 4 places, else the fraction."""
    scaled = value * 10000
    if scaled.denominator == 1:
        whole, frac = divmod(scaled.numerator, 10000)
        text = f"{whole}.{frac:04d}".rstrip("0").rstrip(".")
        return text
    return fmt_fraction(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Fraction):
        return fmt_fraction(value)
    if isinstance(value, Decimal):
        return fmt_fraction(Fraction(value))
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)
    return value


def canonical_json(payload: Any) -> str:
    """Deterministic JSON: fractions as ``"n/d"``, enums as values, sets sorted, keys sorted."""
    return json.dumps(_jsonable(payload), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def digest(payload: Any) -> str:
    """sha256 hex of :func:`canonical_json` of ``payload``."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
