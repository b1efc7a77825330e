"""The CSV writer finds the cells to neutralise column-wise and writes what a writer going
cell by cell writes: every text cell neutralised, a row holding a carriage return quoted."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.export.outputs import _neutralised_cells, csv_text, neutralise

# Formula starts, line breaks, plain-number characters, non-ASCII letters and spaces, and a
# lone surrogate (text pyarrow cannot hold), beside ordinary letters.
TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n0123456789.eE 'ab,\"") +
                                        ["é", "\u00a0", "\u2028", "日", "\ud800", "\x00"]),
               max_size=8)
MISSING = st.sampled_from([None, np.nan, pd.NA])
CELLS = st.one_of(TEXT, MISSING, st.integers(-5, 5), st.floats(allow_nan=False),
                  st.booleans())


def _cell_by_cell(frame: pd.DataFrame) -> str:
    """The writer's definition, one row at a time through the csv module: text cells
    neutralised (``Series.map``, so a column is typed as pandas types the mapped cells),
    every cell as a Python object, a missing one empty."""
    out = io.StringIO()
    minimal = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    minimal.writerow([neutralise(str(c)) for c in frame.columns])
    text = [c for c in frame.columns
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)]
    safe = pd.DataFrame({c: _mapped(frame[c]) if c in text else frame[c]
                         for c in frame.columns})
    values = safe.astype(object).where(safe.notna(), "")
    for row in values.itertuples(index=False, name=None):
        cr = any(isinstance(v, str) and "\r" in v for c, v in zip(frame.columns, row,
                                                                   strict=True) if c in text)
        (quoted if cr else minimal).writerow(row)
    return out.getvalue()


def _mapped(column: pd.Series) -> pd.Series:
    try:
        return column.map(neutralise)
    except UnicodeEncodeError:  # pandas cannot type a lone surrogate as text: kept as is
        return pd.Series([neutralise(v) for v in column], dtype=object)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TEXT | MISSING, CELLS, st.floats(allow_nan=True)), max_size=15))
def test_csv_matches_the_cell_by_cell_writer(rows):
    frame = pd.DataFrame({
        "customer_id": pd.Series([r[0] for r in rows], dtype=object),
        "=mixed": pd.Series([r[1] for r in rows], dtype=object),
        "distance": pd.Series([r[2] for r in rows], dtype=float),
    })
    assert csv_text(frame) == _cell_by_cell(frame)


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT.filter(lambda t: "\ud800" not in t) | st.none(), max_size=15))
def test_text_dtype_columns_match_the_cell_by_cell_writer(cells):
    frame = pd.DataFrame({"persona": pd.Series(cells, dtype="str"), "n": range(len(cells))})
    assert csv_text(frame) == _cell_by_cell(frame)


@settings(max_examples=300, deadline=None)
@given(st.lists(CELLS, max_size=20))
def test_carriage_returns_are_found_in_every_cell_that_holds_one(cells):
    column = pd.Series(cells, dtype=object)
    _, cr = _neutralised_cells(column)
    assert cr.tolist() == [isinstance(v, str) and "\r" in v for v in cells]


def test_ids_with_leading_zeros_and_formula_starts_are_written_as_text():
    frame = pd.DataFrame({"customer_id": pd.Series(["007", "-1", "=1+1", "+4\r=x", "日本"],
                                                   dtype=object)})
    assert csv_text(frame) == ('customer_id\n007\n-1\n\'=1+1\n"\'+4\r\'=x"\n日本\n')


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TEXT.filter(lambda t: "\r" not in t) | MISSING,
                          st.floats(allow_nan=True, allow_infinity=True, width=64),
                          st.integers(-10**12, 10**12) | st.none(), st.booleans(),
                          st.sampled_from(["a", "b,c", 'say "hi"', "two\nlines"])),
                min_size=1, max_size=15), st.sampled_from(["float64", "float32", "Float64"]))
def test_each_column_type_is_written_as_the_csv_module_writes_it(rows, float_dtype):
    floats = pd.Series([r[1] for r in rows], dtype="float64")
    if float_dtype == "float32":  # what float32 holds, so that no cast overflows
        floats = floats.clip(-1e38, 1e38)
    frame = pd.DataFrame({
        "customer_id": pd.Series([r[0] for r in rows], dtype=object),
        "distance": floats.astype(float_dtype),
        "line": pd.Series([r[2] for r in rows], dtype="Int64"),
        "flag": pd.Series([r[3] for r in rows], dtype=bool),
        "persona": pd.Series([r[4] for r in rows], dtype="str"),
        "day": pd.Series(pd.Timestamp("2024-01-31"), index=range(len(rows))),
    })
    assert csv_text(frame) == _cell_by_cell(frame)


def test_a_single_column_of_empty_cells_is_quoted_as_the_csv_module_quotes_it():
    frame = pd.DataFrame({"customer_id": pd.Series(["", None, "a,b"], dtype=object)})
    assert csv_text(frame) == 'customer_id\n""\n""\n"a,b"\n'
