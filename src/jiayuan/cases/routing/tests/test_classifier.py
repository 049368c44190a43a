from __future__ import annotations

import datetime as dt

import joblib
import pytest

from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.errors import ModelFileInvalid, ModelNotTrained, TrainingDataInvalid
from jiayuan.cases.routing.suggest import default_keywords
from jiayuan.cases.routing.synthetic import CATEGORY_NAMES


def accuracy(pred, truth):
    return sum(p == t for p, t in zip(pred, truth, strict=True)) / len(truth)


def test_classifier_learns_held_out_synthetic_orders_far_above_chance_and_keywords(trained):
    # Given a model trained on one seed's work orders, when it labels another seed's,
    texts = [r.text for r in trained.test]
    truth = [r.label for r in trained.test]
    model_acc = accuracy(trained.model.predict(texts), truth)
    keyword_acc = accuracy(default_keywords().predict(texts), truth)
    # then it is right far more often than chance (1/29) and than the keyword table.
    assert model_acc >= 0.85
    assert model_acc > keyword_acc + 0.2


def test_prediction_gives_label_confidence_and_top_three_best_first(trained):
    [p] = trained.model.predict_with_confidence(["小区门口有辆小轿车一直停在人行道上"])
    assert p.label == "09009"
    assert p.alternatives[0] == (p.label, p.confidence)
    assert len(p.alternatives) == 3
    probs = [c for _, c in p.alternatives]
    assert probs == sorted(probs, reverse=True)
    assert 0.0 < p.confidence <= 1.0


def test_confusable_noise_texts_are_told_apart_by_their_source(trained):
    # 工地 (construction site) noise is 施工扰民, a bar's noise is 噪声扰民.
    a, b = trained.model.predict(["旁边工地晚上还在打桩，噪音很大", "楼下酒吧每天晚上很吵"])
    assert (a, b) == ("08001", "06028")


def test_metadata_records_size_labels_version_and_aware_time(trained):
    md = trained.model.metadata
    assert md is not None
    assert md.n == 4000
    assert set(md.labels) == set(CATEGORY_NAMES)
    assert md.trained_at.tzinfo is not None
    assert md.sklearn_version


def test_save_and_load_round_trip_gives_identical_predictions(trained, tmp_path):
    path = trained.model.save(tmp_path / "sub" / "m.joblib")
    loaded = TextClassifier.load(path)
    texts = [r.text for r in trained.test[:200]]
    assert loaded.predict_with_confidence(texts) == trained.model.predict_with_confidence(texts)
    assert loaded.metadata == trained.model.metadata


def test_load_refuses_a_file_that_is_not_our_model(tmp_path):
    path = tmp_path / "other.joblib"
    joblib.dump({"something": "else"}, path)
    with pytest.raises(ModelFileInvalid) as e:
        TextClassifier.load(path)
    assert e.value.code == "model_file_invalid"
    with pytest.raises(ModelFileInvalid):
        TextClassifier.load(tmp_path / "missing.joblib")


def test_load_refuses_a_model_from_another_sklearn_version_unless_allowed(trained, tmp_path):
    path = trained.model.save(tmp_path / "m.joblib")
    envelope = joblib.load(path)
    envelope["metadata"]["sklearn_version"] = "0.24.2"
    joblib.dump(envelope, path)
    with pytest.raises(ModelFileInvalid, match="0.24.2"):
        TextClassifier.load(path)
    assert TextClassifier.load(path, allow_version_mismatch=True).is_fitted


def test_untrained_model_refuses_to_predict_or_save(tmp_path):
    model = TextClassifier()
    with pytest.raises(ModelNotTrained):
        model.predict(["路灯不亮"])
    with pytest.raises(ModelNotTrained):
        model.save(tmp_path / "m.joblib")
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.parametrize(("texts", "labels"), [
    (["a", "b"], ["06010"]),
    (["a", "b"], ["06010", "06010"]),
    (["a", "b"], ["06010", " "]),
    ([], []),
])
def test_fit_refuses_unusable_training_data(texts, labels):
    model = TextClassifier()
    with pytest.raises(TrainingDataInvalid):
        model.fit(texts, labels)
    assert not model.is_fitted


def test_fit_uses_the_given_time_for_metadata():
    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    model = TextClassifier().fit(["路灯不亮", "垃圾满了"], ["01037", "06042"], now=now)
    assert model.metadata is not None and model.metadata.trained_at == now


def test_fast_prediction_gives_the_pipelines_own_probabilities(trained):
    # The lean path (no per-call scikit-learn machinery) must agree with the fitted pipeline.
    texts = [r.text for r in trained.test[:300]] + ["", "ＡＢＣ　全角 文字"]
    import numpy as np

    ours = trained.model.predict_proba(texts)
    theirs = trained.model.pipeline.predict_proba(texts)
    assert np.allclose(ours, theirs, atol=1e-6)
    assert np.allclose(ours.sum(axis=1), 1.0)
    assert trained.model.predict(texts) == [trained.model.labels[i] for i in theirs.argmax(1)]


def test_confidence_is_calibrated_enough_for_the_threshold(trained):
    # Out of sample, confident answers are right about as often as they claim (or more),
    # and unsure ones less often: the threshold separates them.
    preds = trained.model.predict_with_confidence([r.text for r in trained.test])
    truth = [r.label for r in trained.test]
    sure = [p.label == y for p, y in zip(preds, truth, strict=True) if p.confidence >= 0.9]
    unsure = [p.label == y for p, y in zip(preds, truth, strict=True) if p.confidence < 0.6]
    assert len(sure) >= 500 and sum(sure) / len(sure) >= 0.9
    assert not unsure or sum(unsure) / len(unsure) < sum(sure) / len(sure)


def test_words_come_from_jieba_after_the_same_normalisation():
    from jiayuan.cases.routing.classifier import jieba_words

    words = jieba_words("小区门口ＡＢＣ停车难， 垃圾桶满了")
    assert "小区" in words and "垃圾桶" in words and "abc" in words
    assert all(w.strip() for w in words)


def test_tiny_training_sets_still_give_probabilities():
    # With one row per class there is nothing to calibrate on: a stand-in still answers.
    model = TextClassifier().fit(["路灯不亮", "垃圾满了"], ["01037", "06042"])
    [p] = model.predict_with_confidence(["路灯坏了不亮"])
    assert p.label == "01037" and 0.5 < p.confidence <= 1.0
    assert abs(sum(c for _, c in p.alternatives) - 1.0) < 1e-9


def test_load_refuses_an_old_format_model_with_a_clear_error(trained, tmp_path):
    path = trained.model.save(tmp_path / "m.joblib")
    envelope = joblib.load(path)
    envelope["format_version"] = 1
    joblib.dump(envelope, path)
    with pytest.raises(ModelFileInvalid, match="旧版模型.*重新训练") as e:
        TextClassifier.load(path)
    assert e.value.code == "model_file_invalid"


def test_jieba_keeps_its_cache_in_a_private_folder_not_the_shared_tmp(tmp_path, monkeypatch):
    from jiayuan.cases.routing.classifier import _segmenter, jieba_cache_dir, jieba_words

    monkeypatch.setenv("JIAYUAN_JIEBA_CACHE_DIR", str(tmp_path / "jieba"))
    path = jieba_cache_dir()
    assert path == tmp_path / "jieba" and (path.stat().st_mode & 0o777) == 0o700
    jieba_words("路灯不亮")
    import tempfile

    assert _segmenter().dt.tmp_dir != tempfile.gettempdir()
