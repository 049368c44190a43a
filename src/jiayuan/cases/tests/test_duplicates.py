"""Repeat reports: suggestions ranked with reasons; merging keeps every reporter following."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.accounts.scope import AreaScope, scope_for
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.selectors import followers_of, survivor_of
from jiayuan.cases.services import act, open_case
from jiayuan.cases.services.duplicates import (
    distance_m,
    find_duplicates,
    merge_cases,
    text_similarity,
)
from jiayuan.core.errors import InvalidTransition, OutOfScope

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)
LNG, LAT = 121.425, 31.15
# At latitude 31.15°, 0.001° of longitude is about 95 m.
STEP_M = distance_m(LNG, LAT, LNG + 0.001, LAT)


def report(text, *, dlng=0.0, days=0.0, category="06028", name="", phone="", **kw):
    case, _ = open_case(channel="hotline_12345", description=text, category_code=category,
                        lng=LNG + dlng, lat=LAT, reported_at=T0 + dt.timedelta(days=days),
                        reporter_name=name, reporter_phone=phone, **kw)
    return case


@pytest.fixture
def staff(tiny, make_user):
    return make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])


def test_distance_is_about_95_metres_per_thousandth_of_a_degree_here():
    assert 90 < STEP_M < 100


@given(st.text(max_size=40), st.text(max_size=40))
def test_text_similarity_is_symmetric_and_bounded(a, b):
    s = text_similarity(a, b)
    assert 0.0 <= s <= 1.0 and s == text_similarity(b, a)


def test_text_similarity_ignores_punctuation_and_width():
    assert text_similarity("楼下酒吧很吵！", "楼下酒吧很吵") == 1.0
    assert text_similarity("ＫＴＶ太吵", "ktv太吵") == 1.0
    assert text_similarity("路灯不亮", "井盖丢了") == 0.0


def test_a_nearby_similar_report_of_the_same_category_ranks_first_with_reasons(tiny):
    # Given three earlier reports near the new one
    same = report("楼下酒吧每天晚上很吵，吵得睡不着", dlng=0.001, days=-2)
    related = report("楼道里堆满了杂物", dlng=0.002, days=-3, category="06036")
    report("路灯坏了", dlng=0.001, days=-1, category="01037")  # another major class
    new = report("楼下酒吧晚上很吵，睡不着")
    # When staff look for duplicates
    found = find_duplicates(new, scope=AreaScope.all())
    # Then the same-category, similar-text report ranks first, the same major class next,
    # and the other class is not suggested
    assert [s.case.pk for s in found] == [same.pk, related.pk]
    top = found[0]
    assert top.score > found[1].score
    assert any(r.startswith("相距约") for r in top.reasons)
    assert "同一类别（噪声扰民）" in top.reasons
    assert any(r.startswith("描述相似") for r in top.reasons)
    assert "同一大类（市容环境类）" in found[1].reasons


def test_residents_see_250_metres_and_staff_one_kilometre(tiny):
    far = report("楼下酒吧很吵", dlng=0.006, days=-1)  # about 570 m away
    new = report("楼下酒吧很吵")
    assert [s.case for s in find_duplicates(new, scope=AreaScope.all())] == [far]
    assert find_duplicates(new, scope=AreaScope.all(), for_staff=False) == []


def test_old_merged_and_long_closed_reports_are_not_suggested(tiny, staff, settings):
    settings.JIAYUAN = {**settings.JIAYUAN, "DUPLICATES": {"window_days": 30}}
    report("楼下酒吧很吵", days=-40)  # outside the window
    survivor = report("楼下酒吧很吵", days=-5)
    merged = report("楼下酒吧很吵", days=-4)
    merge_cases(user=staff, duplicate=merged, survivor=survivor, note="同一酒吧")
    new = report("楼下酒吧很吵")
    assert [s.case for s in find_duplicates(new, scope=AreaScope.all())] == [survivor]


def test_suggestions_stay_within_the_viewers_area(tiny, make_user):
    report("楼下酒吧很吵", days=-1)
    new = report("楼下酒吧很吵")
    other = make_user("other", "neighbourhood_staff", tiny.neighbourhoods["S2N1"])
    assert find_duplicates(new, scope=scope_for(other)) == []


def test_cases_without_position_match_within_the_same_compound(tiny):
    e = tiny.entrances["S1N1C1"]
    a, _ = open_case(channel="home_code", description="楼道堆物", category_code="06036",
                     entrance=e, reported_at=T0 - dt.timedelta(days=1))
    Case.objects.filter(pk=a.pk).update(lng=None, lat=None)
    b, _ = open_case(channel="home_code", description="楼道堆物严重", category_code="06036",
                     entrance=e, reported_at=T0)
    Case.objects.filter(pk=b.pk).update(lng=None, lat=None)
    b.refresh_from_db()
    found = find_duplicates(b, scope=AreaScope.all())
    assert [s.case.pk for s in found] == [a.pk] and "同一小区" in found[0].reasons


def test_merging_records_the_follower_and_every_reporter_follows_the_survivor(tiny, staff):
    survivor = report("楼下酒吧很吵", days=-3, name="张三", phone="13800000001")
    dup1 = report("酒吧太吵了", days=-2, name="李四", phone="13800000002")
    dup2 = report("晚上酒吧吵", days=-1, name="王五", phone="13800000003")
    merge_cases(user=staff, duplicate=dup2, survivor=dup1, note="同一酒吧")
    merged = merge_cases(user=staff, duplicate=dup1, survivor=survivor, note="同一酒吧")
    assert merged.state == "merged" and merged.merged_into_id == survivor.pk
    event = CaseEvent.objects.get(case=dup1, action="merge")
    assert event.payload["into_case"] == str(survivor.pk)
    assert event.payload["into_number"] == survivor.number
    assert event.payload["follower"]["case"] == dup1.number
    cases, followers = followers_of(survivor)
    assert [c.pk for c in cases] == [dup1.pk, dup2.pk]
    assert [f.reporter_name for f in followers] == ["张三", "李四", "王五"]
    dup2.refresh_from_db()
    assert survivor_of(dup2) == survivor


def test_merge_is_refused_out_of_area_and_after_dispatch_changing_nothing(tiny, staff, make_user):
    survivor = report("楼下酒吧很吵", days=-3)
    dup = report("酒吧太吵了", days=-2)
    other = make_user("other", "neighbourhood_staff", tiny.neighbourhoods["S2N1"])
    with pytest.raises(OutOfScope):
        merge_cases(user=other, duplicate=dup, survivor=survivor)
    act(case=dup, user=staff, kind="accept")
    act(case=dup, user=staff, kind="dispatch", lead_unit=f"station:JS{tiny.neighbourhoods['S1N1'].code}")
    with pytest.raises(InvalidTransition):
        merge_cases(user=staff, duplicate=dup, survivor=survivor)
    dup.refresh_from_db()
    assert dup.state == "dispatched" and dup.merged_into_id is None
    assert not CaseEvent.objects.filter(action="merge").exists()


def test_the_best_few_are_the_head_of_the_full_ranking(tiny):
    """Ranking stops taking text similarity once no candidate can still enter the best few;
    that shortcut must give exactly the head of the ranking that scores every candidate."""
    import random

    rng = random.Random(7)
    phrases = ["楼下酒吧很吵", "路灯不亮", "井盖松动", "楼道堆物", "垃圾满溢", "晚上施工噪声",
               "睡不着", "每天晚上", "小区门口", "楼下"]
    categories = ["06028", "06036", "01037"]
    for i in range(120):
        text = "".join(rng.sample(phrases, rng.randint(1, 4)))
        report(text, dlng=rng.uniform(-0.012, 0.012), days=-rng.uniform(0, 29),
               category=rng.choice(categories), idempotency_key=f"prop-{i}")
    for j in range(8):
        new = report("".join(rng.sample(phrases, 3)), dlng=rng.uniform(-0.005, 0.005),
                     category=rng.choice(categories), idempotency_key=f"new-{j}")
        everything = find_duplicates(new, scope=AreaScope.all(), limit=10_000)
        assert len(everything) > 3  # the shortcut has something to skip
        for limit in (1, 3, 10):
            head = find_duplicates(new, scope=AreaScope.all(), limit=limit)
            assert [(s.case.pk, s.score, s.reasons) for s in head] == \
                [(s.case.pk, s.score, s.reasons) for s in everything[:limit]]


def test_a_report_across_a_square_border_is_still_found(tiny):
    """The search reads the 0.01° squares around the new case; one 100 m away on the other
    side of a square's edge is still a candidate, and every opened case has its square."""
    from jiayuan.cases.models import GEO_CELL_DEG, geo_cell_of

    edge = (LNG // GEO_CELL_DEG + 1) * GEO_CELL_DEG  # the next square boundary east
    west = report("楼下酒吧很吵", dlng=edge - LNG - 0.0005, days=-1)
    east = report("楼下酒吧很吵到半夜", dlng=edge - LNG + 0.0005)
    assert west.geo_cell != east.geo_cell
    assert west.geo_cell == geo_cell_of(west.lng, west.lat)
    assert Case.objects.get(pk=east.pk).geo_cell == geo_cell_of(east.lng, east.lat)
    assert [s.case.pk for s in find_duplicates(east, scope=AreaScope.all())] == [west.pk]
    assert Case.objects.filter(lat__isnull=False, geo_cell__isnull=True).count() == 0


def test_intake_reuses_its_compiled_candidate_query_and_finds_the_same(tiny):
    """Intake runs the candidate query compiled once per shape with each case's values put in
    (the ORM costs more than the query); it must compile (a backend wrapping a value would
    otherwise send every case back to the ORM) and rank exactly as the ORM path does."""
    from jiayuan.cases.services import duplicates

    earlier = report("楼下酒吧很吵", dlng=0.001, days=-1)
    new = report("楼下酒吧晚上很吵")
    duplicates._compiled.clear()
    at_intake = duplicates.suggest_at_intake(new)
    assert duplicates._compiled and all(v is not None for v in duplicates._compiled.values())
    assert [s["number"] for s in at_intake] == [earlier.number]
    assert at_intake[0]["reasons"] == find_duplicates(new, scope=AreaScope.all())[0].reasons


# --- the vectorised scoring against its definition, one row at a time --------------------------

def _one_at_a_time(rows, *, lng, lat, compound, category, members, epoch, text, radius,
                   window_days, min_score, limit):
    """The ranking's definition, written plainly: score every row that counts, keep those
    from min_score, order by rounded score, then time, then id."""
    from jiayuan.cases.services.duplicates import SAME_COMPOUND_CLOSENESS, WEIGHTS

    kept = []
    for row in rows:
        pk, their_lng, their_lat, their_compound, their_category, their_epoch = row[:6]
        if lng is not None and lat is not None and their_lng is not None \
                and their_lat is not None:
            dist = distance_m(lng, lat, their_lng, their_lat)
            if dist > radius:
                continue
            closeness = 1.0 - dist / radius
        elif compound and compound == their_compound:
            dist, closeness = None, SAME_COMPOUND_CLOSENESS
        else:
            continue
        cat = 1.0 if category and category == their_category else (
            0.5 if their_category in members else 0.0)
        days = abs(epoch - their_epoch) / 86400
        recency = max(0.0, 1.0 - days / window_days)
        sim = text_similarity(text, row[7])
        score = (WEIGHTS["text"] * sim + WEIGHTS["closeness"] * closeness
                 + WEIGHTS["category"] * cat + WEIGHTS["recency"] * recency)
        if score >= min_score:
            kept.append((round(score, 3), their_epoch, pk, sim, dist, days))
    kept.sort(key=lambda t: (-t[0], t[1], t[2]))
    return kept[:limit]


_WORDS = ["楼道堆物", "路灯不亮", "井盖缺失", "噪音扰民", "垃圾满溢", "占道经营", "3号楼", "门口"]
_POINT = st.one_of(st.none(), st.tuples(
    st.floats(LNG - 0.012, LNG + 0.012), st.floats(LAT - 0.012, LAT + 0.012)))
_ROW = st.tuples(_POINT, st.sampled_from([None, 1, 2, 3]), st.sampled_from([None, 1, 2, 3, 4]),
                 st.floats(-40, 40), st.lists(st.sampled_from(_WORDS), max_size=4))


@given(rows=st.lists(_ROW, max_size=40), me=_ROW, members=st.sets(st.sampled_from([1, 2, 3, 4])),
       radius=st.sampled_from([250.0, 1000.0]), min_score=st.sampled_from([0.0, 0.35, 0.6]),
       limit=st.integers(1, 5), chunk=st.sampled_from([1, 3, 48]))
def test_best_rows_is_the_one_at_a_time_ranking(rows, me, members, radius, min_score, limit,
                                                chunk):
    from unittest import mock

    from jiayuan.cases.services import duplicates

    t0 = 1_790_000_000.0
    table = [(pk, *(point or (None, None)), compound, category, t0 + days * 86400, "accepted",
              "".join(words), f"N{pk}")
             for pk, (point, compound, category, days, words) in enumerate(rows, start=1)]
    point, compound, category, _, words = me
    kw = {"lng": point[0] if point else None, "lat": point[1] if point else None,
          "compound": compound, "category": category, "members": members, "epoch": t0,
          "text": "".join(words), "radius": radius, "window_days": 30.0,
          "min_score": min_score, "limit": limit}
    with mock.patch.object(duplicates, "_CHUNK", chunk):  # texts compared a chunk at a time
        got = duplicates.best_rows(table, **kw)
    want = _one_at_a_time(table, **kw)
    assert [(s, pk) for s, _, pk, *_ in got] == [(s, pk) for s, _, pk, *_ in want]
    for (_, _, _, sim, _, dist, days), (_, _, _, sim2, dist2, days2) in zip(got, want,
                                                                           strict=True):
        assert sim == sim2 and days == pytest.approx(days2)
        assert (dist is None) == (dist2 is None)
        assert dist is None or dist == pytest.approx(dist2, abs=1e-6)
