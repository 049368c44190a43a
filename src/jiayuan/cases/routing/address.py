"""Address text without a position → compound, by fuzzy matching against the registry.

Each compound is known by several keys: its name, its aliases, its registered address and
its road + number. Texts and keys are normalised the same way (``normalise_address``); a key
found verbatim in the text scores 100 (the longest such key wins), any other key sharing
characters with the text is scored with rapidfuzz's ``WRatio`` (full and partial
similarity, so a typo like "锦秀苑3号楼" still finds "锦绣苑"), and a road number that disagrees with the compound's own number caps the score:
崂山路123弄 is not 崂山路125弄 however alike the strings look.

The best compound wins if it reaches ``threshold`` and leads the next *other* compound by
more than ``margin``; otherwise the answer is no match, with the close candidates reported so
a person can choose.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

DEFAULT_THRESHOLD = 85.0
DEFAULT_MARGIN = 3.0
NUMBER_MISMATCH_CAP = 60.0
SHORTLIST = 100

# Administrative prefixes that say nothing about which compound is meant.
_PREFIXES = re.compile(
    r"^(?:中国)?(?:上海市|上海)?(?:[\u4e00-\u9fa5]{1,4}?(?:新区|(?<![小社园校厂景片])区|县))?"
    r"(?:[\u4e00-\u9fa5]{1,6}?街道|[\u4e00-\u9fa5]{2,6}?(?:镇|乡))?(?:[\u4e00-\u9fa5]{1,6}?(?:居民区|居委会|村委会))?")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_ROAD_NO = re.compile(r"([\u4e00-\u9fa5]{1,8}?(?:大道|公路|路|街|巷|道))(\d+)(?:弄|号)")
_BUILDING = re.compile(r"(\d+)\s*(?:号楼|栋|幢|座|号)")


def normalise_address(text: str) -> str:
    """Canonical form for matching: NFKC (full-width digits and letters → ASCII), no spaces or
    punctuation, the city/district/subdistrict prefix removed, 栋/幢/座/号楼 → 号,
    Chinese digits inside numbers ("十二号楼" is left alone, "一〇八弄" → "108弄")."""
    s = unicodedata.normalize("NFKC", text).strip().lower()
    s = re.sub(r"[\s,，。.、;；:：()（）\[\]【】\"'“”‘’-]+", "", s)
    while (stripped := _PREFIXES.sub("", s, count=1)) != s:  # "上海市上海市…" too
        s = stripped
    # Chinese digit runs directly before 弄/号/栋/幢 are numbers: 一〇八弄 → 108弄.
    s = re.sub(r"([〇零一二三四五六七八九]{2,})(?=弄|号|栋|幢|座)",
               lambda m: m.group(1).translate(_CN_DIGITS), s)
    s = _BUILDING.sub(lambda m: f"{m.group(1)}号", s)
    return s


def road_numbers(normalised: str) -> dict[str, str]:
    """Road → house/lane number found in a normalised address ("崂山路123弄" → {"崂山路": "123"})."""
    return {road: num for road, num in _ROAD_NO.findall(normalised)}


@dataclass(frozen=True, slots=True)
class CompoundRecord:
    """What the matcher needs to know of a compound (built from the registry by the caller)."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    address: str = ""
    path: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    name: str
    score: float
    matched_key: str


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """``status`` is ``matched`` (``code`` set), ``ambiguous`` or ``none`` (``code`` None)."""

    status: Literal["matched", "ambiguous", "none"]
    code: str | None
    score: float
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)


class AddressMatcher:
    """An index of compound keys; ``match`` is pure and deterministic."""

    def __init__(self, compounds: Iterable[CompoundRecord], *,
                 threshold: float = DEFAULT_THRESHOLD, margin: float = DEFAULT_MARGIN) -> None:
        self.compounds: dict[str, CompoundRecord] = {}
        self.threshold = threshold
        self.margin = margin
        self._keys: list[str] = []
        self._owner: list[str] = []
        self._numbers: list[dict[str, str]] = []
        for c in compounds:
            if c.code in self.compounds:
                raise ValueError(f"duplicate compound code {c.code}")
            self.compounds[c.code] = c
            raw = [c.name, *c.aliases, c.address]
            own_numbers = road_numbers(normalise_address(c.address)) if c.address else {}
            for road, num in own_numbers.items():
                raw.append(f"{road}{num}弄")
                raw.append(f"{road}{num}号")
            seen: set[str] = set()
            for key in raw:
                k = normalise_address(key) if key else ""
                if len(k) >= 2 and k not in seen:
                    seen.add(k)
                    self._keys.append(k)
                    self._owner.append(c.code)
                    self._numbers.append(own_numbers)
        self._postings: dict[str, list[int]] = {}
        self._sizes: list[int] = []
        self._by_road_no: dict[tuple[str, str], list[int]] = {}
        for i, k in enumerate(self._keys):
            chars = {ch for ch in k if not ch.isdigit()}
            self._sizes.append(max(1, len(chars)))
            for ch in chars:
                self._postings.setdefault(ch, []).append(i)
            for rn in self._numbers[i].items():
                self._by_road_no.setdefault(rn, []).append(i)

    def _shortlist(self, q: str) -> list[int]:
        """Keys most of whose (non-digit) characters occur in ``q``, best-covered first, at
        most ``SHORTLIST``: a key sharing less cannot reach a useful score, and scoring every
        key is slow."""
        shared: Counter[int] = Counter()
        for ch in set(q):
            shared.update(self._postings.get(ch, ()))
        keep = [i for i, n in shared.items()
                if n >= min(2, self._sizes[i]) and n * 2 >= self._sizes[i]]
        keep.sort(key=lambda i: (-shared[i] / self._sizes[i], -shared[i], i))
        same_number = {i for rn in road_numbers(q).items() for i in self._by_road_no.get(rn, ())}
        return sorted(same_number.union(keep[:SHORTLIST]))

    def candidates(self, text: str, limit: int = 5) -> list[Candidate]:
        """The best-scoring key per compound, best first (ties by compound code).

        A key found verbatim in the text scores 100, unless it lies inside a longer key of
        another compound also found verbatim ("锦绣苑" inside "锦绣苑一期"); other keys score
        their ``WRatio`` similarity. A road number that contradicts the compound's own number
        caps the score at ``NUMBER_MISMATCH_CAP``.
        """
        q = normalise_address(text)
        if not q or not self._keys:
            return []
        q_numbers = road_numbers(q)
        shortlist = self._shortlist(q)
        contained = [i for i in shortlist if self._keys[i] in q]
        dominated = {i for i in contained for j in contained
                     if self._owner[i] != self._owner[j] and len(self._keys[j]) > len(self._keys[i])
                     and self._keys[i] in self._keys[j]}
        best: dict[str, Candidate] = {}
        for idx in shortlist:
            key = self._keys[idx]
            if key in q and idx not in dominated:
                score = 100.0
            else:
                score = min(float(fuzz.WRatio(q, key)), 99.0)
            code = self._owner[idx]
            own = self._numbers[idx]
            if any(road in own and own[road] != num for road, num in q_numbers.items()):
                score = min(score, NUMBER_MISMATCH_CAP)
            cur = best.get(code)
            if cur is None or score > cur.score:
                best[code] = Candidate(code, self.compounds[code].name, round(score, 2), key)
        ranked = sorted(best.values(), key=lambda c: (-c.score, c.code))
        return ranked[:limit]

    def match(self, text: str) -> AddressMatch:
        """The compound ``text`` names, or why not (below threshold, or two within margin)."""
        ranked = self.candidates(text)
        if not ranked or ranked[0].score < self.threshold:
            return AddressMatch("none", None, ranked[0].score if ranked else 0.0, tuple(ranked))
        close = tuple(c for c in ranked if ranked[0].score - c.score <= self.margin)
        if len(close) > 1:
            return AddressMatch("ambiguous", None, ranked[0].score, close)
        return AddressMatch("matched", ranked[0].code, ranked[0].score, tuple(ranked))


def match_address(text: str, compounds: Sequence[CompoundRecord], *,
                  threshold: float = DEFAULT_THRESHOLD,
                  margin: float = DEFAULT_MARGIN) -> AddressMatch:
    """One-off convenience over ``AddressMatcher`` (build the matcher once for many texts)."""
    return AddressMatcher(compounds, threshold=threshold, margin=margin).match(text)
