"""``jiayuan index run`` and the periodic job."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiayuan.cli import resolve
from jiayuan.core.periodic import registered
from jiayuan.index.models import CompoundScore, IndexRun


def test_alias():
    assert resolve(["index", "run", "--period", "2026"]) == ["index_run", "--period", "2026"]


def test_cli_run_on_tiny(tiny):
    out = io.StringIO()
    call_command("index_run", "--period", "2026", "--mc-draws", "10", stdout=out)
    text = out.getvalue()
    assert "2026 期计算完成" in text and "无数据来源" in text
    run = IndexRun.objects.get()
    assert run.status == "done" and run.trigger == "cli"
    # spreadsheet leaves were never imported: they are reported; compounds go unscored
    # (coverage below the threshold), none silently scored on zeros
    assert CompoundScore.objects.filter(run=run, period_label="2026", status="scored").count() == 0
    assert any(p["kind"] == "leaf_without_data" for p in run.problems)


def test_cli_run_bad_period(tiny):
    with pytest.raises(CommandError, match="无法识别"):
        call_command("index_run", "--period", "20x6")
    assert not IndexRun.objects.exists()


def test_periodic_job_registered_and_runs(tiny):
    names = {j.name for j in registered()}
    assert "index.scheduled_run" in names
    from jiayuan.index.tasks import scheduled_run

    assert scheduled_run.call() == "done"
    assert IndexRun.objects.get().trigger == "schedule"


def test_admin_lists_open(tiny, make_user, login):
    call_command("index_run", "--period", "2026", "--mc-draws", "5", stdout=io.StringIO())
    root = make_user("root", "admin")
    type(root).objects.filter(pk=root.pk).update(is_superuser=True)
    root.refresh_from_db()
    c = login(root)
    for url in ("/admin/index/indexrun/", "/admin/index/leafvalue/",
                "/admin/index/compoundscore/", "/admin/index/indexperiod/"):
        assert c.get(url).status_code == 200, url
