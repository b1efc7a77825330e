"""Files that used to be misread or hang: wide encodings, mixed encodings, workbooks whose
table is not on the first sheet, workbooks built to blow up, devices, very wide tables, and
tables too small or too uniform to segment."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segmentation.data.customer_file as seg_io
from segmentation import SegmentationError, read_table
from segmentation.data.customer_file import sheet_names
from segmentation.data.dataset import load_dataset
from tests.cli.test_cli import assert_one_error_line, call
from tests.helpers import assert_actionable

TEXT = ("id;status;income\n"
        "1;Célibataire;58138\n"
        "2;Marié;46344\n"
        "3;Divorcé;71613\n")


def _expected(text: str) -> list[list[str]]:
    """The rows as Python's csv module reads the text: the reference for every encoding."""
    return [row for row in csv.reader(io.StringIO(text), delimiter=";")][1:]


def _rows(raw) -> list[list[str]]:
    return raw.frame.astype(str).to_numpy().tolist()


# ------------------------------------------------------------------- 1. encodings

@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_wide_encodings_with_a_byte_order_mark_are_read(codec):
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}
    data = bom.get(codec, b"") + TEXT.encode(codec)  # "utf-16"/"utf-32" write their own mark
    raw = read_table(data, name="unicode.txt")
    assert list(raw.frame.columns) == ["id", "status", "income"]  # no mark on the first name
    assert _rows(raw) == _expected(TEXT)
    assert raw.encoding.startswith(codec[:6])


def test_excel_unicode_text_export_tab_separated_crlf():
    text = TEXT.replace(";", "\t").replace("\n", "\r\n")
    raw = read_table(b"\xff\xfe" + text.encode("utf-16-le"))
    assert raw.delimiter == "\t"
    assert raw.frame["status"].tolist() == ["Célibataire", "Marié", "Divorcé"]


def test_a_stray_latin1_line_leaves_the_utf8_lines_intact():
    lines = TEXT.splitlines(keepends=True)
    data = b"".join(line.encode("utf-8") for line in lines[:3]) + lines[3].encode("latin-1")
    raw = read_table(data, name="crm.csv")
    # every line decoded as what it is: the reference decodes each line on its own
    assert _rows(raw) == _expected(TEXT)
    assert raw.encoding == "utf-8"
    assert raw.notes == ("Line 4 of crm.csv is not valid UTF-8 and was read as Latin-1: check "
                         "the accented letters there, or save the file again as UTF-8.",)
    assert load_dataset(raw).notes[0] == raw.notes[0]  # the reading notes reach the report


def test_the_note_counts_the_latin1_lines_and_names_the_first():
    rows = [f"{i};{'Marié' if i % 3 else 'Célibataire'};{i * 10}" for i in range(1, 31)]
    encoded = [r.encode("latin-1" if i % 3 == 0 else "utf-8") for i, r in enumerate(rows, 1)]
    data = b"id;status;income\r\n" + b"\r\n".join(encoded) + b"\r\n"
    raw = read_table(data, name="crm.csv")
    bad = [i + 1 for i in range(1, 31) if i % 3 == 0]  # file lines: the header is line 1
    assert raw.notes[0].startswith(f"{len(bad)} lines of crm.csv are not valid UTF-8 (lines "
                                   f"{', '.join(map(str, bad[:5]))}, ...) and were read as")
    assert raw.frame["status"].tolist() == [r.split(";")[1] for r in rows]


def _line_by_line(data: bytes) -> str:
    """The reference: each line decoded on its own, as UTF-8 when it is valid UTF-8."""
    def decode(line: bytes) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            return line.decode("latin-1")

    return "".join(decode(line) for line in data.splitlines(keepends=True))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab1 éüÃ©ß", max_size=6).map("x".__add__),
                          st.sampled_from(["utf-8", "latin-1"])), min_size=1, max_size=12))
def test_each_line_is_decoded_as_what_it_is(cells):
    lines = [b"id;name\n"] + [f"{i};{text}\n".encode(codec)
                              for i, (text, codec) in enumerate(cells, 1)]
    data = b"".join(lines)
    raw = read_table(data, name="crm.csv")
    expected = [row[1].strip() for row in csv.reader(io.StringIO(_line_by_line(data)),
                                                     delimiter=";")][1:]
    assert raw.frame["name"].tolist() == expected
    bad = [i for i, line in enumerate(lines, 1) if _line_by_line(line) != line.decode(
        "utf-8", errors="replace")]
    some_utf8 = any(i not in bad and not line.isascii() for i, line in enumerate(lines, 1))
    if bad and some_utf8:  # a mix: the note names the lines read as Latin-1
        assert raw.notes[0].startswith(f"Line {bad[0]} " if len(bad) == 1
                                       else f"{len(bad)} lines ")
    else:  # all UTF-8, or no line UTF-8 beyond ASCII: nothing to say
        assert raw.notes == ()


def test_a_wholly_latin1_file_is_read_as_latin1_without_a_note():
    raw = read_table(TEXT.encode("latin-1"))
    assert raw.encoding == "latin-1" and raw.notes == ()
    assert _rows(raw) == _expected(TEXT)


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    b"\x00\x01\x02\x03" * 500,
    b"\xff\xfe" + ("\x01\x02\x03" * 400).encode("utf-16-le"),  # controls behind the mark
], ids=["png", "nul-bytes", "utf16-control-characters"])
def test_binary_files_are_still_refused(data):
    with pytest.raises(SegmentationError, match="looks like a binary file") as info:
        read_table(data, name="blob.csv")
    assert_actionable(str(info.value))


def test_random_bytes_behind_a_utf16_mark_are_refused():
    data = b"\xff\xfe" + random.Random(3).randbytes(4000)  # unpaired surrogates, surely
    with pytest.raises(SegmentationError, match="marked as UTF-16 text but byte") as info:
        read_table(data, name="blob.csv")
    assert_actionable(str(info.value))


# ------------------------------------------------------------------- 2. sheets

def _workbook(sheets: dict[str, pd.DataFrame | None]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for title, frame in sheets.items():
            if frame is None:  # a sheet with a line of text and no table
                writer.book.create_sheet(title).append(["Customer export, see next sheet"])
            else:
                frame.to_excel(writer, sheet_name=title, index=False)
    return buffer.getvalue()


CUSTOMERS = pd.DataFrame({"id": ["001", "002", "003", "004", "005"],
                          "income": [100.0, 250.0, 90.0, 400.0, 310.0],
                          "visits": [3, 8, 1, 12, 7]})
OTHER = pd.DataFrame({"region": ["north", "south", "east", "west", "centre", "coast"],
                      "target": [1.5, 2.0, 7.25, 3.0, 4.5, 9.0]})


def test_the_table_on_the_second_sheet_is_found():
    data = _workbook({"About": pd.DataFrame(), "Customers": CUSTOMERS})
    raw = read_table(data, name="book.xlsx")
    assert raw.sheet == "Customers" and raw.sheets == ("About", "Customers")
    assert raw.frame["id"].tolist() == CUSTOMERS["id"].tolist()
    assert raw.notes == ("Read sheet 'Customers' of book.xlsx (the sheets before it hold no "
                         "table); the workbook also has 'About': choose another sheet to read "
                         "one of those instead.",)


def test_a_cover_sheet_with_a_line_of_text_is_passed_over():
    data = _workbook({"Cover": None, "Customers": CUSTOMERS})
    assert read_table(data).sheet == "Customers"


def test_of_several_tables_the_first_is_read_and_the_others_named():
    data = _workbook({"Customers": CUSTOMERS, "Targets": OTHER, "Notes": pd.DataFrame()})
    raw = read_table(data, name="book.xlsx")
    assert raw.sheet == "Customers"
    assert "also has 'Targets', 'Notes'" in raw.notes[0]
    assert load_dataset(raw).notes[0] == raw.notes[0]


@pytest.mark.parametrize("sheet", ["Targets", "2", 2])
def test_a_sheet_chosen_by_name_or_number(sheet):
    data = _workbook({"Customers": CUSTOMERS, "Targets": OTHER})
    raw = read_table(data, sheet=sheet)
    assert raw.sheet == "Targets"
    assert raw.frame["region"].tolist() == OTHER["region"].tolist()


def test_an_unknown_sheet_is_one_sentence_naming_the_sheets():
    data = _workbook({"Customers": CUSTOMERS, "Targets": OTHER})
    with pytest.raises(SegmentationError) as info:
        read_table(data, name="book.xlsx", sheet="Clients")
    assert str(info.value) == ("book.xlsx has no sheet 'Clients': choose one of 'Customers', "
                               "'Targets' (by name, or by number from 1).")
    assert_actionable(str(info.value))
    with pytest.raises(SegmentationError, match="no sheet '3'"):
        read_table(data, sheet=3)


def test_a_sheet_of_a_text_file_is_refused():
    with pytest.raises(SegmentationError, match="not an Excel workbook") as info:
        read_table(b"id,v\n1,2\n", name="crm.csv", sheet="Customers")
    assert_actionable(str(info.value))


def test_sheet_names():
    assert sheet_names(_workbook({"A": CUSTOMERS, "B b": OTHER})) == ("A", "B b")
    assert sheet_names(b"id,v\n1,2\n") == ()


def test_cli_sheet_option(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(_workbook({"Targets": OTHER, "Customers": CUSTOMERS}))
    rc, out, err = call(["inspect", path, "--json", "--sheet", "Customers"])
    assert rc == 0, err
    assert json.loads(out)["customers"] == len(CUSTOMERS)
    rc, out, err = call(["inspect", path, "--json"])  # the first sheet holding a table
    assert rc == 0 and json.loads(out)["rows"] == len(OTHER)
    rc, _, err = call(["inspect", path, "--sheet", "Clients"])
    assert_one_error_line(rc, err, "no sheet 'Clients'")
    assert "'Targets', 'Customers'" in err
    for command in (["run", path, "--out", tmp_path / "out"],
                    ["score", path, "--model", tmp_path / "m.json", "--out", tmp_path / "s.csv"],
                    ["predict", path, "--model", tmp_path / "b.json", "--out", tmp_path / "p.csv"]):
        rc, _, err = call([*command, "--sheet", "Clients"])
        assert_one_error_line(rc, err, "no sheet 'Clients'")


# ------------------------------------------------------------------- 3. zip bombs, devices

def _bomb(member_bytes: int) -> bytes:
    """A workbook whose sheet XML expands to ``member_bytes`` of repeated rows."""
    real = zipfile.ZipFile(io.BytesIO(_workbook({"Customers": CUSTOMERS})))
    row = b'<row><c t="n"><v>1</v></c></row>'
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + row * (member_bytes // len(row))
             + b"</sheetData></worksheet>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in real.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, sheet)
            else:
                out.writestr(info.filename, real.read(info.filename))
    return buffer.getvalue()


@pytest.fixture
def openpyxl_forbidden(monkeypatch):
    """Fail if anything opens a workbook: a bomb must be refused from the zip directory."""
    def never(*args, **kwargs):
        raise AssertionError("openpyxl was asked to open the workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", never)
    monkeypatch.setattr(pd, "ExcelFile", never)
    monkeypatch.setattr(pd, "read_excel", never)


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(openpyxl_forbidden):
    data = _bomb(40 * 2**20)
    assert len(data) < 200_000  # small on disk, 40 MB when opened
    with pytest.raises(SegmentationError, match="expands") as info:
        read_table(data, name="bomb.xlsx")
    assert "export the sheet as CSV" in str(info.value)
    assert_actionable(str(info.value))
    with pytest.raises(SegmentationError, match="expands"):
        sheet_names(data, "bomb.xlsx")


def test_a_workbook_over_the_size_limit_is_refused(monkeypatch, openpyxl_forbidden):
    monkeypatch.setattr(seg_io, "MAX_WORKBOOK_BYTES", 2**20)
    monkeypatch.setattr(seg_io, "MAX_COMPRESSION_RATIO", 10**9)  # only the total is at issue
    with pytest.raises(SegmentationError, match="over the 1 MB limit for Excel files") as info:
        read_table(_bomb(3 * 2**20), name="big.xlsx")
    assert_actionable(str(info.value))


def test_an_ordinary_workbook_passes_the_size_checks():
    data = _workbook({"Customers": CUSTOMERS})
    seg_io._check_workbook_size(data, "book.xlsx")  # no error
    assert read_table(data).rows_read == len(CUSTOMERS)


@pytest.mark.parametrize("path", ["/dev/zero", "DIR"])
def test_only_regular_files_are_read(path, tmp_path):
    path = str(tmp_path) if path == "DIR" else path
    with pytest.raises(SegmentationError, match="is not a regular file") as info:
        read_table(path)
    assert_actionable(str(info.value))
    rc, _, err = call(["inspect", path])
    assert_one_error_line(rc, err, "is not a regular file")


# ------------------------------------------------------------------- 4. wide files

def _wide(columns: int, rows: int = 5) -> bytes:
    header = ",".join(["id", *(f"v{j}" for j in range(columns - 1))])
    body = "\n".join(",".join(str(i * j) for j in range(columns)) for i in range(1, rows + 1))
    return f"{header}\n{body}\n".encode()


def test_a_file_wider_than_the_limit_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(seg_io, "MAX_COLUMNS", 50)

    def never(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(seg_io, "_parse_columns", never)
    monkeypatch.setattr(seg_io, "_parse_rows", never)
    with pytest.raises(SegmentationError) as info:
        read_table(_wide(51), name="wide.csv")
    assert str(info.value) == ("wide.csv has 51 columns, more than the 50 a customer file is "
                               "read with: keep the columns you need (the id and what to "
                               "segment on) and read that file.")
    assert_actionable(str(info.value))


def test_the_limit_holds_for_every_format(monkeypatch):
    monkeypatch.setattr(seg_io, "MAX_COLUMNS", 50)
    frame = pd.read_csv(io.BytesIO(_wide(51)))
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    with pytest.raises(SegmentationError, match="has 51 columns, more than the 50"):
        read_table(buffer.getvalue(), name="wide.parquet")
    assert read_table(_wide(50)).frame.shape == (5, 50)  # at the limit: read


def test_the_real_limit_reads_a_file_at_it():
    raw = read_table(_wide(seg_io.MAX_COLUMNS, rows=3))
    assert raw.frame.shape == (3, seg_io.MAX_COLUMNS)
    with pytest.raises(SegmentationError, match="more than the 1,000"):
        read_table(_wide(seg_io.MAX_COLUMNS + 1, rows=3))


# ------------------------------------------------------------------- 5. nothing to segment

ONE_ROW = b"id,income,visits\n1,100,3\n"
IDENTICAL = b"id,income,visits\n" + b"".join(b"%d,100,3\n" % i for i in range(500))
IDENTICAL_NO_ID = b"income,visits,city\n" + b"100,3,Leeds\n" * 500


@pytest.mark.parametrize(("data", "message"), [
    (ONE_ROW, "crm.csv has only 1 customer row: segmentation needs at least 4 (two segments "
              "of two), so read the whole customer table."),
    (IDENTICAL, "All 500 rows of crm.csv are identical apart from their id, so there is "
                "nothing to segment: check that the export holds each customer's own figures."),
    (IDENTICAL_NO_ID, "All 500 rows of crm.csv are identical, so there is nothing to segment: "
                      "check that the export holds each customer's own figures."),
], ids=["one-row", "identical-rows", "identical-rows-no-id"])
def test_what_is_really_wrong_when_there_is_nothing_to_segment(data, message, tmp_path):
    with pytest.raises(SegmentationError) as info:
        load_dataset(read_table(data, name="crm.csv"))
    assert str(info.value) == message
    assert_actionable(message)
    path = tmp_path / "crm.csv"
    path.write_bytes(data)
    for command in (["run", path, "--out", tmp_path / "out"], ["inspect", path]):
        rc, _, err = call(command)
        assert_one_error_line(rc, err)
        assert err == f"error: {message}\n"
