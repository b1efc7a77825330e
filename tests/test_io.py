"""Reading customer tables: formats, delimiters, encodings, missing markers and number text."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from conftest import assert_actionable
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.errors import SegmentationError
from segmentation.io import numeric_share, read_table, to_number

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
