"""Period labels: the previous period ends exactly where the period starts (property)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jiayuan.index.services.periods import parse_label, previous_label

labels = st.one_of(
    st.integers(1901, 2099).map(str),
    st.tuples(st.integers(1901, 2099), st.integers(1, 4)).map(lambda t: f"{t[0]}Q{t[1]}"),
)


@given(labels)
def test_previous_period_is_contiguous(label: str) -> None:
    kind, start, end = parse_label(label)
    pkind, pstart, pend = parse_label(previous_label(label))
    assert pkind == kind and pend == start and pstart < start < end
    assert previous_label(label) < label  # labels sort as periods do
