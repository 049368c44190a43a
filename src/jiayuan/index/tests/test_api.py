"""The index API: scoped scores, one compound, queue a run; errors machine-readable."""

from __future__ import annotations

import json

from jiayuan.index.models import IndexRun

from .test_pages import analyst, nb_staff, scored  # noqa: F401  (fixtures)


def test_scores_scoped_and_compound(scored, nb_staff, login):  # noqa: F811
    c = login(nb_staff)
    r = c.get("/api/v1/index/scores", {"period": "2026"})
    assert r.status_code == 200
    codes = {i["compound"] for i in r.json()["items"]}
    assert codes == {scored.compounds["S1N1C1"].code, scored.compounds["S1N1C2"].code}
    r = c.get(f"/api/v1/index/compounds/{scored.compounds['S1N1C1'].code}", {"period": "2026"})
    assert r.status_code == 200 and "z" in r.json() and "explanation" in r.json()
    r = c.get(f"/api/v1/index/compounds/{scored.compounds['S2N1C1'].code}", {"period": "2026"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = c.post("/api/v1/index/runs", json.dumps({"period": "2026"}),
               content_type="application/json")
    assert r.status_code == 403


def test_queue_run_and_bad_period(tiny, analyst, login):  # noqa: F811
    c = login(analyst)
    r = c.post("/api/v1/index/runs", json.dumps({"period": "2026"}),
               content_type="application/json")
    assert r.status_code == 202 and r.json()["status"] == "queued"
    r = c.post("/api/v1/index/runs", json.dumps({"period": "26年"}),
               content_type="application/json")
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "period"
    r = c.post("/api/v1/index/runs", json.dumps({"period": "2025", "parameters": {"x": 1}}),
               content_type="application/json")
    assert r.status_code == 422
    assert IndexRun.objects.count() == 1
    assert c.get("/api/v1/index/scores").status_code == 404
