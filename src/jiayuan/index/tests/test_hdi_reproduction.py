"""The general engine reproduces UNDP's HDI 2022 (HDR 2023/24) for twelve countries.

The HDI is specified as data for the engine: four leaves with fixed goalposts (life
expectancy 20–85, expected schooling 0–18, mean schooling 0–15, GNI per capita 100–75,000 on
a log scale), the two schooling leaves averaged into one dimension, and the three dimensions
combined by an equal-weight geometric mean. Capping (Australia's 21.1 expected years,
Liechtenstein's income) comes from clipping Z to [0, 1].
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jiayuan.index.engine import Catalogue, ComputeOptions, Indicator, Panel, compute_index

# a copy of shared/data/hdi_hdr2023-24_year2022.csv (its SOURCE.md beside it)
DATA = Path(__file__).parent / "fixtures" / "hdi_hdr2023-24_year2022.csv"

HDI = Catalogue(
    (
        Indicator("le", "health", "health"),
        Indicator("eys", "education", "education"),
        Indicator("mys", "education", "education"),
        Indicator("gnipc", "income", "income", transform="log"),
    ),
    {"health": 1.0, "education": 1.0, "income": 1.0},
)
GOALPOSTS = {"le": (20.0, 85.0), "eys": (0.0, 18.0), "mys": (0.0, 15.0), "gnipc": (100.0, 75000.0)}


def _rows():
    with open(DATA, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def hdi():
    rows = _rows()
    records = [
        (r["iso3"], "country", "2022", code, float(r[col]))
        for r in rows
        for code, col in (("le", "le"), ("eys", "eys"), ("mys", "mys"), ("gnipc", "gnipc_2017ppp"))
    ]
    panel = Panel.from_records(records, HDI)
    options = ComputeOptions(
        aggregation="geometric",
        fixed_thresholds={("country", c): g for c, g in GOALPOSTS.items()},
        coverage_threshold=1.0,
    )
    return rows, compute_index(panel, HDI, options)


def test_all_twelve_countries_match_the_published_hdi_to_three_decimals(hdi):
    rows, result = hdi
    assert len(rows) == 12
    for r in rows:
        c = result.panel.compounds.index(r["iso3"])
        value = result.scores.total[c, 0] / 100
        assert f"{value:.3f}" == f"{float(r['hdi_published']):.3f}", r["country"]
        assert value == pytest.approx(float(r["hdi_recomputed_fullprec"]), abs=5e-7)


def test_dimension_indices_match_the_recomputed_components(hdi):
    rows, result = hdi
    for r in rows:
        c = result.panel.compounds.index(r["iso3"])
        health, education, income = result.scores.dimension_points[c, 0]
        assert health == pytest.approx(float(r["LEI"]), abs=5e-7)
        assert education == pytest.approx(float(r["EI"]), abs=5e-7)
        assert income == pytest.approx(float(r["II"]), abs=5e-7)


def test_schooling_above_its_goalpost_is_capped(hdi):
    _rows_, result = hdi
    aus = result.panel.compounds.index("AUS")
    lie = result.panel.compounds.index("LIE")
    assert result.z[aus, 0, 1] == 1.0  # 21.08 expected years, goalpost 18
    assert result.z[lie, 0, 3] == 1.0  # 146,673 $ against the 75,000 $ cap
