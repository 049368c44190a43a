"""Pages: scoped rankings, compound page, map data, diagnostics, export, report, compute now,
import page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from jiayuan.accounts.scope import AreaScope
from jiayuan.index.models import IndexRun, LeafValue
from jiayuan.index.services.imports import import_values
from jiayuan.index.services.periods import get_or_create_period
from jiayuan.index.services.runs import run_index

from .factories import at, case
from .test_import_and_run import HEADER, _csv, _spreadsheet_values


@pytest.fixture
def scored(tiny, tmp_path):
    for k, comp in enumerate(tiny.compounds.values()):
        for _ in range(k % 3):
            case(comp, reported=at(2026, 3, 1), closed=at(2026, 3, 2), due=at(2026, 3, 5),
                 state="closed")
    import_values(_csv(tmp_path, _spreadsheet_values(tiny, ["2024", "2025", "2026"])),
                  scope=AreaScope.all())
    run = run_index(get_or_create_period("2026"), parameters={"mc_draws": 30})
    assert run.status == "done", run.error
    return tiny


@pytest.fixture
def analyst(make_user):
    return make_user("ana", "district_analyst")


@pytest.fixture
def nb_staff(make_user, tiny):
    return make_user("nb", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])


def test_rankings_scoped_to_neighbourhood(scored, nb_staff, login):
    c = login(nb_staff)
    mine = {scored.compounds["S1N1C1"].name, scored.compounds["S1N1C2"].name}
    body = ""
    for t in ("commodity", "old_public"):
        r = c.get("/index/", {"period": "2026", "type": t})
        assert r.status_code == 200
        body += r.content.decode()
    for key, comp in scored.compounds.items():
        link = f"/index/compounds/{comp.code}/"
        assert (link in body) == (comp.name in mine), key
    # another neighbourhood's compound page is refused
    other = scored.compounds["S2N1C1"]
    assert c.get(f"/index/compounds/{other.code}/").status_code == 404
    assert c.get(f"/index/compounds/{scored.compounds['S1N1C1'].code}/").status_code == 200
    data = c.get("/index/map/scores.json", {"period": "2026"}).json()
    assert set(data["scores"]) == {scored.compounds["S1N1C1"].code,
                                   scored.compounds["S1N1C2"].code}
    # neighbourhood staff neither compute nor see diagnostics
    assert c.get("/index/diagnostics/").status_code == 403
    assert c.post("/index/compute/", {"period": "2026"}).status_code == 403


def test_export_opens_and_is_scoped(scored, nb_staff, analyst, login, client):
    r = login(analyst).get("/index/export.xlsx", {"period": "2026"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 + 8
    client.logout()
    r = login(nb_staff).get("/index/export.xlsx", {"period": "2026"})
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == {scored.compounds["S1N1C1"].code,
                                            scored.compounds["S1N1C2"].code}


def test_compound_page_and_diagnostics_and_report(scored, analyst, login):
    c = login(analyst)
    comp = scored.compounds["S1N1C1"]
    r = c.get(f"/index/compounds/{comp.code}/", {"period": "2026"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and "trend-data" in html and "2024" in html
    assert "无数据来源" in html  # a leaf without data says why, it is not shown as zero
    r = c.get("/index/diagnostics/", {"period": "2026", "type": "commodity"})
    assert r.status_code == 200 and 'data-testid="heatmap"' in r.content.decode()
    r = c.get("/index/report/", {"period": "2026"})
    assert r.status_code == 200 and comp.name in r.content.decode()
    assert c.get("/index/map/", {"period": "2026"}).status_code == 200


def test_compute_now_queues_a_run(tiny, analyst, login, django_capture_on_commit_callbacks):
    c = login(analyst)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = c.post("/index/compute/", {"period": "2027"})
    assert r.status_code == 302
    run = IndexRun.objects.get()
    assert run.status == "queued" and run.period.label == "2027" and run.requested_by == analyst
    assert len(callbacks) == 1
    from jiayuan.index.tasks import execute_run

    assert execute_run.call(run.pk) == "done"
    run.refresh_from_db()
    assert run.progress == 100
    assert c.get(f"/index/runs/{run.pk}/").status_code == 200
    # a second request while one is queued is refused with a message, nothing created
    IndexRun.objects.filter(pk=run.pk).update(status="queued")
    r = c.post("/index/compute/", {"period": "2027"}, follow=True)
    assert IndexRun.objects.count() == 1
    assert "排队" in r.content.decode()
    r = c.post("/index/compute/", {"period": "二〇二七"}, follow=True)
    assert IndexRun.objects.count() == 1 and "无法识别" in r.content.decode()


def test_import_page_refuses_bad_sheet(tiny, analyst, login, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = login(analyst)
    bad = (HEADER + f"{tiny.compounds['S1N1C1'].code},commodity,2025,no_such,1\n").encode()
    r = c.post("/index/import/", {"period": "2025",
                                  "file": SimpleUploadedFile("v.csv", bad, "text/csv")})
    assert r.status_code == 400 and "no_such" in r.content.decode()
    assert LeafValue.objects.count() == 0
    good = (HEADER + f"{tiny.compounds['S1N1C1'].code},commodity,2025,safe_compound,1\n").encode()
    r = c.post("/index/import/", {"period": "2025",
                                  "file": SimpleUploadedFile("v.csv", good, "text/csv")})
    assert r.status_code == 200 and LeafValue.objects.count() == 1


def test_home_tile_for_analyst(analyst, login):
    r = login(analyst).get("/")
    assert "/index/" in r.content.decode()
