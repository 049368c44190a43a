from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.cases.routing.decide import decide
from jiayuan.cases.routing.suggest import suggest
from jiayuan.cases.routing.table import Rule, load_rules

C2 = "310115/310115004/310115004001/310115004001002/"


def test_confident_text_is_routed_by_the_table(trained):
    d = decide("有辆小轿车一直停在人行道上", C2, model=trained.model, rules=load_rules())
    assert d.category == "09009" and d.triage_reason is None
    assert d.route is not None and d.route.lead == "dept:traffic_police"


def test_unsure_text_goes_to_triage_without_a_route(trained):
    d = decide("那个东西又出问题了", C2, model=trained.model, rules=load_rules(), threshold=1.0)
    assert (d.category, d.route, d.triage_reason) == (None, None, "unsure")


def test_category_without_a_rule_goes_to_triage_as_no_route(trained):
    only_rubbish = [Rule("r", "06*", "", "cross_department", "dept:greening_sanitation")]
    d = decide("有辆小轿车一直停在人行道上", C2, model=trained.model, rules=only_rubbish)
    assert (d.category, d.route, d.triage_reason) == ("09009", None, "no_route")


def test_a_given_category_skips_the_classifier():
    d = decide("随便写的", C2, model=None, rules=load_rules(), category="06036")
    assert d.suggestion is None and d.route is not None
    assert d.route.tier == "neighbourhood"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 999), st.floats(0.0, 1.0))
def test_model_decides_exactly_when_its_confidence_reaches_the_threshold(trained, i, t):
    text = trained.test[i].text
    pred = trained.model.predict_with_confidence([text])[0]
    s = suggest(text, trained.model, threshold=t)
    assert (s.source == "model") == (pred.confidence >= t)
    if s.source == "model":
        assert s.category == pred.label
