"""map_distinct gives what Series.map gives, whatever the column holds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.data._distinct import map_distinct
from segmentation.data.dataset import _as_text
from segmentation.data.roles import education_rank


def _same(left: pd.Series, right: pd.Series) -> bool:
    def key(v):
        return "<nan>" if isinstance(v, float) and math.isnan(v) else (type(v), v)

    return [key(v) for v in left.tolist()] == [key(v) for v in right.tolist()]


CELLS = st.one_of(st.none(), st.just(np.nan), st.booleans(), st.integers(-3, 3),
                  st.floats(-3, 3, allow_nan=False), st.sampled_from(
                      ["PhD", "phd", "Graduation", "2n Cycle", "Basic", "Master", " 1 ", "x"]))


def _text(value):
    """A function that tells 1, 1.0, True, None and NaN apart."""
    return value if value is None else f"{type(value).__name__}:{value}"


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, max_size=30), st.sampled_from([object, None]))
def test_map_distinct_matches_series_map(cells, dtype):
    series = pd.Series(cells, dtype=dtype)
    series.index = series.index[::-1]  # the index is carried, not rebuilt
    for func in (_text, education_rank, str):
        expected = series.map(func)
        got = map_distinct(series, func)
        assert got.index.equals(series.index)
        assert got.dtype == expected.dtype
        assert _same(got, expected), (cells, func)


def test_category_text_matches_the_cell_by_cell_definition():
    text = _as_text(pd.Series([1.0, 2.5, np.nan, 1.0, 3.0] * 3))
    assert text.dtype == object
    assert text[[0, 1, 3, 4]].tolist() == ["1", "2.5", "1", "3"] and pd.isna(text[2])


def test_each_distinct_value_is_seen_once():
    calls = []

    def record(value):
        calls.append(value)
        return value

    map_distinct(pd.Series(["a", "b"] * 1000), record)
    assert sorted(calls) == ["a", "b"]
