"""Free text → category: TF-IDF over Chinese character n-grams + logistic regression.

Character 1–3-grams need no word segmentation (jieba) and cope with typos and the mixed
spoken/written style of hotline records. Logistic regression gives calibrated-enough
probabilities for a confidence threshold (below it, the case waits for a person).

Trust boundary: model files are joblib pickles, and loading a pickle runs code. Load only
model files this platform wrote itself (``jiayuan cases classifier train``) and keep them where
only operators can write (``var/models/``). Never load a model file uploaded by a user or
fetched from elsewhere; ``load`` checks the envelope and the scikit-learn version, which guards
against mistakes, not against an attacker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from jiayuan.cases.routing.errors import ModelFileInvalid, ModelNotTrained, TrainingDataInvalid
from jiayuan.cases.routing.keywords import normalise_text

FORMAT = "jiayuan.case_classifier"
FORMAT_VERSION = 1
TOP_K = 3


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """What a saved model was trained on and with."""

    trained_at: dt.datetime
    n: int
    labels: tuple[str, ...]
    sklearn_version: str
    format_version: int = FORMAT_VERSION
    holdout_accuracy: float | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Prediction:
    """The best label, its probability, and the top-3 labels with probabilities (best first)."""

    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]


def _check_training(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise TrainingDataInvalid(f"文本 {len(texts)} 条与标签 {len(labels)} 条数量不一致")
    if not texts:
        raise TrainingDataInvalid("没有训练数据")
    if len(set(labels)) < 2:
        raise TrainingDataInvalid("训练数据至少需要两个不同的类别")
    if any(not str(lb).strip() for lb in labels):
        raise TrainingDataInvalid("训练数据中有空标签")


class TextClassifier:
    """A scikit-learn Pipeline (TfidfVectorizer → LogisticRegression) with metadata."""

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 3), analyzer: str = "char_wb",
                 c: float = 10.0, min_df: int = 1, max_features: int | None = 200_000) -> None:
        self.pipeline: Pipeline = Pipeline([
            ("tfidf", TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range,
                                      preprocessor=normalise_text, sublinear_tf=True,
                                      min_df=min_df, max_features=max_features,
                                      dtype=np.float32)),
            ("clf", LogisticRegression(C=c, tol=1e-3, max_iter=1000)),
        ])
        self.metadata: ModelMetadata | None = None

    @property
    def is_fitted(self) -> bool:
        return self.metadata is not None

    @property
    def labels(self) -> tuple[str, ...]:
        if self.metadata is None:
            raise ModelNotTrained()
        return self.metadata.labels

    def fit(self, texts: Sequence[str], labels: Sequence[str], *, source: str = "",
            now: dt.datetime | None = None) -> TextClassifier:
        """Train on ``texts`` with ``labels``; refuses mismatched lengths, one class, empty labels."""
        _check_training(texts, labels)
        self.pipeline.fit(list(texts), [str(lb) for lb in labels])
        classes = tuple(str(c) for c in self.pipeline.classes_)
        self.metadata = ModelMetadata(
            trained_at=now or dt.datetime.now(dt.UTC), n=len(texts), labels=classes,
            sklearn_version=sklearn.__version__, source=source)
        return self

    def with_holdout_accuracy(self, accuracy: float) -> None:
        """Record the held-out accuracy measured before the final fit."""
        if self.metadata is None:
            raise ModelNotTrained()
        md = asdict(self.metadata)
        md["holdout_accuracy"] = accuracy
        self.metadata = ModelMetadata(**md)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The best label for each text."""
        if self.metadata is None:
            raise ModelNotTrained()
        return [str(p) for p in self.pipeline.predict(list(texts))]

    def predict_with_confidence(self, texts: Sequence[str]) -> list[Prediction]:
        """For each text: best label, its probability, and the top-3 (label, probability)."""
        if self.metadata is None:
            raise ModelNotTrained()
        if not texts:
            return []
        # The pipeline and its input are ours and checked: scikit-learn's per-call parameter
        # and finiteness checks are skipped (they cost as much as predicting one text).
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            proba = np.asarray(self.pipeline.predict_proba(list(texts)))
        classes = self.metadata.labels
        k = min(TOP_K, len(classes))
        # argsort on (-p) is stable, so equal probabilities keep class order: deterministic.
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        out: list[Prediction] = []
        for row, idx in zip(proba, order, strict=True):
            alts = tuple((classes[int(i)], float(row[int(i)])) for i in idx)
            out.append(Prediction(label=alts[0][0], confidence=alts[0][1], alternatives=alts))
        return out

    def save(self, path: str | Path) -> Path:
        """Write the model (joblib, compressed) with its metadata; creates parent folders."""
        if self.metadata is None:
            raise ModelNotTrained()
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        md = asdict(self.metadata)
        md["trained_at"] = self.metadata.trained_at.isoformat()
        md["labels"] = list(self.metadata.labels)
        envelope = {"format": FORMAT, "format_version": FORMAT_VERSION, "metadata": md,
                    "pipeline": self.pipeline}
        joblib.dump(envelope, p, compress=3)
        return p

    @classmethod
    def load(cls, path: str | Path, *, allow_version_mismatch: bool = False) -> TextClassifier:
        """Read a model file written by ``save``. Only load files this platform wrote (pickle).

        Refuses (``ModelFileInvalid``) a missing file, a file that is not our envelope, a newer
        format version, and, unless ``allow_version_mismatch``, a model pickled by another
        scikit-learn version (its predictions could silently differ).
        """
        p = Path(path)
        if not p.is_file():
            raise ModelFileInvalid(f"找不到模型文件：{p}")
        try:
            envelope: Any = joblib.load(p)
        except Exception as exc:  # a corrupt or foreign file: any unpickling error
            raise ModelFileInvalid(f"无法读取模型文件 {p}：{exc}") from exc
        if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
            raise ModelFileInvalid(f"{p} 不是家园平台的工单分类模型文件")
        if int(envelope.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelFileInvalid(f"模型文件格式版本 {envelope.get('format_version')} 高于本程序支持的版本")
        md = dict(envelope["metadata"])
        if md["sklearn_version"] != sklearn.__version__ and not allow_version_mismatch:
            raise ModelFileInvalid(
                f"模型由 scikit-learn {md['sklearn_version']} 训练，当前为 {sklearn.__version__}，请重新训练")
        md["trained_at"] = dt.datetime.fromisoformat(md["trained_at"])
        md["labels"] = tuple(md["labels"])
        model = cls()
        model.pipeline = envelope["pipeline"]
        model.metadata = ModelMetadata(**md)
        return model
