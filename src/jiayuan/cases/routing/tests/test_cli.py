from __future__ import annotations

import csv

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiayuan.cases.management.commands.cases_classifier import Command
from jiayuan.cases.routing import cli
from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.errors import TrainingDataInvalid
from jiayuan.cases.routing.io import load_labelled
from jiayuan.cases.routing.synthetic import generate
from jiayuan.core.errors import ImportRejected


def write_csv(path, header, rows, encoding="utf-8-sig"):
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def history_rows(n, seed):
    # Split each text in two columns, as 留言主题 / 留言详情 would be.
    return [(r.text[:6], r.text[6:], r.label) for r in generate(n, seed=seed)]


HEADER = ["主题", "详情", "类别"]


def test_several_text_columns_are_joined_in_order(tmp_path):
    path = write_csv(tmp_path / "h.csv", HEADER, [("路灯", "不亮", "01037")])
    data = load_labelled(path, ["主题", "详情"], "类别")
    assert data.texts == ["路灯。不亮"] and data.labels == ["01037"]


def test_xlsx_and_gb18030_csv_read_the_same(tmp_path):
    rows = [("井盖", "丢了", "01001"), ("垃圾", "满了", "06042")]
    a = load_labelled(write_xlsx(tmp_path / "h.xlsx", HEADER, rows), ["主题", "详情"], "类别")
    b = load_labelled(write_csv(tmp_path / "h.csv", HEADER, rows, encoding="gb18030"),
                      ["主题", "详情"], "类别")
    assert (a.texts, a.labels) == (b.texts, b.labels)


def test_rows_without_text_or_label_are_reported_by_row_number_in_chinese(tmp_path):
    rows = [("路灯", "不亮", "01037"), ("", "", "06010"), ("垃圾", "满了", "")]
    path = write_csv(tmp_path / "h.csv", HEADER, rows)
    with pytest.raises(ImportRejected) as e:
        load_labelled(path, ["主题", "详情"], "类别")
    assert [p["row"] for p in e.value.problems] == [3, 4]
    assert "第 3 行" in e.value.problems[0]["message"]
    skipped = load_labelled(path, ["主题", "详情"], "类别", skip_invalid=True)
    assert skipped.row_numbers == [2] and len(skipped.skipped) == 2


def test_missing_columns_and_unknown_formats_are_refused(tmp_path):
    path = write_csv(tmp_path / "h.csv", HEADER, [("a", "b", "c")])
    with pytest.raises(ImportRejected, match="1 处错误") as e:
        load_labelled(path, ["主题"], "一级标签")
    assert "一级标签" in e.value.problems[0]["message"]
    (tmp_path / "h.txt").write_text("x")
    with pytest.raises(ImportRejected):
        load_labelled(tmp_path / "h.txt", ["主题"], "类别")


def test_train_saves_a_model_and_reports_held_out_accuracy(tmp_path):
    path = write_csv(tmp_path / "history.csv", HEADER, history_rows(1500, seed=21))
    lines: list[str] = []
    report = cli.train(path, ["主题", "详情"], "类别", model_path=tmp_path / "m" / "c.joblib",
                       out=lines.append)
    assert report.holdout is not None and report.holdout.accuracy >= 0.8
    assert report.holdout.n == 300
    model = TextClassifier.load(tmp_path / "m" / "c.joblib")
    assert model.metadata is not None
    assert model.metadata.n == 1500  # the saved model is refitted on every row
    assert model.metadata.holdout_accuracy == report.holdout.accuracy
    assert model.metadata.source == "history.csv"
    assert any("留出集" in ln for ln in lines)


def test_train_refuses_a_bad_file_and_writes_no_model(tmp_path):
    rows = [*history_rows(50, seed=1), ("", "", "06010")]
    path = write_csv(tmp_path / "history.csv", HEADER, rows)
    with pytest.raises(ImportRejected):
        cli.train(path, ["主题", "详情"], "类别", model_path=tmp_path / "c.joblib",
                  out=lambda s: None)
    assert not (tmp_path / "c.joblib").exists()


def test_evaluate_ends_with_the_metrics_line(tmp_path):
    model_path = tmp_path / "c.joblib"
    cli.train(write_xlsx(tmp_path / "h.xlsx", HEADER, history_rows(1500, seed=31)),
              ["主题", "详情"], "类别", model_path=model_path, out=lambda s: None)
    lines: list[str] = []
    result = cli.evaluate(write_csv(tmp_path / "t.csv", HEADER, history_rows(300, seed=32)),
                          ["主题", "详情"], "类别", model_path=model_path, out=lines.append)
    assert lines[-1] == (f"accuracy={result.accuracy:.4f} macro_f1={result.macro_f1:.4f} "
                         f"n=300")
    assert result.accuracy >= 0.8 and 0 < result.macro_f1 <= 1


def test_metrics_count_unknown_labels_as_errors():
    m = cli.metrics(["A", "B", "C", "C"], ["A", "B", "C", "A"])
    assert m.accuracy == 0.75 and m.n == 4
    assert m.line() == f"accuracy=0.7500 macro_f1={m.macro_f1:.4f} n=4"


def test_command_train_then_evaluate_prints_the_metrics_line_last(tmp_path, capsys):
    history = write_csv(tmp_path / "h.csv", HEADER, history_rows(1500, seed=41))
    test = write_csv(tmp_path / "t.csv", HEADER, history_rows(200, seed=42))
    model = str(tmp_path / "c.joblib")
    call_command(Command(), "train", str(history), "--text", "主题", "--text", "详情",
                 "--label", "类别", "--model", model)
    call_command(Command(), "evaluate", str(test), "--text", "主题", "--text", "详情",
                 "--label", "类别", "--model", model)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("accuracy=") and last.endswith(" n=200")


def test_command_reports_row_errors_as_a_command_error(tmp_path):
    path = write_csv(tmp_path / "h.csv", HEADER, [("路灯", "不亮", ""), ("", "", "06010")])
    with pytest.raises(CommandError) as e:
        call_command(Command(), "train", str(path), "--text", "主题", "--label", "类别",
                     "--model", str(tmp_path / "c.joblib"))
    assert "第 2 行" in str(e.value) and "第 3 行" in str(e.value)


def test_evaluate_hints_at_codes_that_lost_their_leading_zero(tmp_path):
    model = TextClassifier().fit(["楼下酒吧很吵", "广场舞太吵", "垃圾乱扔", "路边一堆垃圾"],
                                 ["06028", "06028", "06010", "06010"])
    model.save(tmp_path / "c.joblib")
    path = write_csv(tmp_path / "t.csv", HEADER, [("酒吧", "很吵", "6028"), ("垃圾", "乱扔", "6010")])
    lines: list[str] = []
    result = cli.evaluate(path, ["主题", "详情"], "类别", model_path=tmp_path / "c.joblib",
                          out=lines.append)
    assert result.accuracy == 0.0
    assert any("前导零" in ln for ln in lines)
    assert lines[-1] == "accuracy=0.0000 macro_f1=0.0000 n=2"


class Recording(TextClassifier):
    """A classifier that remembers what it was trained on and asked about (one per fold)."""

    seen: list[tuple[list[str], list[str]]] = []

    def fit(self, texts, labels, **kw):
        self._train = list(texts)
        return super().fit(texts, labels, **kw)

    def predict_with_confidence(self, texts):
        Recording.seen.append((self._train, list(texts)))
        return super().predict_with_confidence(texts)


def test_cross_validation_never_tests_on_a_text_it_trained_on(monkeypatch):
    # Given a history where some texts repeat (as a subject sent twice does), with a
    # different spacing or width that normalisation undoes,
    rows = generate(600, seed=51)
    texts = [r.text for r in rows] + [r.text.replace("，", " ， ") for r in rows[:100]]
    labels = [r.label for r in rows] + [r.label for r in rows[:100]]
    Recording.seen = []
    result = cli.cross_validate(texts, labels, folds=5, make=Recording)
    # then every fold's test texts are absent from its training texts,
    assert len(Recording.seen) == 5
    for train, test in Recording.seen:
        assert not {cli.normalise_text(t) for t in train} & {cli.normalise_text(t) for t in test}
    # every row is predicted once, and the figures are the pooled out-of-fold ones.
    assert sum(len(test) for _, test in Recording.seen) == len(texts)
    assert result.pooled.n == len(texts) and len(result.folds) == 5
    assert result.pooled == cli.metrics(labels, list(result.predicted))
    assert 0.6 <= result.macro_f1_mean <= 1.0
    assert all(0.0 < c <= 1.0 for c in result.confidence)


def test_cross_validation_refuses_too_few_texts_or_folds():
    with pytest.raises(TrainingDataInvalid):
        cli.cross_validate(["a", "b", "a "], ["x", "y", "x"], folds=3)  # 2 distinct texts
    with pytest.raises(TrainingDataInvalid):
        cli.cross_validate(["a", "b", "c"], ["x", "y", "x"], folds=1)


def test_command_cv_prints_each_fold_and_the_metrics_line_last(tmp_path, capsys):
    history = write_csv(tmp_path / "h.csv", HEADER, history_rows(400, seed=61))
    call_command(Command(), "cv", str(history), "--text", "主题", "--text", "详情",
                 "--label", "类别", "--folds", "4")
    lines = capsys.readouterr().out.strip().splitlines()
    assert sum("折（" in ln for ln in lines) == 4
    last = lines[-1]
    assert last.startswith("accuracy=") and " macro_f1=" in last and last.endswith(" n=400")
    assert not list(tmp_path.glob("*.joblib"))  # cross-validation writes no model
