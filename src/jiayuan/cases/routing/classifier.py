"""Free text → category: TF-IDF over Chinese characters and words + a calibrated linear SVM.

Features: character 1–3-grams (no segmentation needed; they cope with typos and the mixed
spoken/written style of hotline records) joined with jieba word unigrams (words the character
n-grams cut apart). The classifier is a class-balanced linear SVM whose scores are turned into
probabilities by a sigmoid fitted on cross-validated scores (Platt scaling), so the confidence
threshold (below it, the case waits for a person) reads a probability. docs/case-routing.md
compares the alternatives measured on real messages.

jieba is imported on the first text segmented (its dictionary ships inside the package and is
loaded then, about a second), never at import: intake imports this module.

Trust boundary: model files are joblib pickles, and loading a pickle runs code. Load only
model files this platform wrote itself (``jiayuan cases classifier train``) and keep them where
only operators can write (``var/models/``). Never load a model file uploaded by a user or
fetched from elsewhere; ``load`` checks the envelope and the scikit-learn version, which guards
against mistakes, not against an attacker.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from jiayuan.cases.routing.errors import ModelFileInvalid, ModelNotTrained, TrainingDataInvalid
from jiayuan.cases.routing.keywords import normalise_text

FORMAT = "jiayuan.case_classifier"
FORMAT_VERSION = 2  # 2: char n-grams + jieba words, calibrated linear SVM (1: char n-grams + LR)
TOP_K = 3
MODEL_KIND = "char1-3+jieba-words/linear-svc-balanced/sigmoid"
CALIBRATION_FOLDS = 5

_jieba: Any = None
_jieba_lock = threading.Lock()


def jieba_cache_dir() -> Path:
    """Where jieba keeps its dictionary cache: ``JIAYUAN_JIEBA_CACHE_DIR``, else
    ``~/.cache/jiayuan``, created private (0700). jieba's own default is the shared temporary
    folder, where another local user could plant the (marshal) cache file it then reads."""
    configured = os.environ.get("JIAYUAN_JIEBA_CACHE_DIR")
    path = Path(configured) if configured else Path.home() / ".cache" / "jiayuan"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _segmenter() -> Any:
    """jieba, imported and initialised once, on first use (not at import: intake is fast)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging
                import tempfile

                import jieba

                jieba.setLogLevel(logging.WARNING)
                try:
                    jieba.dt.tmp_dir = str(jieba_cache_dir())
                except OSError:  # no writable home: a private folder for this process
                    jieba.dt.tmp_dir = tempfile.mkdtemp(prefix="jiayuan-jieba-")
                jieba.initialize()
                _jieba = jieba
    return _jieba


def jieba_words(text: str) -> list[str]:
    """The words of ``text`` (normalised as the character features are), by jieba."""
    return [w for w in _segmenter().lcut(normalise_text(text)) if w.strip()]


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
    kind: str = MODEL_KIND


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


def _features(ngram_range: tuple[int, int], words: bool, max_features: int | None
              ) -> FeatureUnion:
    parts: list[tuple[str, Any]] = [
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=ngram_range,
                                  preprocessor=normalise_text, sublinear_tf=True,
                                  max_features=max_features, dtype=np.float32))]
    if words:
        parts.append(("words", TfidfVectorizer(analyzer=jieba_words, sublinear_tf=True,
                                               max_features=max_features, dtype=np.float32)))
    return FeatureUnion(parts)


def _calibrated_svm(c: float, folds: int) -> Any:
    """A class-balanced linear SVM with Platt-scaled probabilities.

    ``ensemble=False``: one SVM fitted on every row, its sigmoid fitted on ``folds``-fold
    cross-validated scores (one weight matrix, not ``folds`` of them: a smaller file). With
    fewer than two rows in some class there is nothing to cross-validate, and a logistic
    regression (probabilities of its own) stands in.
    """
    if folds < 2:
        return LogisticRegression(C=10.0, max_iter=1000)
    return CalibratedClassifierCV(LinearSVC(C=c, class_weight="balanced"), method="sigmoid",
                                  cv=folds, ensemble=False)


class _Lean:
    """The fitted pipeline's arithmetic for prediction, without scikit-learn's per-call
    machinery (input checks, joblib dispatch in ``FeatureUnion``, per-class calibrator
    calls), which costs several milliseconds for one text. Same numbers as
    ``pipeline.predict_proba`` (a test holds it to that): for each vectoriser, counts of the
    known n-grams, 1 + log(tf), times idf, L2-normalised; then the SVM's scores, each class's
    sigmoid, and the rows normalised to sum to 1 (as ``CalibratedClassifierCV`` does)."""

    def __init__(self, pipeline: Pipeline) -> None:
        union: FeatureUnion = pipeline.named_steps["features"]
        self.parts: list[tuple[Any, dict[str, int], np.ndarray, int]] = []
        offset = 0
        for _, vec in union.transformer_list:
            self.parts.append((vec.build_analyzer(), vec.vocabulary_,
                               np.asarray(vec.idf_, dtype=np.float64), offset))
            offset += len(vec.vocabulary_)
        self.n_features = offset
        self.offsets = np.array([part[3] for part in self.parts], dtype=np.int64)
        self.idf = np.concatenate([part[2] for part in self.parts])
        cal = pipeline.named_steps["clf"].calibrated_classifiers_[0]
        self.coef = np.asarray(cal.estimator.coef_, dtype=np.float64).T
        self.intercept = np.asarray(cal.estimator.intercept_, dtype=np.float64)
        self.a = np.array([c.a_ for c in cal.calibrators], dtype=np.float64)
        self.b = np.array([c.b_ for c in cal.calibrators], dtype=np.float64)
        self.n_classes = len(pipeline.classes_)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        for i, text in enumerate(texts):
            for analyzer, vocab, _, offset in self.parts:
                found = [j + offset for j in map(vocab.get, analyzer(text)) if j is not None]
                cols.extend(found)
                rows.extend([i] * len(found))
        n = len(texts)
        counts = sp.coo_matrix((np.ones(len(cols)), (np.asarray(rows, dtype=np.int64),
                                                     np.asarray(cols, dtype=np.int64))),
                               shape=(n, self.n_features)).tocsr()  # duplicates summed
        counts.sum_duplicates()
        x = counts.tocoo()
        vals = (np.log(x.data) + 1.0) * self.idf[x.col]
        # L2-normalise each row within each vectoriser's block, as each vectoriser does.
        block = np.searchsorted(self.offsets, x.col, side="right") - 1
        key = x.row * len(self.parts) + block
        norms = np.sqrt(np.bincount(key, weights=vals * vals, minlength=n * len(self.parts)))
        vals /= norms[key]
        return sp.csr_matrix((vals, (x.row, x.col)), shape=(n, self.n_features))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = np.asarray(self.features(texts) @ self.coef) + self.intercept
        p = 1.0 / (1.0 + np.exp(scores * self.a + self.b))
        if self.n_classes == 2:
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        total = p.sum(axis=1, keepdims=True)
        out = np.full_like(p, 1.0 / self.n_classes)
        np.divide(p, total, out=out, where=total != 0)
        return np.asarray(np.minimum(out, 1.0))


class TextClassifier:
    """A scikit-learn Pipeline (character + word TF-IDF → calibrated linear SVM) with metadata."""

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 3), words: bool = True,
                 c: float = 0.5, max_features: int | None = 200_000) -> None:
        self._c = c
        self.pipeline: Pipeline = Pipeline([
            ("features", _features(ngram_range, words, max_features)),
            ("clf", _calibrated_svm(c, CALIBRATION_FOLDS)),
        ])
        self.metadata: ModelMetadata | None = None
        self._lean: _Lean | None = None

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
        y = [str(lb) for lb in labels]
        folds = min(CALIBRATION_FOLDS, *Counter(y).values())
        self.pipeline.set_params(clf=_calibrated_svm(self._c, folds))
        self.pipeline.fit(list(texts), y)
        self._lean = None
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
        if not texts:
            return []
        classes = self.metadata.labels
        return [classes[int(i)] for i in np.argmax(self.predict_proba(texts), axis=1)]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's probability for each of ``labels`` (rows sum to 1)."""
        if self.metadata is None:
            raise ModelNotTrained()
        clf = self.pipeline.named_steps["clf"]
        if isinstance(clf, CalibratedClassifierCV):
            if self._lean is None:
                self._lean = _Lean(self.pipeline)
            return self._lean.proba(list(texts))
        # The small-data stand-in: the pipeline and its input are ours and checked, so
        # scikit-learn's per-call parameter and finiteness checks are skipped.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return np.asarray(self.pipeline.predict_proba(list(texts)))

    def predict_with_confidence(self, texts: Sequence[str]) -> list[Prediction]:
        """For each text: best label, its probability, and the top-3 (label, probability)."""
        if self.metadata is None:
            raise ModelNotTrained()
        if not texts:
            return []
        proba = self.predict_proba(texts)
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
        version = int(envelope.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise ModelFileInvalid(f"模型文件格式版本 {version} 高于本程序支持的版本")
        if version < FORMAT_VERSION:
            raise ModelFileInvalid(
                f"模型文件格式版本 {version} 是旧版模型，本程序需要版本 {FORMAT_VERSION}："
                "请用 jiayuan cases classifier train 重新训练")
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
