from __future__ import annotations

from pathlib import Path

import pytest

from jiayuan.index import io
from jiayuan.index.engine import Catalogue, Panel

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def mini_catalogue() -> Catalogue:
    cat, problems = io.read_catalogue_file(FIXTURES / "mini_catalogue.csv")
    assert not problems and cat is not None
    return cat


@pytest.fixture
def hand_panel(mini_catalogue: Catalogue) -> Panel:
    records, problems = io.read_values(FIXTURES / "hand_values.csv", mini_catalogue)
    assert not problems
    return Panel.from_records(records, mini_catalogue)


@pytest.fixture
def hand_fixed(mini_catalogue: Catalogue) -> dict[tuple[str, str], tuple[float, float]]:
    fixed, problems = io.read_thresholds(FIXTURES / "hand_thresholds.csv", mini_catalogue)
    assert not problems
    return fixed
