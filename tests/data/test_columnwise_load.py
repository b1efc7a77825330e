"""Loading a dataset column-wise gives what the per-cell definitions give: customer ids as
``_id_text`` makes them, numbers as parsing each present cell alone reads them, and the
column summary of the cells as read."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.data.customer_file import read_table, to_number
from segmentation.data.dataset import _id_text, _ids_text, load_dataset
from segmentation.data.roles import describe_columns

# Ids as exports write them: leading zeros, padding (ASCII and not), empty and blank
# cells, numbers from a spreadsheet (1.0 beside "1"), non-ASCII text and a lone surrogate.
ID_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("0179aZ -_.") + ["\t", "\x1c", "\x0b", "\u00a0",
                                                          "\u2003", "é", "日", "\ud800"]),
            max_size=6),
    st.sampled_from(["007", "1", " 1", "1 ", "", "   ", "NA", "n/a", "None"]))
MISSING = st.sampled_from([None, np.nan, pd.NA])
IDS = st.one_of(ID_TEXT, MISSING, st.integers(-3, 3), st.floats(-3, 3), st.sampled_from([1.0]))


def _key(v):
    return "<nan>" if isinstance(v, float) and math.isnan(v) else (type(v), v)


def _both(series: pd.Series):
    """``series.map(_id_text)`` and ``_ids_text(series)``; (None, None) when pandas cannot
    hold the ids as text (a lone surrogate), which both must then refuse alike."""
    try:
        expected = series.map(_id_text)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            _ids_text(series)
        return None, None
    return expected, _ids_text(series)


@settings(max_examples=300, deadline=None)
@given(st.lists(ID_TEXT | MISSING, max_size=25), st.booleans())
def test_text_ids_match_id_text_of_each_cell(cells, text_dtype):
    series = pd.Series(cells, dtype=object)
    if text_dtype:
        series = series.where(series.map(lambda v: isinstance(v, str) and "\ud800" not in v))
        series = series.astype("str")
    expected, got = _both(series)
    if expected is None:
        return
    assert got.dtype == expected.dtype
    assert got.index.equals(expected.index)
    assert [_key(v) for v in got] == [_key(v) for v in expected]


@settings(max_examples=200, deadline=None)
@given(st.lists(IDS, max_size=25))
def test_mixed_ids_match_id_text_of_each_cell(cells):
    series = pd.Series(cells, dtype=object)
    expected, got = _both(series)
    if expected is None:
        return
    assert got.dtype == expected.dtype
    assert [_key(v) for v in got] == [_key(v) for v in expected]


NUMBER_TEXT = st.one_of(
    st.sampled_from(["12", "1,234.50", "$58,138.00", "12,5 €", "-3", "1e3", "n/a", "", " ",
                     "NaN", "inf", "٣", "007", "£1", "x", "1.2.3"]),
    st.text(alphabet="0123456789.,-$€ e", max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.lists(NUMBER_TEXT | MISSING | st.integers(-5, 5), min_size=1, max_size=40),
       st.sampled_from([".", ","]))
def test_numbers_parsed_once_match_the_present_cells_parsed_alone(cells, decimal):
    frame = pd.DataFrame({"amount": pd.Series(cells, dtype=object)})
    parsed = {}
    meanings = describe_columns(frame, decimal, parsed=parsed)
    assert meanings == describe_columns(frame, decimal)
    if "amount" in parsed:
        present = frame["amount"].dropna()
        expected = to_number(present, decimal)
        got = parsed["amount"][present.index]
        assert np.array_equal(got.to_numpy(), expected.to_numpy(), equal_nan=True)


def test_currency_signs_are_counted_per_row_not_per_distinct_value():
    # 6 of 10 rows carry a sign (one distinct text): a share of 60% is money by the
    # signs, which counting each distinct value once (1 of 5) would miss.
    values = ["$5"] * 6 + ["10.5", "20.25", "0", "31.7"]
    meaning = describe_columns(pd.DataFrame({"q": values * 3}))["q"]
    assert meaning.reason == "amounts written with a currency sign"


def test_the_column_summary_shows_the_first_values_as_read_and_counts_the_missing():
    raw = read_table(b"id,spend,tier\n1,,a\n2,10,\n3,,b\n4,30,a\n5,40,\n")
    summary = load_dataset(raw).column_summary
    assert summary["spend"] == (("10", "30", "40"), 2)
    assert summary["tier"] == (("a", "b", "a"), 2)
    assert summary["id"] == (("1", "2", "3"), 0)
