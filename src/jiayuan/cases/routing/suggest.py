"""One decision for a case text: the model's category, the keyword fallback, or manual triage.

Order of evidence:
1. a trained model whose confidence reaches the threshold → ``source="model"``;
2. otherwise (no model, or the model is unsure) a keyword match → ``source="keywords"``,
   provided the model (if any) knows that category;
3. otherwise → ``source="triage"``: the case waits in the manual triage queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from jiayuan.cases.routing.classifier import Prediction, TextClassifier
from jiayuan.cases.routing.keywords import KeywordTable, load_keywords

Source = Literal["model", "keywords", "triage"]
DEFAULT_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested category (``None`` for triage), how sure, from where, and the runners-up.

    ``confidence`` is the model's probability for ``category`` (for triage: for its best
    guess), 0.0 when no model spoke. ``alternatives`` are the model's top-3, best first.
    """

    category: str | None
    confidence: float
    source: Source
    alternatives: tuple[tuple[str, float], ...] = ()
    matched_keywords: tuple[str, ...] = ()

    @property
    def decision(self) -> Literal["route", "triage"]:
        return "triage" if self.source == "triage" else "route"


_default_keywords: KeywordTable | None = None


def default_keywords() -> KeywordTable:
    """The published keyword table, loaded once."""
    global _default_keywords
    if _default_keywords is None:
        _default_keywords = load_keywords()
    return _default_keywords


def _decide(text: str, pred: Prediction | None, threshold: float,
            keywords: KeywordTable, known: frozenset[str] | None) -> Suggestion:
    alts = pred.alternatives if pred else ()
    if pred is not None and pred.confidence >= threshold:
        return Suggestion(pred.label, pred.confidence, "model", alts)
    hit = keywords.match(text) if text.strip() else None
    # A model trained on another label set (e.g. 泰迪杯's seven first-level labels) must not
    # be overruled by keyword codes it does not know: that would mix two taxonomies.
    if hit is not None and (known is None or hit.code in known):
        conf = dict(alts).get(hit.code, 0.0)
        return Suggestion(hit.code, conf, "keywords", alts, hit.matched)
    return Suggestion(None, pred.confidence if pred else 0.0, "triage", alts)


def suggest_many(texts: Sequence[str], model: TextClassifier | None,
                 threshold: float = DEFAULT_THRESHOLD,
                 keywords: KeywordTable | None = None) -> list[Suggestion]:
    """``suggest`` for many texts at once (one model call). Refuses a threshold outside [0, 1]."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must lie in [0, 1]")
    kw = keywords if keywords is not None else default_keywords()
    preds: list[Prediction | None]
    known: frozenset[str] | None = None
    if model is not None and model.is_fitted:
        preds = list(model.predict_with_confidence(texts))
        known = frozenset(model.labels)
    else:
        preds = [None] * len(texts)
    return [_decide(t, p, threshold, kw, known) for t, p in zip(texts, preds, strict=True)]


def suggest(text: str, model: TextClassifier | None, threshold: float = DEFAULT_THRESHOLD,
            keywords: KeywordTable | None = None) -> Suggestion:
    """Suggest a category for one case text (see the module docstring for the order)."""
    return suggest_many([text], model, threshold, keywords)[0]
