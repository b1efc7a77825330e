"""The assignments workbook neutralises exactly the cells the CSV does, and large files are
offered as CSV with the reason."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.escape import unescape

from segmentation.export.assignments import XLSX_MAX_ROWS, xlsx_refusal
from segmentation.export.outputs import csv_text, neutralise
from segmentation.export.strategy import assignments_csv, assignments_xlsx

# Characters that start a formula, break a line, or are plain: hostile cells are built from them.
_PIECES = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "\r\n", "1", ".", "e", "a",
                           "cmd|' /C calc'!A0", "HYPERLINK(\"http://x\")", " ", "'", "0"])
_TEXTS = st.lists(_PIECES, min_size=1, max_size=8).map("".join)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xlsx_cells(frame: pd.DataFrame) -> list[list]:
    """The cells as a spreadsheet shows them: Excel and LibreOffice decode the ``_xHHHH_``
    escapes of the file format (ECMA-376 ST_Xstring: a carriage return is ``_x000D_``),
    which openpyxl hands back as written."""
    book = openpyxl.load_workbook(io.BytesIO(assignments_xlsx(frame)))
    ws = book["Assignments"]
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    return [[unescape(v) if isinstance(v, str) else v for v in row]
            for row in ws.iter_rows(values_only=True)]


@settings(max_examples=60, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=6))
def test_the_workbook_neutralises_the_cells_the_csv_does(texts):
    frame = pd.DataFrame({"customer_id": texts, "persona": texts[::-1]})
    got = xlsx_cells(frame)
    assert got[0] == ["customer_id", "persona"]
    # Cell for cell the text the CSV writer puts in its file (outputs.neutralise).
    assert got[1:] == [[neutralise(a), neutralise(b)] for a, b in zip(texts, texts[::-1],
                                                                       strict=True)]
    for row in got[1:]:
        for value in row:
            if value is None:
                continue
            # Independently of the writers: no line of a cell starts a formula unless it is a
            # plain number, and taking the apostrophes off gives the text back.
            for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")[1:]:
                assert not line.startswith(FORMULA_START[:5]) or _number(line)
            assert not value.startswith(FORMULA_START) or _number(value)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not text.strip().lower().lstrip("+-").startswith(("inf", "nan"))


def test_characters_excel_cannot_hold_go_before_neutralising():
    frame = pd.DataFrame({"customer_id": ["\x01=1+1", "x\r\x02@SUM(A1)"], "segment": [0, 1]})
    got = xlsx_cells(frame)
    assert [row[0] for row in got[1:]] == ["'=1+1", "x\r'@SUM(A1)"]
    assert ILLEGAL_CHARACTERS_RE.search("".join(r[0] for r in got[1:])) is None


def test_numbers_stay_numbers_and_ids_stay_text():
    frame = pd.DataFrame({"customer_id": ["007", "-12.5"], "segment": pd.array([1, None],
                                                                              dtype="Int64"),
                          "distance": [0.25, float("nan")], "flag": [True, False]})
    ws = openpyxl.load_workbook(io.BytesIO(assignments_xlsx(frame)))["Assignments"]
    assert [ws["A2"].value, ws["A3"].value] == ["007", "-12.5"]
    assert ws["A2"].data_type == "s" and ws["A2"].number_format == "@"
    assert ws["B2"].value == 1 and ws["B3"].value is None
    assert ws["C2"].value == 0.25 and ws["C2"].number_format == "0.000"
    assert ws["C3"].value is None
    assert [ws["D2"].value, ws["D3"].value] == [True, False]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D3"
    assert ws["A1"].font.b


def test_the_csv_bytes_are_the_csv_text():
    frame = pd.DataFrame({"customer_id": ["=1+1", "é\r\n-x", None], "d": [1.5, None, 2.0]})
    assert assignments_csv(frame) == csv_text(frame).encode("utf-8")


def test_excel_is_offered_up_to_the_limit_and_csv_above_it_with_the_reason():
    assert xlsx_refusal(XLSX_MAX_ROWS) is None
    reason = xlsx_refusal(XLSX_MAX_ROWS + 1)
    assert reason is not None and f"{XLSX_MAX_ROWS + 1:,} rows" in reason and "CSV" in reason
    assert xlsx_refusal(11, limit=10) is not None and xlsx_refusal(10, limit=10) is None
