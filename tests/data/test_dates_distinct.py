"""Dates are parsed once per distinct text, yet every decision still counts rows."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.data.roles import _parse_dates


def test_the_iso_share_counts_rows_not_distinct_texts():
    # 96% of rows are one ISO date: read as ISO, so the four day-first dates are not
    # dates (row by row, as a spreadsheet of mostly ISO dates is read). By distinct text,
    # ISO would be 1 in 5 and the file read day-first instead.
    series = pd.Series(["2012-01-31"] * 96 + ["04-09-2012", "05-09-2012", "06-09-2012",
                                              "07-09-2012"])
    out = _parse_dates(series)
    assert out[:96].eq(pd.Timestamp("2012-01-31")).all()
    assert out[96:].isna().all()


def test_day_first_when_most_rows_are_not_iso():
    series = pd.Series(["2012-01-31"] * 4 + ["04-09-2012"] * 96)
    out = _parse_dates(series)
    assert out[4:].eq(pd.Timestamp("2012-09-04")).all()
    assert out[:4].isna().all()


DATES = st.sampled_from(["04-09-2012", "31-12-2013", "12/25/2013", "2012-09-04", "soon", "",
                         " 01.02.2014 ", None, "2014-02-30"])


@settings(max_examples=200, deadline=None)
@given(st.lists(DATES, min_size=1, max_size=40), st.randoms())
def test_parsing_is_row_by_row_whatever_the_order(cells, rng):
    series = pd.Series(cells, dtype=object)
    order = list(range(len(cells)))
    rng.shuffle(order)
    shuffled = series.iloc[order].reset_index(drop=True)
    parsed = _parse_dates(series)
    expected = parsed.iloc[order].reset_index(drop=True)
    pd.testing.assert_series_equal(_parse_dates(shuffled), expected, check_names=False)
    assert parsed.index.equals(series.index)
