"""Keyword fallback: category code → keywords, a table staff can edit.

Used when no classifier is trained, or when the classifier is unsure and a keyword settles it.
The table is ``data/keywords.csv`` (``code,name,keywords`` with keywords joined by ``|``;
lines starting with ``#`` are comments). Matching is plain substring search after the same
normalisation the classifier uses (full-width → half-width, lower case).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jiayuan.core.errors import ImportRejected


def normalise_text(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, whitespace collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


@dataclass(frozen=True, slots=True)
class KeywordEntry:
    code: str
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """The category a text's keywords point to, and the keywords found."""

    code: str
    matched: tuple[str, ...]


class KeywordTable:
    """An ordered set of keyword entries with a deterministic ``match``."""

    def __init__(self, entries: Iterable[KeywordEntry]) -> None:
        self.entries: tuple[KeywordEntry, ...] = tuple(entries)
        codes = [e.code for e in self.entries]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ImportRejected([{"row": None, "column": "code",
                                   "message": f"类别代码重复：{'、'.join(dupes)}"}])
        self._normalised = tuple(
            (e.code, tuple(sorted({normalise_text(k) for k in e.keywords if k.strip()})))
            for e in self.entries
        )

    @property
    def names(self) -> dict[str, str]:
        """Category code → Chinese name."""
        return {e.code: e.name for e in self.entries}

    def match(self, text: str) -> KeywordHit | None:
        """The category whose keywords cover the most characters of ``text``.

        Score = total length of the distinct keywords found (a longer, more specific keyword
        outranks a shorter one). Returns ``None`` when nothing matches or when two categories
        tie for the best score: a tie is no evidence either way.
        """
        norm = normalise_text(text)
        scored: list[tuple[int, str, tuple[str, ...]]] = []
        for code, kws in self._normalised:
            found = tuple(k for k in kws if k in norm)
            if found:
                scored.append((sum(len(k) for k in found), code, found))
        if not scored:
            return None
        scored.sort(key=lambda s: (-s[0], s[1]))
        if len(scored) > 1 and scored[0][0] == scored[1][0]:
            return None
        return KeywordHit(code=scored[0][1], matched=scored[0][2])

    def predict(self, texts: Sequence[str]) -> list[str | None]:
        """``match`` for each text, keeping only the code (``None`` where nothing decides)."""
        out: list[str | None] = []
        for t in texts:
            hit = self.match(t)
            out.append(hit.code if hit else None)
        return out


def parse_keywords_csv(text: str) -> KeywordTable:
    """Parse the keyword table; refuses (``ImportRejected``) rows without code or keywords."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = {"code", "name", "keywords"} - set(reader.fieldnames or [])
    if missing:
        raise ImportRejected([{"row": 1, "column": c, "message": f"缺少列“{c}”"}
                              for c in sorted(missing)])
    entries: list[KeywordEntry] = []
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        kws = tuple(k.strip() for k in (row.get("keywords") or "").split("|") if k.strip())
        if not code:
            problems.append({"row": i, "column": "code", "message": f"第 {i} 行缺少类别代码"})
            continue
        if not kws:
            problems.append({"row": i, "column": "keywords",
                             "message": f"第 {i} 行（{code}）没有关键词"})
            continue
        entries.append(KeywordEntry(code=code, name=(row.get("name") or "").strip(),
                                    keywords=kws))
    if problems:
        raise ImportRejected(problems)
    return KeywordTable(entries)


def load_keywords(path: str | Path | None = None) -> KeywordTable:
    """Load a keyword table from ``path``, or the published default shipped with the code."""
    if path is None:
        text = (resources.files("jiayuan.cases.routing") / "data" / "keywords.csv").read_text(
            encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8-sig")
    return parse_keywords_csv(text)
