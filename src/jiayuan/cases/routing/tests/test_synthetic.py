from __future__ import annotations

import pytest

from jiayuan.cases.routing.synthetic import CATEGORY_NAMES, generate


def test_same_seed_gives_the_same_texts_and_another_seed_others():
    assert generate(200, seed=5) == generate(200, seed=5)
    assert generate(200, seed=5) != generate(200, seed=6)


def test_every_category_appears_and_parking_outnumbers_snow():
    rows = generate(5000, seed=1)
    counts = {c: sum(r.label == c for r in rows) for c in CATEGORY_NAMES}
    assert all(n > 0 for n in counts.values())
    assert counts["09009"] > 3 * counts["10001"]


def test_label_noise_relabels_about_that_share_and_leaves_texts_alone():
    clean = generate(4000, seed=3)
    noisy = generate(4000, seed=3, label_noise=0.1)
    assert [r.text for r in clean] == [r.text for r in noisy]
    changed = sum(a.label != b.label for a, b in zip(clean, noisy, strict=True)) / 4000
    assert 0.08 < changed < 0.12
    assert all(r.label in CATEGORY_NAMES for r in noisy)


def test_unknown_categories_are_refused():
    with pytest.raises(ValueError):
        generate(10, categories=["06010", "nope"])
