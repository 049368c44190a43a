"""Bench: case routing classifier on synthetic work orders.

    .venv/bin/python bench/routing.py [--train 20000] [--test 5000] [--threshold 0.6]

Trains on a synthetic history (2 % label noise, as real histories carry mis-filed cases),
evaluates on a held-out set drawn with another seed, and prints accuracy, macro-F1, the
keyword baseline, the share routed automatically at the threshold, train time and
predictions per second; then address matching speed over a synthetic registry.
Synthetic texts are cleaner than real hotline records: read the accuracy as an upper bound.
"""

from __future__ import annotations

import argparse
import random
import time

from sklearn.metrics import f1_score

from jiayuan.cases.routing.address import AddressMatcher, CompoundRecord
from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.cli import metrics
from jiayuan.cases.routing.suggest import default_keywords, suggest_many
from jiayuan.cases.routing.synthetic import CATEGORY_NAMES, ESTATES, ROADS, SUFFIXES, generate


def bench_classifier(n_train: int, n_test: int, threshold: float) -> None:
    train = generate(n_train, seed=101, label_noise=0.02)
    test = generate(n_test, seed=202)
    texts = [r.text for r in test]
    truth = [r.label for r in test]

    t0 = time.perf_counter()
    model = TextClassifier().fit([r.text for r in train], [r.label for r in train])
    train_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    predicted = model.predict(texts)
    predict_s = time.perf_counter() - t0
    m = metrics(truth, predicted)

    kw = [p or "" for p in default_keywords().predict(texts)]
    kw_m = metrics(truth, kw)
    kw_cover = sum(bool(p) for p in kw) / len(kw)

    t0 = time.perf_counter()
    sugg = suggest_many(texts, model, threshold)
    suggest_s = time.perf_counter() - t0
    routed = [(s.category, y) for s, y in zip(sugg, truth, strict=True) if s.decision == "route"]
    routed_acc = sum(c == y for c, y in routed) / len(routed) if routed else 0.0
    by_source = {src: sum(s.source == src for s in sugg) for src in ("model", "keywords", "triage")}

    one = [texts[0]] * 200
    t0 = time.perf_counter()
    for t in one:
        suggest_many([t], model, threshold)
    single_s = (time.perf_counter() - t0) / len(one)

    print(f"classifier: train n={n_train} test n={n_test} labels={len(model.labels)}")
    print(f"  model    accuracy={m.accuracy:.4f} macro_f1={m.macro_f1:.4f}")
    print(f"  keywords accuracy={kw_m.accuracy:.4f} macro_f1={kw_m.macro_f1:.4f} "
          f"(decides {kw_cover:.1%} of texts)")
    print(f"  model / keyword accuracy ratio = {m.accuracy / max(kw_m.accuracy, 1e-9):.2f}")
    print(f"  threshold {threshold:.2f}: model {by_source['model']}, keywords "
          f"{by_source['keywords']}, triage {by_source['triage']}; accuracy of routed "
          f"{routed_acc:.4f}")
    f1s = f1_score(truth, predicted, average=None, labels=sorted(set(truth)), zero_division=0)
    worst = sorted(zip(f1s, sorted(set(truth)), strict=True))[:4]
    print("  weakest classes (F1): " + ", ".join(
        f"{code} {CATEGORY_NAMES[code]} {f:.3f}" for f, code in worst))
    print(f"  train time {train_s:.1f} s; batch predict {n_test / predict_s:,.0f} texts/s; "
          f"batch suggest {n_test / suggest_s:,.0f} texts/s; single suggest "
          f"{single_s * 1000:.2f} ms")


def learning_curve(sizes: list[int], n_test: int) -> None:
    test = generate(n_test, seed=303)
    texts = [r.text for r in test]
    truth = [r.label for r in test]
    parts = []
    for n in sizes:
        train = generate(n, seed=404, label_noise=0.02)
        model = TextClassifier().fit([r.text for r in train], [r.label for r in train])
        parts.append(f"n={n}: {metrics(truth, model.predict(texts)).accuracy:.4f}")
    print("learning curve (held-out accuracy): " + "; ".join(parts))


def bench_address(n_compounds: int, n_queries: int) -> None:
    rng = random.Random(7)
    names = [e + d + s + ph for e in ESTATES for d in ("", "东", "西", "南", "北", "新")
             for s in SUFFIXES for ph in ("", "一期", "二期", "三期")]
    rng.shuffle(names)
    names = names[:n_compounds]  # at most 4,800 distinct synthetic names
    records = [CompoundRecord(f"C{i:05d}", name,
                              address=f"{rng.choice(ROADS)}{rng.randint(1, 3000)}弄")
               for i, name in enumerate(names)]
    t0 = time.perf_counter()
    matcher = AddressMatcher(records)
    build_s = time.perf_counter() - t0
    truth = [rng.choice(records) for _ in range(n_queries)]
    # Half by name with a building and a landmark, half by lane address with a door number.
    queries = [f"上海市浦东新区{r.name}{rng.randint(1, 30)}号楼门口" if i % 2 else
               f"浦东新区{r.address}{rng.randint(1, 30)}号" for i, r in enumerate(truth)]
    t0 = time.perf_counter()
    results = [matcher.match(q) for q in queries]
    match_s = time.perf_counter() - t0
    shares = {s: sum(r.status == s for r in results) / n_queries
              for s in ("matched", "ambiguous", "none")}
    shares["correct"] = sum(r.code == t.code for r, t in zip(results, truth, strict=True)
                            ) / n_queries
    print(f"address: {len(records)} compounds (index built in {build_s * 1000:.0f} ms), "
          f"{n_queries} queries: {n_queries / match_s:,.0f} matches/s; "
          + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=20_000)
    ap.add_argument("--test", type=int, default=5_000)
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--compounds", type=int, default=2_000)
    args = ap.parse_args()
    bench_classifier(args.train, args.test, args.threshold)
    learning_curve([300, 1_000, 5_000], args.test)
    bench_address(args.compounds, 500)


if __name__ == "__main__":
    main()
