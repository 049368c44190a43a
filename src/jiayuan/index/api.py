"""Index endpoints (Ninja router mounted at /api/v1/index). Thin: parse, call, shape.

- ``GET /index/scores?period=&type=&subdistrict=&offset=&limit=``: the latest finished run's
  scores of the period for the compounds in the caller's area;
- ``GET /index/compounds/{code}?period=``: one compound's score, dimensions, Z, explanation;
- ``POST /index/runs`` {"period": "2026", "parameters": {...}}: queue a run (analysts, duty
  officers, administrators); ``GET /index/runs/{id}``: its status and progress.
Refusals are the platform's ``{"error": {code, message, details}}``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import Forbidden, NotFound
from jiayuan.core.pagination import page
from jiayuan.index import selectors
from jiayuan.index.models import CompoundScore, IndexRun
from jiayuan.index.services.periods import get_or_create_period
from jiayuan.index.services.runs import request_run
from jiayuan.index.views import may_compute, may_view

router = Router(tags=["index"])


class RunIn(Schema):
    period: str
    parameters: dict[str, Any] | None = None


def _run(period: str | None) -> IndexRun:
    if period:
        found = selectors.period_by_label(period)
        run = selectors.latest_run(found) if found is not None else None
    else:
        run = selectors.latest_run(None)
    if run is None:
        raise NotFound("该期尚未计算社区治理指数")
    return run


def _score(s: CompoundScore, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "compound": s.compound.code, "name": s.compound.name, "compound_type": s.compound_type,
        "subdistrict": s.subdistrict_code, "status": s.status, "coverage": s.coverage,
        "total": s.total, "rank": s.rank, "of": s.of, "dimensions": s.dimensions,
        "rank_interval": [s.rank_low, s.rank_high] if s.rank_low is not None else None,
    }
    if full:
        out.update({"subindices": s.subindices, "z": s.z, "values": s.x,
                    "explanation": s.explanation})
    return out


def _run_out(run: IndexRun) -> dict[str, Any]:
    return {"id": run.pk, "period": run.period.label, "status": run.status,
            "progress": run.progress, "step": run.step, "error": run.error,
            "problems": run.problems, "periods": run.periods,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


@router.get("/scores")
def list_scores(request: HttpRequest, period: str | None = None, type: str | None = None,
                subdistrict: str | None = None, offset: int = 0, limit: int = 100) -> dict[str, Any]:
    if not may_view(request.user):
        raise Forbidden()
    window = page(offset, limit, default=100, maximum=1000)
    run = _run(period)
    qs = selectors.scores(scope_for(request.user), run, compound_type=type,
                          subdistrict=subdistrict)
    return {"run": run.pk, "period": run.period.label, "count": qs.count(),
            "items": [_score(s) for s in window.of(qs)]}


@router.get("/compounds/{code}")
def compound(request: HttpRequest, code: str, period: str | None = None) -> dict[str, Any]:
    if not may_view(request.user):
        raise Forbidden()
    run = _run(period)
    return {"run": run.pk, "period": run.period.label,
            **_score(selectors.compound_score(scope_for(request.user), run, code), full=True)}


@router.post("/runs", response={202: dict})
def create_run(request: HttpRequest, body: RunIn) -> Status:
    if not may_compute(request.user):
        raise Forbidden("只有区级分析人员、值班员和管理员可以发起计算")
    run = request_run(get_or_create_period(body.period), user=request.user,
                      parameters=body.parameters)
    return Status(202, _run_out(run))


@router.get("/runs/{run_id}")
def get_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    if not may_compute(request.user):
        raise Forbidden()
    return _run_out(selectors.get_run(run_id))
