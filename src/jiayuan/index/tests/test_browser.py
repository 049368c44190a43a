"""The index pages in a real headless Chromium at phone size: rankings fit the screen, the
map colours compounds by rank within type, the compound page draws its radar and trend.
Skipped when /usr/bin/chromium is absent (see tests/e2e)."""

from __future__ import annotations

import pytest
from tests.e2e.test_registry_browser import _log_in, _shot, browser  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}


def test_index_pages_on_a_phone(browser, live_server, tmp_path):  # noqa: F811
    from jiayuan.accounts.scope import AreaScope
    from jiayuan.accounts.testing import make_user
    from jiayuan.index.services.imports import import_values
    from jiayuan.index.services.periods import get_or_create_period
    from jiayuan.index.services.runs import run_index
    from jiayuan.registry.testing import make_tiny_district

    from .test_import_and_run import _csv, _spreadsheet_values

    tiny = make_tiny_district()
    import_values(_csv(tmp_path, _spreadsheet_values(tiny, ["2024", "2025", "2026"])),
                  scope=AreaScope.all())
    run = run_index(get_or_create_period("2026"), parameters={"mc_draws": 20})
    assert run.status == "done"
    make_user("ana", "district_analyst")
    ctx = browser.new_context(**PHONE)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    _log_in(p, base, "ana")
    p.goto(f"{base}/index/?period=2026")
    assert p.locator("[data-testid=ranking] tbody tr").count() >= 1
    _shot(p, "index-rankings")
    p.goto(f"{base}/index/map/?period=2026")
    p.wait_for_selector("#index-map[data-ready]")
    assert int(p.get_attribute("#index-map", "data-ready")) == 8
    fills = p.eval_on_selector_all("#index-map path.leaflet-interactive",
                                   "els => els.map(e => e.getAttribute('fill'))")
    assert len(set(fills)) > 1, fills  # coloured by rank, not one colour
    _shot(p, "index-map")
    code = tiny.compounds["S1N1C1"].code
    p.goto(f"{base}/index/compounds/{code}/?period=2026")
    p.wait_for_selector("#trend-chart[data-ready]")
    assert p.locator("svg.radar polygon").count() >= 6
    widths = p.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] + 1, widths
    _shot(p, "index-compound")
    assert not errors, errors
    ctx.close()
