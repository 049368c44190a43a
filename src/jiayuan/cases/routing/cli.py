"""``jiayuan cases classifier train|evaluate|cv``: the logic, free of Django.

The management command ``cases_classifier`` only parses arguments and calls ``train``,
``evaluate`` or ``crossval`` here, passing ``out`` to print lines. ``evaluate`` and
``crossval`` always end with the line ``accuracy=<a> macro_f1=<f> n=<rows>``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.errors import TrainingDataInvalid
from jiayuan.cases.routing.io import load_labelled
from jiayuan.cases.routing.keywords import normalise_text
from jiayuan.cases.routing.suggest import DEFAULT_THRESHOLD, suggest_many

DEFAULT_MODEL_PATH = Path("var/models/case_classifier.joblib")
Out = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Metrics:
    accuracy: float
    macro_f1: float
    n: int

    def line(self) -> str:
        return f"accuracy={self.accuracy:.4f} macro_f1={self.macro_f1:.4f} n={self.n}"


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> Metrics:
    """Accuracy and macro-F1 (over every label seen in truth or prediction) of ``predicted``."""
    return Metrics(accuracy=float(accuracy_score(truth, predicted)),
                   macro_f1=float(f1_score(truth, predicted, average="macro", zero_division=0)),
                   n=len(truth))


@dataclass(frozen=True, slots=True)
class TrainReport:
    model_path: Path
    n: int
    labels: tuple[str, ...]
    holdout: Metrics | None
    seconds: float


def _split(texts: list[str], labels: list[str], test_size: float, seed: int
           ) -> tuple[list[str], list[str], list[str], list[str]] | None:
    """A stratified split; labels seen once stay in training. None when too few rows."""
    counts = Counter(labels)
    idx_rare = [i for i, lb in enumerate(labels) if counts[lb] < 2]
    idx = [i for i, lb in enumerate(labels) if counts[lb] >= 2]
    strat = [labels[i] for i in idx]
    n_test = round(len(idx) * test_size)
    if len(set(strat)) < 2 or n_test < len(set(strat)) or len(idx) - n_test < len(set(strat)):
        return None
    tr, te = train_test_split(idx, test_size=n_test, stratify=strat, random_state=seed)
    tr = sorted([*tr, *idx_rare])
    return ([texts[i] for i in tr], [labels[i] for i in tr],
            [texts[i] for i in te], [labels[i] for i in te])


def train(history: str | Path, text_columns: Sequence[str], label_column: str, *,
          model_path: str | Path = DEFAULT_MODEL_PATH, test_size: float = 0.2, seed: int = 0,
          sheet: str | None = None, skip_invalid: bool = False,
          out: Out = print) -> TrainReport:
    """Train a classifier from a labelled history and save it to ``model_path``.

    Measures accuracy on a stratified held-out share first (``test_size``), then refits on
    every row and saves. Refuses bad files as ``load_labelled`` does; writes nothing then.
    """
    started = time.perf_counter()
    data = load_labelled(history, text_columns, label_column, sheet=sheet,
                         skip_invalid=skip_invalid)
    for p in data.skipped:
        out(f"跳过：{p['message']}")
    out(f"读取 {len(data)} 行，{len(set(data.labels))} 个类别")
    holdout: Metrics | None = None
    split = _split(data.texts, data.labels, test_size, seed) if test_size > 0 else None
    if split is not None:
        x_tr, y_tr, x_te, y_te = split
        probe = TextClassifier().fit(x_tr, y_tr)
        holdout = metrics(y_te, probe.predict(x_te))
        out(f"留出集（{len(y_te)} 行，分层抽样）：准确率 {holdout.accuracy:.4f}，"
            f"宏平均 F1 {holdout.macro_f1:.4f}")
    else:
        out("数据太少，无法分出留出集；未评估准确率")
    model = TextClassifier().fit(data.texts, data.labels, source=Path(history).name)
    if holdout is not None:
        model.with_holdout_accuracy(holdout.accuracy)
    path = model.save(model_path)
    seconds = time.perf_counter() - started
    out(f"模型已保存：{path}（{len(data)} 行，用时 {seconds:.1f} 秒）")
    if holdout is not None:
        out(holdout.line())
    return TrainReport(path, len(data), model.labels, holdout, seconds)


def evaluate(test: str | Path, text_columns: Sequence[str], label_column: str, *,
             model_path: str | Path = DEFAULT_MODEL_PATH,
             threshold: float = DEFAULT_THRESHOLD, sheet: str | None = None,
             skip_invalid: bool = False, out: Out = print) -> Metrics:
    """Evaluate a saved model on a labelled file; the last line printed is ``Metrics.line()``.

    Also reports labels the model never saw, and how many cases the threshold would route
    automatically (model or keywords) with their accuracy. Refuses bad files and model files.
    """
    model = TextClassifier.load(model_path)
    data = load_labelled(test, text_columns, label_column, sheet=sheet,
                         skip_invalid=skip_invalid)
    for p in data.skipped:
        out(f"跳过：{p['message']}")
    unknown = sorted(set(data.labels) - set(model.labels))
    if unknown:
        out(f"注意：模型未见过的类别 {len(unknown)} 个（{'、'.join(unknown[:10])}），这些行必然判错")
        if any(u.isdigit() and u.zfill(5) in model.labels for u in unknown):
            out("提示：部分类别代码可能在 Excel 中丢失了前导零（如 6028 应为 06028），请把该列设为文本")
    predicted = model.predict(data.texts)
    result = metrics(data.labels, predicted)
    suggestions = suggest_many(data.texts, model, threshold)
    routed = [(s.category, y) for s, y in zip(suggestions, data.labels, strict=True)
              if s.decision == "route"]
    share = len(routed) / len(data)
    routed_acc = sum(c == y for c, y in routed) / len(routed) if routed else 0.0
    out(f"阈值 {threshold:.2f}：自动分拨 {share:.1%}（其中准确率 {routed_acc:.4f}），"
        f"转人工 {1 - share:.1%}")
    out(result.line())
    return result


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-fold figures: each fold's, and all rows' pooled (``pooled.line()``), with each
    row's out-of-fold label and confidence (for a calibration check)."""

    folds: tuple[Metrics, ...]
    pooled: Metrics
    predicted: tuple[str, ...]
    confidence: tuple[float, ...]

    @property
    def macro_f1_mean(self) -> float:
        return sum(m.macro_f1 for m in self.folds) / len(self.folds)

    @property
    def macro_f1_std(self) -> float:
        mean = self.macro_f1_mean
        return math.sqrt(sum((m.macro_f1 - mean) ** 2 for m in self.folds) / len(self.folds))


def cross_validate(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5,
                   seed: int = 0, make: Callable[[], TextClassifier] = TextClassifier
                   ) -> CrossValidation:
    """Stratified ``folds``-fold cross-validation in which equal texts share a fold.

    Texts equal after normalisation (a subject sent twice) form one group, so no test text is
    also a training text: the figure is the one unseen messages would give. Refuses
    (``TrainingDataInvalid``) fewer than 2 folds or fewer distinct texts than folds.
    """
    if len(texts) != len(labels):
        raise TrainingDataInvalid(f"文本 {len(texts)} 条与标签 {len(labels)} 条数量不一致")
    keys = [normalise_text(t) for t in texts]
    distinct = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    if folds < 2 or len(distinct) < folds:
        raise TrainingDataInvalid(f"交叉验证需要至少 2 折，且不同文本数（{len(distinct)}）不少于折数（{folds}）")
    groups = [distinct[k] for k in keys]
    y = [str(lb) for lb in labels]
    predicted = [""] * len(y)
    confidence = [0.0] * len(y)
    per_fold: list[Metrics] = []
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in splitter.split(list(texts), y, groups):
        model = make().fit([texts[i] for i in tr], [y[i] for i in tr])
        fold_pred = model.predict_with_confidence([texts[i] for i in te])
        per_fold.append(metrics([y[i] for i in te], [p.label for p in fold_pred]))
        for i, p in zip(te, fold_pred, strict=True):
            predicted[i], confidence[i] = p.label, p.confidence
    return CrossValidation(tuple(per_fold), metrics(y, predicted), tuple(predicted),
                           tuple(confidence))


def crossval(history: str | Path, text_columns: Sequence[str], label_column: str, *,
             folds: int = 5, seed: int = 0, sheet: str | None = None,
             skip_invalid: bool = False, out: Out = print) -> CrossValidation:
    """Cross-validate the classifier on a labelled file (see ``cross_validate``); writes no
    model. Prints each fold, then the pooled ``Metrics.line()`` last."""
    data = load_labelled(history, text_columns, label_column, sheet=sheet,
                         skip_invalid=skip_invalid)
    for p in data.skipped:
        out(f"跳过：{p['message']}")
    out(f"读取 {len(data)} 行，{len(set(data.labels))} 个类别；{folds} 折交叉验证（相同文本同折）")
    result = cross_validate(data.texts, data.labels, folds=folds, seed=seed)
    for i, m in enumerate(result.folds, start=1):
        out(f"第 {i} 折（{m.n} 行）：准确率 {m.accuracy:.4f}，宏平均 F1 {m.macro_f1:.4f}")
    out(f"各折宏平均 F1：{result.macro_f1_mean:.4f} ± {result.macro_f1_std:.4f}")
    out(result.pooled.line())
    return result
