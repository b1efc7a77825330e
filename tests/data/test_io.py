"""Reading customer tables: formats, delimiters, encodings, missing markers and number text."""

from __future__ import annotations

import csv
import datetime
import decimal as decimals
import io
import math
import re
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.data import customer_file as seg_io
from segmentation.data.customer_file import MISSING_MARKERS, numeric_share, read_table, to_number
from segmentation.errors import SegmentationError
from tests.helpers import assert_actionable

SMALL = settings(max_examples=50, deadline=None)




def lines(*rows: str, sep: str = "\n") -> bytes:
    return (sep.join(rows) + sep).encode("utf-8")


# --- delimited text ---------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_is_sniffed(delimiter):
    data = lines(
        delimiter.join(["customer_id", "income", "city"]),
        delimiter.join(["007", "51000", "Leeds"]),
        delimiter.join(["008", "62000", "York"]),
        delimiter.join(["009", "", "Bath"]),
    )
    raw = read_table(data)
    assert raw.file_format == "text"
    assert raw.delimiter == delimiter
    assert list(raw.frame.columns) == ["customer_id", "income", "city"]
    assert raw.frame["customer_id"].tolist() == ["007", "008", "009"]
    assert raw.frame["income"].tolist()[:2] == ["51000", "62000"]
    assert pd.isna(raw.frame["income"].iloc[2])
    assert raw.frame["city"].tolist() == ["Leeds", "York", "Bath"]
    assert raw.rows_read == 3
    assert raw.malformed_lines == ()


def test_quoted_delimiters_inside_a_field_do_not_split_it():
    raw = read_table(b'id,income,address\n1,"$58,138.00","1 High St, Leeds"\n2,"$1,200.50",York\n')
    assert raw.delimiter == ","
    assert raw.frame["income"].tolist() == ["$58,138.00", "$1,200.50"]
    assert raw.frame["address"].tolist() == ["1 High St, Leeds", "York"]


def test_single_column_file_reads_as_one_column():
    raw = read_table(b"income\n100\n200\n")
    assert list(raw.frame.columns) == ["income"]
    assert raw.frame["income"].tolist() == ["100", "200"]


def test_decimal_comma_is_detected_with_semicolons():
    raw = read_table(lines("id;income;spend", "1;1.234,50;12,5", "2;2.000,00;3,25", "3;950,75;0,5"))
    assert raw.delimiter == ";"
    assert raw.decimal == ","
    assert to_number(raw.frame["income"], raw.decimal).tolist() == [1234.5, 2000.0, 950.75]
    assert to_number(raw.frame["spend"], raw.decimal).tolist() == [12.5, 3.25, 0.5]


def test_decimal_point_is_the_default():
    raw = read_table(lines("id,income,spend", '1,"1,234.50",12.5', '2,"2,000.00",3.25'))
    assert raw.decimal == "."
    assert to_number(raw.frame["income"], raw.decimal).tolist() == [1234.5, 2000.0]


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("latin-1", b"", "latin-1"),
    ],
)
def test_encodings(encoding, prefix, expected):
    text = "ID\tName\tIncome\n1\tJosé Müller\t58138\n2\tFrançoise\t46344\n"
    raw = read_table(prefix + text.encode(encoding))
    assert raw.encoding == expected
    # the byte order mark must not stick to the first column name
    assert list(raw.frame.columns) == ["ID", "Name", "Income"]
    assert raw.frame["Name"].tolist() == ["José Müller", "Françoise"]


def test_crlf_reads_like_lf():
    rows = ("ID\tIncome\tEducation", "1\t58138\tPhD", "2\t\tMaster", "3\t71613\tBasic")
    crlf = read_table(lines(*rows, sep="\r\n"))
    lf = read_table(lines(*rows))
    pd.testing.assert_frame_equal(crlf.frame, lf.frame)
    assert crlf.frame["Education"].tolist() == ["PhD", "Master", "Basic"]  # no trailing \r
    assert crlf.rows_read == 3


def test_cells_and_column_names_are_stripped():
    raw = read_table(b" id , income \n 007 ,  12 \n")
    assert list(raw.frame.columns) == ["id", "income"]
    assert raw.frame.iloc[0].tolist() == ["007", "12"]


@pytest.mark.parametrize(
    "marker", ["", "   ", "NA", "na", "N/A", "n/a", "null", "NULL", "?", "-", "nan", " N/A "]
)
def test_missing_markers_become_missing(marker):
    raw = read_table(f"id,income,city\n1,{marker},Leeds\n2,100,York\n".encode())
    assert pd.isna(raw.frame.loc[0, "income"])
    assert raw.frame.loc[1, "income"] == "100"


@pytest.mark.parametrize("value", ["Nadia", "0", "-5", "None of these", "N/A/B"])
def test_values_that_only_resemble_markers_are_kept(value):
    raw = read_table(f"id,note\n1,{value}\n2,x\n".encode())
    assert raw.frame.loc[0, "note"] == value


def test_malformed_lines_are_skipped_with_file_line_numbers():
    # line 1 header, 3 blank, 5 too long, 7 too short: five data lines
    data = b"id,income\n1,10\n\n2,20\n3,30,extra\n4,40\n5\n"
    raw = read_table(data)
    assert raw.malformed_lines == (5, 7)
    assert raw.rows_read == 5  # the blank line is not counted, the malformed ones are
    assert raw.frame["id"].tolist() == ["1", "2", "4"]


def test_malformed_line_numbers_with_crlf():
    raw = read_table(b"id,income\r\n1,10\r\n2,20,x\r\n3,30\r\n")
    assert raw.malformed_lines == (3,)
    assert raw.frame["id"].tolist() == ["1", "3"]


@pytest.mark.parametrize(
    ("note", "text"),
    [(b"caf\x85e", "caf\x85e"), (b"page\x0cbreak", "page\x0cbreak"),
     ("a\u2028b".encode(), "a\u2028b")],
    ids=["nel-latin1", "form-feed", "u2028"],
)
def test_line_separator_characters_inside_a_field_do_not_break_the_line(note, text):
    # only \n, \r\n and \r end a line of a delimited file
    raw = read_table(b"id,income,note\n1,10," + note + b"\n2,20,ok\n3,30\n")
    assert raw.rows_read == 3
    assert raw.malformed_lines == (4,)
    assert raw.frame["note"].tolist() == [text, "ok"]


def test_quoted_field_may_hold_a_line_break():
    data = b'id,income,note\n1,10,"first line\nsecond line"\n2,20,ok\n3,30\n'
    raw = read_table(data)
    assert raw.frame["id"].tolist() == ["1", "2"]
    assert raw.frame["note"].tolist() == ["first line\nsecond line", "ok"]
    assert raw.rows_read == 3
    assert raw.malformed_lines == (5,)  # physical line numbers, after the two-line record


@pytest.mark.parametrize(
    ("data", "columns"),
    [
        (b"id,income,,\n1,2,,\n3,4,,\n", ["id", "income", "column_3", "column_4"]),
        (b"id,income,income\n1,2,5\n3,4,6\n", ["id", "income", "income.1"]),
    ],
    ids=["trailing-delimiters", "repeated-name"],
)
def test_repeated_or_empty_header_names_are_made_unique(data, columns):
    raw = read_table(data)
    assert list(raw.frame.columns) == columns
    assert raw.frame["id"].tolist() == ["1", "3"]
    if columns[2] == "column_3":
        assert raw.frame[columns[2]].isna().all()
    else:
        assert raw.frame[columns[2]].tolist() == ["5", "6"]


def test_very_long_cell_is_not_a_raw_error():
    data = b"id,income,note\n1,10," + b"x" * 200_000 + b"\n2,20,short\n"
    try:
        raw = read_table(data)
    except SegmentationError as exc:
        assert_actionable(str(exc))
        return
    assert raw.frame["id"].tolist() == ["1", "2"]


def test_a_row_of_empty_fields_counts_the_same_whatever_the_delimiter():
    frame = pd.DataFrame({"id": ["1", "", "3"], "income": ["10", "", "30"]})
    comma = read_table(frame.to_csv(index=False).encode())
    tab = read_table(frame.to_csv(sep="\t", index=False).encode())
    assert comma.rows_read == 3
    assert tab.rows_read == comma.rows_read
    pd.testing.assert_frame_equal(tab.frame, comma.frame)


# --- the Kaggle-style export ------------------------------------------------------------------


def _oracle(path) -> pd.DataFrame:
    """The same file read independently by pandas, as stripped text with blanks missing."""
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).astype(object)
    frame = frame.map(lambda v: v.strip()).astype(object)
    return frame.where(frame != "", np.nan)


def test_bundled_sample_loads_with_no_options(sample_path):
    raw = read_table(sample_path)
    assert raw.name == sample_path.name
    assert raw.delimiter == "\t"
    assert raw.frame.shape == (2240, 29)
    assert raw.rows_read == 2240
    pd.testing.assert_frame_equal(raw.frame, _oracle(sample_path))


def test_bytes_and_path_give_the_same_table(sample_path, sample_bytes):
    from_bytes = read_table(sample_bytes[:3000].rsplit(b"\r\n", 1)[0] + b"\r\n")
    from_path = read_table(sample_path)
    n = len(from_bytes.frame)
    assert n > 5
    pd.testing.assert_frame_equal(from_bytes.frame, from_path.frame.head(n))
    assert from_bytes.name == "upload"


@pytest.mark.realdata
def test_real_kaggle_export_loads_with_no_options(real_path):
    raw = read_table(real_path)
    assert raw.delimiter == "\t"
    assert raw.decimal == "."
    assert raw.frame.shape == (2240, 29)
    assert raw.rows_read == 2240
    assert raw.malformed_lines == ()
    assert raw.frame["Income"].isna().sum() == 24
    assert set(raw.frame["Z_CostContact"]) == {"3"}
    assert set(raw.frame["Z_Revenue"]) == {"11"}
    pd.testing.assert_frame_equal(raw.frame, _oracle(real_path))


# --- Excel and Parquet ------------------------------------------------------------------------


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": ["007", "0042", "5524"],
            "Income": [58138.0, np.nan, 71613.0],
            "Education": ["PhD", "Master", None],
            "MntWines": [635, 11, 426],
        }
    )


def _xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=False)
    return buffer.getvalue()


def test_excel_xlsx_is_read():
    raw = read_table(_xlsx_bytes(_customers()))
    assert raw.file_format == "excel"
    assert raw.rows_read == 3
    assert list(raw.frame.columns) == ["ID", "Income", "Education", "MntWines"]
    assert raw.frame["ID"].tolist() == ["007", "0042", "5524"]  # text ids keep their zeros
    income = to_number(raw.frame["Income"])
    assert income.iloc[0] == 58138.0 and np.isnan(income.iloc[1]) and income.iloc[2] == 71613.0
    assert to_number(raw.frame["MntWines"]).tolist() == [635.0, 11.0, 426.0]
    assert raw.frame["Education"].iloc[0] == "PhD"
    assert pd.isna(raw.frame["Education"].iloc[2])


def test_parquet_is_read():
    raw = read_table(_parquet_bytes(_customers()))
    assert raw.file_format == "parquet"
    assert raw.rows_read == 3
    assert raw.frame["ID"].tolist() == ["007", "0042", "5524"]
    assert to_number(raw.frame["MntWines"]).tolist() == [635.0, 11.0, 426.0]
    assert pd.isna(raw.frame["Income"].iloc[1])
    assert pd.isna(raw.frame["Education"].iloc[2])


@pytest.mark.parametrize(("maker", "kind"), [(_xlsx_bytes, "excel"), (_parquet_bytes, "parquet")])
def test_format_comes_from_the_content_not_the_file_name(tmp_path, maker, kind):
    path = tmp_path / "customers.csv"
    path.write_bytes(maker(_customers()))
    raw = read_table(path)
    assert raw.file_format == kind
    assert raw.name == "customers.csv"
    assert raw.frame["ID"].tolist() == ["007", "0042", "5524"]


@pytest.mark.parametrize(
    ("data", "word"),
    [(b"PK\x03\x04" + b"not really a zip archive" * 4, "Excel"),
     (b"PAR1" + b"not really parquet" * 4, "Parquet")],
)
def test_damaged_excel_or_parquet_is_a_clear_error(data, word):
    with pytest.raises(SegmentationError) as info:
        read_table(data, name="export.bin")
    assert word in str(info.value)
    assert "export.bin" in str(info.value)
    assert_actionable(str(info.value))


# --- files that are not customer tables -------------------------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"   \n\t\r\n  \n", "empty"),
        (b"id,income,spend\n", "no customer rows"),
        (b"id,income,spend\r\n\r\n   \r\n", "no customer rows"),
        (PNG_HEADER + bytes(range(256)), "not a table"),
        (np.random.default_rng(3).bytes(400) + b"\x00\x00", "not a table"),
        (b"a,b,c\n1,2\n3,4,5,6\n", "wrong number of fields"),
    ],
    ids=["empty", "whitespace", "header-only", "header-only-crlf", "png", "random-bytes",
         "all-malformed"],
)
def test_unusable_files_raise_one_clear_sentence(data, words):
    with pytest.raises(SegmentationError) as info:
        read_table(data, name="customers.csv")
    message = str(info.value)
    assert words in message
    assert "customers.csv" in message
    assert_actionable(message)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(SegmentationError) as info:
        read_table(tmp_path / "nowhere.csv")
    assert "nowhere.csv" in str(info.value)
    assert_actionable(str(info.value))


# --- to_number and numeric_share --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("$58,138.00", ".", 58138.0),
        ("58138", ".", 58138.0),
        ("-3.5", ".", -3.5),
        ("+12", ".", 12.0),
        ("£1,000", ".", 1000.0),
        ("USD 1,234,567.25", ".", 1234567.25),
        ("-$5.00", ".", -5.0),
        ("1,234", ".", 1234.0),
        ("1.234,50 €", ",", 1234.5),
        ("1 234,50 €", ",", 1234.5),
        ("1\u00a0234,50", ",", 1234.5),
        ("12,5", ",", 12.5),
        ("1.234", ",", 1234.0),
        ("-1.234.567,8", ",", -1234567.8),
        ("EUR 7", ",", 7.0),
    ],
)
def test_to_number_parses_currency_and_thousands(text, decimal, expected):
    assert to_number(pd.Series([text]), decimal=decimal).tolist() == [expected]


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("abc", "."), ("12abc", "."), ("1,23,4", "."), ("1.2.3", "."), ("PhD", ","),
     ("04-09-2012", "."), ("", "."), ("1,2,3", ",")],
)
def test_to_number_turns_non_numbers_into_missing(text, decimal):
    assert np.isnan(to_number(pd.Series([text]), decimal=decimal).iloc[0])


def test_to_number_keeps_missing_and_numeric_values():
    out = to_number(pd.Series(["12", None, np.nan, 7, 2.5, True], dtype=object))
    assert out.dtype == float
    assert out.iloc[0] == 12.0 and out.iloc[3] == 7.0 and out.iloc[4] == 2.5 and out.iloc[5] == 1.0
    assert out.iloc[1:3].isna().all()


def test_to_number_on_numeric_and_boolean_series():
    assert to_number(pd.Series([1, 2, 3])).tolist() == [1.0, 2.0, 3.0]
    assert to_number(pd.Series([True, False])).tolist() == [1.0, 0.0]
    assert to_number(pd.Series([1, 2, 3])).dtype == float


def test_to_number_does_not_change_its_input():
    series = pd.Series(["$1,000.00", "n/a", "7"], dtype=object)
    before = series.copy()
    to_number(series)
    pd.testing.assert_series_equal(series, before)


def test_to_number_accepts_leading_point_and_exponents():
    assert to_number(pd.Series([".5", "1e-05", "2.5E3"])).tolist() == [0.5, 1e-05, 2500.0]


def test_numeric_share():
    assert numeric_share(pd.Series(["1", "2", "x", None], dtype=object)) == pytest.approx(2 / 3)
    assert numeric_share(pd.Series([None, None], dtype=object)) == 1.0
    assert numeric_share(pd.Series(["1,5", "2,25"]), decimal=",") == 1.0
    # "1,5" is not a dot-decimal number (a thousands group needs three digits)
    assert numeric_share(pd.Series(["1,5", "2,25"]), decimal=".") == 0.0
    assert numeric_share(pd.Series(["$58,138.00", "PhD", "Master", "12"])) == 0.5


@st.composite
def formatted_amounts(draw):
    value = draw(st.floats(min_value=-1e10, max_value=1e10, allow_nan=False, allow_infinity=False))
    cents = round(value, 2)
    sign = "-" if cents < 0 else ""
    dot_style = f"{abs(cents):,.2f}"  # 1,234,567.89
    style = draw(st.sampled_from(["dot", "comma", "comma-space"]))
    if style == "dot":
        symbol = draw(st.sampled_from(["$", "£", "USD ", ""]))
        return f"{sign}{symbol}{dot_style}", ".", cents
    swapped = dot_style.replace(",", "_").replace(".", ",").replace("_", ".")  # 1.234.567,89
    if style == "comma-space":
        swapped = swapped.replace(".", "\u00a0")  # 1 234 567,89
    symbol = draw(st.sampled_from([" €", "€", " EUR", ""]))
    return f"{sign}{swapped}{symbol}", ",", cents


@SMALL
@given(formatted_amounts())
def test_to_number_round_trips_formatted_amounts(case):
    text, decimal, value = case
    parsed = to_number(pd.Series([text]), decimal=decimal).iloc[0]
    assert math.isclose(parsed, value, rel_tol=1e-12, abs_tol=1e-9), text



# --- the column-wise reader against the csv module, cell by cell -------------------------------
#
# The reference below is the row-by-row reading the column-wise reader must reproduce exactly:
# Python's csv module over the decoded text, every cell cleaned and parsed on its own.

MANY = settings(max_examples=300, deadline=None)

_REF_CURRENCY = re.compile(r"[\s\u00a0$€£¥]|(?i:usd|eur|gbp)")
_REF_DOT = re.compile(r"^[+-]?((\d{1,3}(,\d{3})+|\d+)(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_REF_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_REF_COMMA_HINT = re.compile(r"^[+-]?[\d.]*\d,\d{1,2}$")
_REF_DOT_HINT = re.compile(r"^[+-]?[\d,]*\d\.\d{1,2}$")


def _ref_clean(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, str):
        stripped = value.strip()
        return np.nan if stripped.lower() in MISSING_MARKERS else stripped
    return value


def _ref_tidy(frame: pd.DataFrame) -> pd.DataFrame:
    names, seen = [], {}
    for i, col in enumerate(frame.columns):
        label = str(col).strip() if col is not None and str(col).strip() else f"column_{i + 1}"
        if label.startswith("Unnamed:"):
            label = f"column_{i + 1}"
        count = seen.get(label, 0)
        seen[label] = count + 1
        names.append(label if count == 0 else f"{label}.{count}")
    out = {}
    for i, label in enumerate(names):
        series = frame.iloc[:, i]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            series = series.map(_ref_clean).astype(object)
        out[label] = series.reset_index(drop=True)
    return pd.DataFrame(out)


def _ref_detect_decimal(frame: pd.DataFrame) -> str:
    comma = dot = 0
    for col in frame.columns:
        for value in frame[col].dropna().head(200):
            if isinstance(value, str):
                token = _REF_CURRENCY.sub("", value)
                comma += bool(_REF_COMMA_HINT.match(token))
                dot += bool(_REF_DOT_HINT.match(token))
    return "," if comma > dot else "."


def _ref_to_number(series: pd.Series, decimal: str = ".") -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(float)
    pattern = _REF_COMMA if decimal == "," else _REF_DOT
    thousands = "." if decimal == "," else ","

    def parse(value) -> float:
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, int | float | np.integer | np.floating):
            return float(value)
        if not isinstance(value, str):
            return np.nan
        token = _REF_CURRENCY.sub("", value)
        if not pattern.match(token):
            return np.nan
        token = token.replace(thousands, "")
        if decimal == ",":
            token = token.replace(",", ".")
        return float(token)

    return series.map(parse).astype(float)


def _ref_numeric_share(series: pd.Series, decimal: str = ".") -> float:
    present = series.dropna()
    if present.empty:
        return 1.0
    return float(_ref_to_number(present, decimal).notna().mean())


def _ref_read(data: bytes):
    """(frame, rows_read, malformed_lines, line_numbers, delimiter, decimal) the csv module's way."""
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    head = [line for line in text.splitlines()[:200] if line.strip()]
    delimiter = seg_io._sniff_delimiter(head[:50])  # sniffing itself is not under test here
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or "\x1f")
    header, records, lines, malformed, rows_read, start = None, [], [], [], 0, 1
    try:
        for row in reader:
            line_no, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if header is None:
                header = row
                continue
            rows_read += 1
            if len(row) == len(header):
                records.append(row)
                lines.append(line_no)
            else:
                malformed.append(line_no)
    except csv.Error as exc:
        raise SegmentationError(f"upload cannot be read as a table near line {start} ({exc}): "
                                "export it again as CSV.") from None
    frame = _ref_tidy(pd.DataFrame(records, columns=header, dtype=object))
    return (frame, rows_read, tuple(malformed), tuple(lines), delimiter,
            _ref_detect_decimal(frame))


def assert_reads_like_the_csv_module(data: bytes) -> None:
    try:
        frame, rows_read, malformed, lines, delimiter, decimal = _ref_read(data)
    except SegmentationError as exc:  # the same one sentence
        with pytest.raises(SegmentationError, match=re.escape(str(exc))):
            read_table(data)
        return
    try:
        raw = read_table(data)
    except SegmentationError as exc:
        assert frame.empty, exc  # read_table refuses a table without rows
        return
    assert (raw.rows_read, raw.malformed_lines, raw.line_numbers) == (rows_read, malformed, lines)
    assert (raw.delimiter, raw.decimal) == (delimiter, decimal)
    pd.testing.assert_frame_equal(raw.frame, frame)
    for col in frame.columns:  # the same kinds of values, not only equal ones
        assert list(map(type, raw.frame[col])) == list(map(type, frame[col])), col


def assert_parses_like_cell_by_cell(series: pd.Series) -> None:
    for decimal in (".", ","):
        got, expected = to_number(series, decimal), _ref_to_number(series, decimal)
        pd.testing.assert_series_equal(got, expected)
        number = ~np.isnan(expected.to_numpy())  # and -0.0 stays -0.0 (a NaN's sign is no number's)
        assert np.array_equal(np.signbit(got.to_numpy()[number]),
                              np.signbit(expected.to_numpy()[number]))
        assert numeric_share(series, decimal) == _ref_numeric_share(series, decimal)


_PLAIN_CELLS = st.text(alphabet=st.sampled_from(list("ab1 .$é-")), max_size=4)
_QUOTED_CELLS = st.text(alphabet=st.sampled_from(list('ab1 ,;\t|"\n\r.')), max_size=5).map(
    lambda text: '"' + text.replace('"', '""') + '"')
_TYPICAL_CELLS = st.sampled_from(["NA", " n/a ", "", "-", "None", "007", '"$1,234.50"', "12,5",
                                  "1.234,50", "3.25", "#N/A", "nan "])
_BLANK_LINES = st.sampled_from(["", "  ", '""', '" "', "\t "])


@st.composite
def delimited_files(draw, quoting_as_written=True):
    """Small delimited files: quoted cells with delimiters and line breaks, blank lines,
    lines with too many or too few fields, three kinds of line break, three encodings."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 4))
    cell = st.one_of(_PLAIN_CELLS, _QUOTED_CELLS, _TYPICAL_CELLS)
    if not quoting_as_written:  # quotes inside cells: the csv module reads these row by row
        cell = st.one_of(cell, st.sampled_from(['5\'10"', 'a"b', '"x"y', '"open']))
    header = [draw(st.sampled_from(["id", "income", " ", "income", "Unnamed: 3", "note"]))
              for _ in range(width)]
    lines = [sep.join(header)]
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(_BLANK_LINES))
        else:
            fields = width if kind > 2 else draw(st.integers(1, width + 2))
            lines.append(sep.join(draw(cell) for _ in range(fields)))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


@MANY
@given(delimited_files())
def test_column_wise_reading_matches_the_csv_module(data):
    assert_reads_like_the_csv_module(data)


@SMALL
@given(delimited_files())
def test_the_same_when_rows_set_aside_are_counted_and_scanned_in_tiny_blocks(data):
    # many malformed rows are found by counting delimiters; tiny blocks put every
    # record and quoted cell across block boundaries
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seg_io, "_MATCH_ROWS", 0)
        patch.setattr(seg_io, "_SCAN_BLOCK", 3)
        assert_reads_like_the_csv_module(data)


@SMALL
@given(delimited_files(quoting_as_written=False))
def test_quotes_inside_cells_read_like_the_csv_module(data):
    assert_reads_like_the_csv_module(data)


def test_line_numbers_with_quoted_line_breaks_blank_and_malformed_lines():
    data = (b'id,note,v\r\n'              # 1 header
            b'1,"two\r\nlines",10\r\n'    # 2-3 one record over two lines
            b'\r\n'                       # 4 blank
            b'2,plain,20,extra\r\n'       # 5 too many fields
            b'   \r\n'                    # 6 blank (spaces only)
            b'3,"a ""quote""",30\r\n'     # 7
            b'4,"x\ny\nz"\r\n'            # 8-10 too few fields, over three lines
            b'5,last,50')                 # 11 no line break at the end
    for encoded in (data, b"\xef\xbb\xbf" + data, data.replace(b"last", b"l\xe4st")):
        raw = read_table(encoded)
        assert raw.line_numbers == (2, 7, 11)
        assert raw.malformed_lines == (5, 8)
        assert raw.rows_read == 5
        assert raw.frame["id"].tolist() == ["1", "3", "5"]
        assert raw.frame["note"].tolist()[:2] == ["two\r\nlines", 'a "quote"']
        assert_reads_like_the_csv_module(encoded)


@pytest.mark.parametrize(
    "data",
    [b'id,height\n1,5\'10"\n2,6\'1"\n3,"5\'9"""\n',   # a quote inside an unquoted cell
     b'id,v\n1,"abc"def\n2,x\n',                      # text after a closing quote
     b'id,v\n1,"never closed\n2,x\n3,y\n',            # a quote that never closes
     b"\xef\xbb\xbf\xef\xbb\xbfid,v\n1,2\n"],         # a second byte order mark
    ids=["quote-in-cell", "text-after-quote", "unclosed-quote", "two-byte-order-marks"],
)
def test_files_the_scan_cannot_follow_are_read_by_the_csv_module(data):
    assert seg_io._parse_columns(data.removeprefix(b"\xef\xbb\xbf"), ",") is None
    assert_reads_like_the_csv_module(data)


_LIMIT = csv.field_size_limit()


@pytest.mark.parametrize(
    "data",
    [b"id,v,note\n1,10," + b"x" * _LIMIT + b"\n2,20,short\n",
     b"id,v,note\n1,10,\"" + b"x" * (_LIMIT + 1) + b"\"\n2,20,short\n",
     b"id,v,note\n1,10,5," + b"x" * (_LIMIT + 1) + b"\n2,20,short\n",
     b"id,v,note\n" + b",".join([b"y" * (_LIMIT // 2)] * 3) + b"\n2,20,short\n",
     b"id," + b"h" * (_LIMIT + 1) + b",note\n1,2,3\n"],
    ids=["at-the-limit", "over-quoted", "over-in-malformed-line", "long-line-short-cells",
         "over-in-header"],
)
def test_cells_near_the_field_size_limit_read_like_the_csv_module(data):
    assert_reads_like_the_csv_module(data)


def test_nul_byte_past_the_binary_check_reads_like_the_csv_module():
    rows = b"".join(b"%d,%d\n" % (i, i * 10) for i in range(2000))  # past the first 8 KB
    data = b"id,v\n" + rows + b"7,7\x00\n8,\x00\n\x00\n"
    assert_reads_like_the_csv_module(data)
    assert read_table(data).frame["v"].tolist()[-2:] == ["7\x00", "\x00"]


def test_a_large_file_reads_like_the_csv_module():
    rng = np.random.default_rng(5)
    n = 12_000
    ids = [f"{i:06d}" for i in rng.permutation(n)]
    money = [f'"${v:,.2f}"' for v in rng.uniform(0, 50_000, n)]
    kind = rng.choice(["Basic", "PhD", "Master", " NA ", ""], n)  # repeats: one string per value
    note = rng.choice(['"called\nback"', "ok", '"said ""hi"""', "n/a"], n)
    lines = [f"{a},{b},{c},{d}" for a, b, c, d in zip(ids, money, kind, note, strict=True)]
    for i in range(0, n, 997):
        lines[i] += ",extra"
    for i in range(5, n, 1499):
        lines[i] = "  "
    data = ("ID,Income,Education,Note\r\n" + "\r\n".join(lines) + "\r\n").encode()
    assert_reads_like_the_csv_module(data)
    raw = read_table(data)
    for col in raw.frame.columns:
        assert_parses_like_cell_by_cell(raw.frame[col])


# --- number parsing against the cell-by-cell definition ------------------------------------------

_NUMBER_PIECES = ["0", "1", "23", "456", "7890", ",", ".", ",", ".", "$", "€", "£", "¥", " ",
                  "\u00a0", "\u2009", "\x1c", "\n", "+", "-", "e", "E", "e-", "usd", "EUR", "gBp",
                  "uſd", "u", "sd", "x", "K", "é", "٣", "３", "n/a", "1,234", "1.234", "12,5"]
_NUMBER_TEXT = st.lists(st.sampled_from(_NUMBER_PIECES), max_size=7).map("".join)
_CELLS = st.one_of(
    _NUMBER_TEXT, _NUMBER_TEXT, st.none(), st.just(np.nan), st.integers(-10**9, 10**9),
    st.floats(), st.booleans(),
    st.sampled_from(["$1,234.50", "1.234,50 €", "-$5.00", "1e5", ".5", "5.", "USD 7", "12,5",
                     pd.NA, pd.NaT, b"12", np.int32(3), np.float32(2.5), np.bool_(True),
                     decimals.Decimal("1.5"), "\ud800"]),
)


@MANY
@given(st.lists(_CELLS, max_size=30))
def test_to_number_and_numeric_share_match_cell_by_cell_parsing(cells):
    assert_parses_like_cell_by_cell(pd.Series(cells + [None], dtype=object)[:-1])


@settings(max_examples=15, deadline=None)
@given(st.lists(_NUMBER_TEXT, min_size=1, max_size=40), st.integers(0, 2**16))
def test_columns_that_repeat_values_are_parsed_like_cell_by_cell(pool, seed):
    # long enough to be parsed once per distinct value
    rng = np.random.default_rng(seed)
    cells = rng.choice(np.array([*pool, None], dtype=object), 4 * seg_io._SAMPLE)
    assert_parses_like_cell_by_cell(pd.Series(cells, dtype=object))


def test_a_long_column_of_distinct_values_is_parsed_like_cell_by_cell():
    # long enough to be parsed in two halves at once
    rng = np.random.default_rng(2)
    values = rng.uniform(-1e6, 1e6, 140_000)
    cells = np.array([f"${v:,.2f}" if i % 3 else f"{v:.3f}" for i, v in enumerate(values)],
                     dtype=object)
    cells[::101] = "n/a"
    cells[::997] = None
    assert_parses_like_cell_by_cell(pd.Series(cells, dtype=object))


@pytest.mark.parametrize("dtype", ["str", "string", "string[python]", "category"])
def test_to_number_on_other_text_dtypes(dtype):
    series = pd.Series(["$1,234.50", None, "abc", "12", "1.234,5"], dtype=dtype)
    for decimal in (".", ","):
        pd.testing.assert_series_equal(to_number(series, decimal), _ref_to_number(series, decimal))
        assert numeric_share(series, decimal) == _ref_numeric_share(series, decimal)


# --- the RE2 patterns and character sets against Python's ---------------------------------------

_EVERY_CHARACTER = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


def test_whitespace_is_every_character_python_strips():
    assert set(seg_io._WHITESPACE) == {c for c in _EVERY_CHARACTER if c.isspace()}


def test_marker_spellings_are_the_cells_whose_lower_case_is_a_marker():
    # the only non-ASCII character with an ASCII lower case is the Kelvin sign, "k"
    assert [c for c in _EVERY_CHARACTER if not c.isascii() and c.lower().isascii()] == ["\u212a"]
    assert not any("k" in marker for marker in MISSING_MARKERS)
    spellings = set(seg_io._MARKER_SPELLINGS.to_pylist())
    assert {s.lower() for s in spellings} == set(MISSING_MARKERS)
    assert len(spellings) == sum(2 ** sum(c.isalpha() for c in m) for m in MISSING_MARKERS)


def test_currency_pattern_removes_what_python_removes_from_every_character():
    every = pa.array([_EVERY_CHARACTER])
    kept = pc.replace_substring_regex(every, seg_io._ARROW_CURRENCY, "")[0].as_py()
    assert kept == _REF_CURRENCY.sub("", _EVERY_CHARACTER)
    characters = pa.array(list(_EVERY_CHARACTER))
    for letter in "usdergbp":  # case-insensitive letters: the same characters in both engines
        pattern = f"(?i:{letter})"
        arrow = characters.filter(pc.match_substring_regex(characters, pattern)).to_pylist()
        assert sorted(arrow) == sorted(set(re.findall(pattern, _EVERY_CHARACTER))), letter


def test_no_digit_of_another_script_is_a_letter_to_re2():
    digits = [c for c in _EVERY_CHARACTER if re.fullmatch(r"\d", c)]
    letters = pc.match_substring_regex(pa.array(digits), r"[^\P{L}eE]")
    assert not pc.any(letters).as_py()


# --- tidying Excel and Parquet columns ------------------------------------------------------------

_OBJECT_CELLS = st.one_of(
    st.sampled_from([" x ", "NA", "n/a", "", "None", "  ", "K", "ok", "\u3000y\u2028"]),
    st.none(), st.just(np.nan), st.integers(-5, 5), st.integers(2**62, 2**65),
    st.floats(allow_nan=True), st.booleans(), st.sampled_from([
        pd.NA, pd.NaT, decimals.Decimal("2.5"), datetime.datetime(2020, 1, 2),
        datetime.date(2021, 3, 4), datetime.timedelta(days=1), b"raw", 1 + 2j, np.int64(4),
        np.float32(1.5), np.bool_(False), np.datetime64("2020-01-01")]),
)


@MANY
@given(st.lists(st.lists(_OBJECT_CELLS, min_size=3, max_size=3), max_size=8))
def test_tidy_matches_cell_by_cell_cleaning(rows):
    frame = pd.DataFrame(rows, columns=[" a ", "a", "Unnamed: 2"], dtype=object)
    expected = _ref_tidy(frame)
    got = seg_io._tidy(frame)
    pd.testing.assert_frame_equal(got, expected)
    for col in expected.columns:
        assert list(map(type, got[col])) == list(map(type, expected[col])), col


@pytest.mark.parametrize("dtype", ["str", "string", "string[python]"])
def test_tidy_of_text_dtypes_matches_cell_by_cell_cleaning(dtype):
    frame = pd.DataFrame({"a": pd.Series([" x ", None, "NA", "", "y "], dtype=dtype)})
    pd.testing.assert_frame_equal(seg_io._tidy(frame), _ref_tidy(frame))
