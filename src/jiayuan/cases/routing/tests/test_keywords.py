from __future__ import annotations

import pytest

from jiayuan.cases.routing.keywords import load_keywords, parse_keywords_csv
from jiayuan.core.errors import ImportRejected

TABLE = "# comment\ncode,name,keywords\nA,甲,噪音\nB,乙,施工噪音|工地\nC,丙,垃圾\nD,丁,废物\n"


def test_longer_keyword_evidence_outranks_shorter():
    table = parse_keywords_csv(TABLE)
    hit = table.match("工地夜间施工噪音很大")
    assert hit is not None and hit.code == "B"
    assert set(hit.matched) == {"施工噪音", "工地"}


def test_tie_between_categories_decides_nothing():
    table = parse_keywords_csv(TABLE)
    assert table.match("垃圾和废物") is None
    assert table.match("没有关键词") is None


def test_matching_ignores_full_width_and_case():
    table = parse_keywords_csv("code,name,keywords\nK,KTV,ktv\n")
    hit = table.match("ＫＴＶ太吵")
    assert hit is not None and hit.code == "K"


def test_table_with_bad_rows_is_refused_with_row_numbers():
    with pytest.raises(ImportRejected) as e:
        parse_keywords_csv("code,name,keywords\n,无代码,x\nB,乙,\n")
    assert [p["row"] for p in e.value.problems] == [2, 3]


def test_duplicate_codes_are_refused():
    with pytest.raises(ImportRejected):
        parse_keywords_csv("code,name,keywords\nA,甲,x\nA,乙,y\n")


def test_default_table_covers_every_synthetic_category():
    from jiayuan.cases.routing.synthetic import CATEGORY_NAMES

    assert set(load_keywords().names) == set(CATEGORY_NAMES)
