"""Neutralising a whole column touches only the cells that need it, and gives what
neutralising each cell gives."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.export.outputs import _neutralised, csv_text, neutralise

# Text built from the characters that matter to neutralise: formula starts, line breaks,
# digits and signs of plain numbers, and ordinary letters.
TEXT = st.text(alphabet="=+-@\t\r\n0123456789.eE 'ab", max_size=8)
CELLS = st.one_of(TEXT, st.none(), st.integers(-5, 5), st.floats(allow_nan=True),
                  st.booleans(), st.binary(max_size=3))


def _key(v):
    # None and NaN are one missing cell to the writer (both an empty field).
    return "<missing>" if v is None or isinstance(v, float) and math.isnan(v) else (type(v), v)


@settings(max_examples=300, deadline=None)
@given(st.lists(CELLS, max_size=20))
def test_neutralised_column_matches_each_cell_neutralised(cells):
    series = pd.Series(cells, dtype=object)
    expected = series.map(neutralise)
    assert [_key(v) for v in _neutralised(series)] == [_key(v) for v in expected]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(TEXT, st.none()), max_size=20))
def test_text_columns_write_the_same_csv(cells):
    frame = pd.DataFrame({"id": pd.Series(cells, dtype="str"), "n": range(len(cells))})
    reference = frame.assign(id=frame["id"].astype(object).map(neutralise))
    assert csv_text(frame) == csv_text(reference)
