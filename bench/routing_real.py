"""Bench: the case classifier on real messages (cross-validated), its speed and its size.

    .venv/bin/python bench/routing_real.py [FILE] [--text subject] [--label label] [--folds 5]

FILE defaults to ../shared/data/complaints/messages-2020-subjects-train.csv (7,278 real
message subjects to a city government, seven first-level categories; see its SOURCE.md).
Prints the cross-validated macro-F1 (stratified folds, equal texts kept in one fold), the
calibration of the out-of-fold confidences (per confidence band: how many, how accurate;
expected calibration error), the share routed at the threshold and its accuracy, then trains
on every row and prints the model file's size and the time to suggest one case.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.cli import cross_validate
from jiayuan.cases.routing.io import load_labelled
from jiayuan.cases.routing.suggest import DEFAULT_THRESHOLD, suggest_many

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/complaints/messages-2020-subjects-train.csv"
BANDS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(DEFAULT))
    ap.add_argument("--text", action="append", default=None)
    ap.add_argument("--label", default="label")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = ap.parse_args()
    data = load_labelled(args.file, args.text or ["subject"], args.label)
    print(f"file={Path(args.file).name} n={len(data)} labels={len(set(data.labels))}")

    t0 = time.perf_counter()
    cv = cross_validate(data.texts, data.labels, folds=args.folds)
    print(f"cv folds={args.folds} macro_f1={cv.macro_f1_mean:.4f}±{cv.macro_f1_std:.4f} "
          f"(pooled {cv.pooled.line()}) in {time.perf_counter() - t0:.0f}s")

    # Calibration: within each confidence band, the share of out-of-fold predictions right.
    ece = 0.0
    for lo, hi in zip(BANDS, BANDS[1:], strict=False):
        rows = [(c, p == y) for c, p, y in zip(cv.confidence, cv.predicted, data.labels,
                                                strict=True) if lo <= c < hi]
        if rows:
            mean_c = statistics.fmean(c for c, _ in rows)
            acc = statistics.fmean(ok for _, ok in rows)
            ece += len(rows) / len(data) * abs(mean_c - acc)
            print(f"  confidence [{lo:.2f},{min(hi, 1):.2f}): n={len(rows):5d} "
                  f"mean_conf={mean_c:.3f} accuracy={acc:.3f}")
    print(f"  expected calibration error={ece:.4f}")
    routed = [p == y for c, p, y in zip(cv.confidence, cv.predicted, data.labels, strict=True)
              if c >= args.threshold]
    print(f"  at threshold {args.threshold}: routed {len(routed) / len(data):.1%}, "
          f"accuracy when routed {statistics.fmean(routed):.4f}")

    t0 = time.perf_counter()
    model = TextClassifier().fit(data.texts, data.labels)
    train_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = model.save(Path(tmp) / "m.joblib")
        size_mb = path.stat().st_size / 1e6
        t0 = time.perf_counter()
        model = TextClassifier.load(path)
        load_s = time.perf_counter() - t0
    texts = data.texts[:300]
    suggest_many(texts[:1], model)  # jieba's dictionary loads on the first text
    times = []
    for t in texts:
        t0 = time.perf_counter()
        suggest_many([t], model, args.threshold)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    model.predict_with_confidence(data.texts)
    batch_s = time.perf_counter() - t0
    print(f"train={train_s:.1f}s model_file={size_mb:.1f}MB load={load_s:.2f}s "
          f"suggest_one median={statistics.median(times) * 1e3:.2f}ms "
          f"p95={sorted(times)[int(len(times) * 0.95)] * 1e3:.2f}ms "
          f"batch={batch_s / len(data) * 1e3:.3f}ms/case")


if __name__ == "__main__":
    main()
