from __future__ import annotations

import pytest

from jiayuan.cases.routing.keywords import parse_keywords_csv
from jiayuan.cases.routing.suggest import suggest, suggest_many


def test_confident_model_decides(trained):
    s = suggest("有辆小轿车一直停在人行道上，请尽快处理", trained.model, threshold=0.5)
    assert (s.source, s.category, s.decision) == ("model", "09009", "route")
    assert s.confidence >= 0.5


def test_unsure_model_without_keyword_sends_case_to_triage(trained):
    # Given a text the model has no strong view on and no keyword matches,
    text = "那个东西又出问题了"
    pred = trained.model.predict_with_confidence([text])[0]
    # when the threshold lies above the model's confidence,
    s = suggest(text, trained.model, threshold=min(1.0, pred.confidence + 0.01))
    # then the case waits for a person, and the model's runners-up go with it.
    assert (s.source, s.category, s.decision) == ("triage", None, "triage")
    assert s.alternatives == pred.alternatives


def test_unsure_model_with_keyword_falls_back_to_keywords(trained):
    s = suggest("井盖", trained.model, threshold=1.0)
    assert (s.source, s.category) == ("keywords", "01001")
    assert s.matched_keywords == ("井盖",)
    assert s.confidence == dict(s.alternatives).get("01001", 0.0)


def test_without_a_model_keywords_decide_or_the_case_waits():
    s, t = suggest_many(["楼道里堆放杂物很多", "想问个事情"], None)
    assert (s.source, s.category, s.confidence) == ("keywords", "06036", 0.0)
    assert (t.source, t.category) == ("triage", None)


def test_custom_keyword_table_replaces_the_default():
    table = parse_keywords_csv("code,name,keywords\nX1,测试,喵\n")
    assert suggest("有只喵在叫", None, keywords=table).category == "X1"
    assert suggest("井盖丢了", None, keywords=table).source == "triage"


def test_empty_text_goes_to_triage():
    assert suggest("   ", None).source == "triage"


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_threshold_outside_unit_interval_is_refused(threshold):
    with pytest.raises(ValueError):
        suggest("路灯不亮", None, threshold=threshold)


def test_keywords_do_not_overrule_a_model_trained_on_another_label_set():
    # Given a model trained on 泰迪杯-style first-level labels, not category codes,
    from jiayuan.cases.routing.classifier import TextClassifier

    model = TextClassifier().fit(
        ["小区路灯坏了", "道路破损", "垃圾没人清运", "河水发臭", "公交线路调整", "地铁站拥挤"],
        ["城乡建设", "城乡建设", "环境保护", "环境保护", "交通运输", "交通运输"])
    # when it is unsure and a keyword of the code table matches,
    s = suggest("井盖", model, threshold=1.0)
    # then the case goes to triage rather than to a code the model's users never use.
    assert s.source == "triage"
