"""The files a team works from: every customer's assignment and the strategy sheet."""

from __future__ import annotations

import io
import math
import re
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation import SegmentationError, run
from segmentation.data.dataset import REASON_DUPLICATE_ID, REASON_MALFORMED, REASON_MISSING_ID
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS
from segmentation.describe.personas import apply_edits
from segmentation.export.assignments import ASSIGNMENT_COLUMNS, customer_assignments
from segmentation.export.strategy import (
    PROFILE_COLUMNS,
    RULES_HEADING,
    SUMMARY_COLUMNS,
    _sheet_titles,
    assignments_csv,
    assignments_xlsx,
    strategy_sheet_html,
    strategy_sheet_xlsx,
)
from segmentation.prepare.features import REASON_MISSING, REASON_OUTLIER, PrepConfig
from segmentation.validate.migration import read_assignments
from tests.helpers import CHEAP, planted_customers, to_tsv_bytes

EVIL_NAME = '=HYPERLINK("http://evil","x")'
EVIL_PRODUCTS = "@SUM(A1)"
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_COLUMN = "<img src=x onerror=alert(1)>"
FILE_NAME = "<b>customers</b>.tsv"
ODD_IDS = {0: "=1+1", 1: "007", 2: "-12.5", 3: "+A1"}


def planted(n: int, seed: int) -> pd.DataFrame:
    frame = planted_customers(n, seed=seed)
    frame.attrs = {}  # an array there upsets pandas' attrs merging
    return frame


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def upload() -> pd.DataFrame:
    """A clean upload with formula-like and zero-padded ids, a hostile column name, negatives."""
    frame = planted(150, seed=3).astype({"ID": object})
    for i, cid in ODD_IDS.items():
        frame.loc[i, "ID"] = cid
    frame[IMG_COLUMN] = np.arange(150) % 7
    frame["Balance"] = np.where(np.arange(150) % 10 == 0, -5, 120)
    return frame


@pytest.fixture(scope="module")
def result(upload):
    return run(to_tsv_bytes(upload), CHEAP, name=FILE_NAME)


@pytest.fixture(scope="module")
def personas(result):
    """The suggestions with hostile edits, as a user could type them in the app."""
    return apply_edits(result.personas, {
        0: {"name": EVIL_NAME, "products": EVIL_PRODUCTS},
        1: {"name": SCRIPT_NAME, "tone": "-cmd|' /C calc'!A0"},
    })


@pytest.fixture(scope="module")
def strategy_book(result, personas):
    return openpyxl.load_workbook(io.BytesIO(strategy_sheet_xlsx(result, personas)))


# A damaged upload: row index -> what is wrong with it (all disjoint).
MALFORMED = (10, 40)
MISSING_ID = (20,)
DUPLICATES = {100 + j: 50 + j for j in range(25)}  # more than Dataset.duplicate_ids keeps
NO_INCOME = (5, 6)
IMPLAUSIBLE_AGE = (8,)


@pytest.fixture(scope="module")
def dirty():
    frame = planted(150, seed=7).astype({"ID": object, "Income": float})
    for i in NO_INCOME:
        frame.loc[i, "Income"] = np.nan
    for i in IMPLAUSIBLE_AGE:
        frame.loc[i, "Year_Birth"] = 1880
    for dst, src in DUPLICATES.items():
        frame.loc[dst, "ID"] = frame.loc[src, "ID"]
    for i in MISSING_ID:
        frame.loc[i, "ID"] = ""
    header, *lines = frame.to_csv(sep="\t", index=False).splitlines()
    for i in MALFORMED:
        lines[i] += "\tan extra field"
    data = ("\n".join([header, *lines]) + "\n").encode()
    res = run(data, replace(CHEAP, prep=PrepConfig(missing="drop", outliers="exclude")))
    return frame, res


SHEET_COLUMNS = (*ASSIGNMENT_COLUMNS, "distance", "silhouette", *TOP_DRIVER_COLUMNS)


def expected_lines(frame: pd.DataFrame) -> list[tuple[object, object, int]]:
    """(customer_id, reason, line) of every data line, worked out from how the upload was damaged."""
    out = []
    for i in range(len(frame)):
        line, cid = i + 2, frame.loc[i, "ID"]
        if i in MALFORMED:
            out.append((None, REASON_MALFORMED, line))
        elif i in MISSING_ID:
            out.append((None, REASON_MISSING_ID, line))
        elif i in DUPLICATES:
            out.append((cid, REASON_DUPLICATE_ID, line))
        elif i in NO_INCOME:
            out.append((cid, REASON_MISSING, line))
        elif i in IMPLAUSIBLE_AGE:
            out.append((cid, REASON_OUTLIER, line))
        else:
            out.append((cid, None, line))
    return out


# --- customer assignments -------------------------------------------------------------------------

def test_assignments_carry_the_engines_segment_distance_and_silhouette(result, personas):
    frame = customer_assignments(result, personas)
    seg = result.segmentation
    assert tuple(frame.columns) == SHEET_COLUMNS
    assert str(frame["segment"].dtype) == "Int64"
    assert len(frame) == seg.labels.size == 150
    assert (frame["status"] == "segmented").all()
    by_id = frame.set_index("customer_id")
    ids = seg.customer_ids.astype(str)
    assert by_id.loc[ids, "segment"].astype(int).tolist() == seg.labels.tolist()
    np.testing.assert_array_equal(by_id.loc[ids, "distance"].to_numpy(), seg.distances)
    np.testing.assert_array_equal(by_id.loc[ids, "silhouette"].to_numpy(),
                                  seg.silhouette_values)
    names = {p.segment: p.name for p in personas}
    assert by_id.loc[ids, "persona"].tolist() == [names[s] for s in seg.labels]
    # without edits, the suggested names
    plain = customer_assignments(result)
    assert set(plain["persona"]) == {p.name for p in result.personas}


def test_every_line_of_a_damaged_upload_is_a_row(dirty):
    frame, res = dirty
    out = customer_assignments(res)
    report = res.features.report
    assert len(out) == report.rows_read == len(frame)
    assert (out["status"] == "segmented").sum() == res.segmentation.labels.size
    got = [(None if pd.isna(c) else c, None if pd.isna(r) else r, int(n))
           for c, r, n in zip(out["customer_id"], out["reason"], out["line"], strict=True)]
    assert got == expected_lines(frame)
    assert set(out["status"]) == {"segmented", "excluded"}
    assert (out["status"] == "excluded").tolist() == out["reason"].notna().tolist()
    # every duplicate is listed, not only the 20 the dataset keeps as examples
    assert len(res.dataset.duplicate_ids) == 20
    assert (out["reason"] == REASON_DUPLICATE_ID).sum() == len(DUPLICATES)
    left_out = out[out["status"] != "segmented"]
    assert left_out["segment"].isna().all() and left_out["persona"].isna().all()
    assert left_out["distance"].isna().all() and left_out["silhouette"].isna().all()
    # the rows left out add up to the engine's own account
    assert len(left_out) == sum(report.dropped.values())
    segmented = out[out["status"] == "segmented"]
    assert segmented["customer_id"].is_unique


def test_lines_that_cannot_be_matched_are_summarised(dirty):
    _, res = dirty
    # A dataset without its line record and a raw table without the id column cannot be
    # matched line by line.
    blind = replace(res, raw=replace(res.raw, frame=res.raw.frame.iloc[:, :0]),
                    dataset=replace(res.dataset, customer_lines=None))
    out = customer_assignments(blind)
    reason = out["reason"]
    assert (out["status"] == "segmented").sum() == res.segmentation.labels.size
    assert (reason == REASON_DUPLICATE_ID).sum() == 20
    assert f"5 more row(s) not listed: {REASON_DUPLICATE_ID}" in set(reason)
    assert f"1 more row(s) not listed: {REASON_MISSING_ID}" in set(reason)
    malformed = out[reason == REASON_MALFORMED]
    assert sorted(malformed["line"].astype(int)) == [i + 2 for i in MALFORMED]


def test_ids_made_from_line_numbers_when_the_file_has_no_id_column():
    frame = planted(90, seed=2).drop(columns=["ID"])
    header, *lines = frame.to_csv(sep="\t", index=False).splitlines()
    lines[3] += "\tx"
    res = run(("\n".join([header, *lines]) + "\n").encode(), CHEAP)
    out = customer_assignments(res)
    assert len(out) == 90
    assert (out["reason"].iloc[3], out["line"].iloc[3]) == (REASON_MALFORMED, 5)
    kept = out.drop(index=3)
    assert kept["customer_id"].tolist() == [f"row_{i + 2}" for i in range(90) if i != 3]


def test_personas_of_another_run_are_refused(result):
    with pytest.raises(SegmentationError, match="pass the personas of this run"):
        customer_assignments(result, result.personas[:2])


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_neutralises_text_and_keeps_ids_and_numbers(result, personas, upload):
    frame = customer_assignments(result, personas)
    extra = upload.set_index("ID")[["Income", "Balance"]].rename(index=str)
    frame = frame.join(extra, on="customer_id")
    back = pd.read_csv(io.BytesIO(assignments_csv(frame)), dtype=str, keep_default_na=False)
    ids = back["customer_id"].tolist()
    assert "'=1+1" in ids and "'+A1" in ids
    assert "007" in ids and "-12.5" in ids  # zeros kept; a plain number is not touched
    assert "'" + EVIL_NAME in set(back["persona"])
    assert not any(v.startswith(("=", "@", "+")) for v in back["persona"])
    assert set(back.loc[upload["Balance"].eq(-5).to_numpy(), "Balance"]) == {"-5"}
    assert back["Income"].tolist() == [str(v) for v in upload["Income"]]


def test_csv_round_trips_through_read_assignments(result, personas):
    frame = customer_assignments(result, personas)
    back = read_assignments(assignments_csv(frame))
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    assert set(ODD_IDS.values()) <= set(back["customer_id"])
    assert back["segment"].tolist() == frame["segment"].astype(int).tolist()
    assert back["persona"].tolist() == frame["persona"].tolist()


def test_segmented_rows_of_a_damaged_upload_round_trip(dirty):
    _, res = dirty
    frame = customer_assignments(res)
    segmented = frame[frame["status"] == "segmented"]
    back = read_assignments(assignments_csv(segmented))
    assert back["customer_id"].tolist() == segmented["customer_id"].tolist()
    assert back["segment"].tolist() == segmented["segment"].astype(int).tolist()
    text = assignments_csv(frame).decode()
    assert text.count("\n") == len(frame) + 1
    assert f"\n,,,excluded,{REASON_MALFORMED},{MALFORMED[0] + 2},,,,\n" in text


# --- XLSX assignments -----------------------------------------------------------------------------

def test_xlsx_assignments_are_typed_neutralised_and_formatted(result, personas, upload):
    frame = customer_assignments(result, personas)
    frame = frame.join(upload.set_index("ID")[["Income", "Balance"]].rename(index=str),
                       on="customer_id")
    ws = openpyxl.load_workbook(io.BytesIO(assignments_xlsx(frame))).active
    header = [c.value for c in ws[1]]
    assert header == [*SHEET_COLUMNS, "Income", "Balance"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:L{len(frame) + 1}"
    assert all(ws.column_dimensions[letter].width >= 8 for letter in "ABCDEFGHIJKL")
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(frame)
    for cells, (_, want) in zip(rows, frame.iterrows(), strict=True):
        (cid, segment, persona, status, reason, line, distance, silhouette, driver_1, driver_2,
         income, balance) = cells
        assert cid.data_type == "s" and cid.number_format == "@"
        assert cid.value == (want["customer_id"] if not want["customer_id"].startswith(("=", "+"))
                             else "'" + want["customer_id"])
        assert segment.value == int(want["segment"])
        assert persona.value.startswith("'") == (want["persona"] == EVIL_NAME)
        assert distance.value == pytest.approx(want["distance"], rel=1e-12)
        assert silhouette.value == pytest.approx(want["silhouette"], rel=1e-12)
        assert (driver_1.value, driver_2.value) == (want["top_driver_1"], want["top_driver_2"])
        assert status.value == "segmented" and reason.value is None
        assert line.value == int(want["line"])
        assert income.data_type == "n" and income.value == want["Income"]
        assert balance.data_type == "n" and balance.value == want["Balance"]
    by_value = {c[0].value for c in rows}
    assert {"'=1+1", "007", "-12.5", "'+A1"} <= by_value
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_xlsx_leaves_missing_cells_empty(dirty):
    _, res = dirty
    frame = customer_assignments(res)
    ws = openpyxl.load_workbook(io.BytesIO(assignments_xlsx(frame))).active
    values = list(ws.iter_rows(min_row=2, values_only=True))
    malformed = values[MALFORMED[0]]
    assert malformed == (None, None, None, "excluded", REASON_MALFORMED, MALFORMED[0] + 2,
                         None, None, None, None)
    duplicate = values[min(DUPLICATES)]
    assert duplicate[1:3] == (None, None) and duplicate[6:] == (None, None, None, None)
    assert duplicate[3:5] == ("excluded", REASON_DUPLICATE_ID)


def test_xlsx_strips_characters_excel_cannot_hold_before_neutralising():
    frame = pd.DataFrame({"customer_id": ["\x01=1+1", "a\x07b"], "segment": [0, 1]})
    ws = openpyxl.load_workbook(io.BytesIO(assignments_xlsx(frame))).active
    assert [ws["A2"].value, ws["A3"].value] == ["'=1+1", "ab"]


# --- strategy workbook ----------------------------------------------------------------------------

def first_of(profiles, kind: str) -> str | None:
    names = [n for n, v in profiles.variables.items() if v.kind == kind]
    return names[0] if names else None


def test_strategy_workbook_has_a_summary_and_one_sheet_per_persona(strategy_book, personas):
    names = strategy_book.sheetnames
    assert names[0] == "Summary"
    assert len(names) == 1 + len(personas)
    assert len({n.lower() for n in names}) == len(names)
    for title in names:
        assert 0 < len(title) <= 31
        assert not re.search(r"[\[\]:*?/\\]", title)
        assert not title.startswith("'") and not title.endswith("'")


def test_summary_sheet_figures_equal_the_engine(strategy_book, result, personas):
    ws = strategy_book["Summary"]
    header = [c.value for c in ws[1]]
    # The fixed columns in their order, with the cheat sheet's averages among them.
    assert [c for c in header if c in SUMMARY_COLUMNS] == [
        c for c in SUMMARY_COLUMNS if c in header]
    assert header[:5] == ["Segment", "Persona", "Customers", "Share of customers",
                          "Share of revenue"]
    assert ws.freeze_panes is not None and ws.auto_filter.ref
    profiles, seg = result.profiles, result.segmentation
    income, spend, recency = (first_of(profiles, k) for k in ("income", "total_spend", "recency"))
    revenue = dict(zip(profiles.sizes["segment"], profiles.sizes["revenue_share"],
                       strict=True))
    rows = list(ws.iter_rows(min_row=2, max_row=1 + len(personas), values_only=True))
    for p, values in zip(sorted(personas, key=lambda p: p.segment), rows, strict=True):
        got = dict(zip(header, values, strict=True))
        s = p.segment
        assert got["Segment"] == s
        assert got["Customers"] == int(np.sum(seg.labels == s))
        assert got["Share of customers"] == pytest.approx(np.mean(seg.labels == s), rel=1e-12)
        assert got["Share of revenue"] == pytest.approx(revenue[s], rel=1e-12)
        assert got["Average income"] == pytest.approx(profiles.means.loc[s, income], rel=1e-12)
        assert got["Average total spend"] == pytest.approx(profiles.means.loc[s, spend],
                                                           rel=1e-12)
        assert got["Average recency (days)"] == pytest.approx(profiles.means.loc[s, recency],
                                                              rel=1e-12)
        assert got["Top traits"] == "; ".join(p.traits)
        assert got.get("Why this name", "") == "; ".join(c.text for c in p.claims)
        assert got["Budget note"] == p.treatment
        assert got["Offer"] == p.offer and got["Channels"] == p.channels
    # the revenue shares add up; the figures are numbers with number formats
    assert sum(r[4] for r in rows) == pytest.approx(1.0)
    assert ws.cell(2, 4).number_format == "0.0%"
    assert ws.cell(2, 6).number_format == "#,##0"


def persona_sheet_profile(ws) -> list[tuple]:
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Variable")
    assert rows[start] == PROFILE_COLUMNS
    return [r for r in rows[start + 1:] if r[0] is not None]


def test_persona_sheets_hold_the_profile_against_the_population(strategy_book, result,
                                                                personas):
    profiles = result.profiles
    variables = [n for n in profiles.z.columns if n in profiles.variables]
    assert IMG_COLUMN in variables  # the hostile column is profiled, and so shown
    for p, title in zip(sorted(personas, key=lambda p: p.segment), strategy_book.sheetnames[1:],
                        strict=True):
        ws = strategy_book[title]
        profile = persona_sheet_profile(ws)
        assert [r[0] for r in profile] == [profiles.variables[n].label for n in variables]
        for row, name in zip(profile, variables, strict=True):
            _, mean, population, z, _, clustered = row
            assert mean == pytest.approx(profiles.means.loc[p.segment, name], rel=1e-12)
            assert population == pytest.approx(profiles.population_mean[name], rel=1e-12)
            expected_z = profiles.z.loc[p.segment, name]
            if math.isfinite(expected_z):
                assert z == pytest.approx(expected_z, rel=1e-12)
            else:
                assert z is None
            assert clustered == ("yes" if name in profiles.features else "no")
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert p.description in texts and p.treatment in texts


def test_strategy_workbook_neutralises_persona_text_and_keeps_numbers(strategy_book, result):
    summary = strategy_book["Summary"]
    names = [summary.cell(r, 2).value for r in range(2, 2 + result.chosen_k)]
    assert "'" + EVIL_NAME in names
    header = [c.value for c in summary[1]]
    products, tone = header.index("Products") + 1, header.index("Tone") + 1
    assert "'" + EVIL_PRODUCTS in [summary.cell(r, products).value for r in range(2, 5)]
    assert "'-cmd|' /C calc'!A0" in [summary.cell(r, tone).value for r in range(2, 5)]
    evil_sheet = strategy_book[strategy_book.sheetnames[1]]
    assert evil_sheet["A1"].value == "'" + EVIL_NAME
    for ws in strategy_book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "@", "+", "-", "\t", "\r"))
    # negative standardized differences and incomes stay numbers
    z_values = [r[3] for ws in strategy_book.worksheets[1:] for r in persona_sheet_profile(ws)]
    assert any(isinstance(z, float) and z < 0 for z in z_values)
    assert all(isinstance(summary.cell(r, 6).value, float) for r in range(2, 5))


def test_sheet_titles_are_cut_cleaned_and_deduplicated(result):
    long = "Very Long Persona Name That Goes On: Forever"
    edited = apply_edits(result.personas, {0: {"name": long + " A"}, 1: {"name": long + " B"},
                                           2: {"name": "summary"}})
    book = openpyxl.load_workbook(io.BytesIO(strategy_sheet_xlsx(result, edited)))
    assert book.sheetnames == ["Summary", "Very Long Persona Name That Goe",
                               "Very Long Persona Name That (2)", "summary (2)"]
    assert _sheet_titles(["a/b", "[x]", "history", "'q'"], [0, 1, 2, 3]) == [
        "a b", "x", "Segment 2", "q"]


# --- HTML -----------------------------------------------------------------------------------------

class Page(HTMLParser):
    """Tags with their attributes, headings, text and table cells of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.headings, self.tables = [], [], [], []
        self._heading = self._cell = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3"):
            self._heading = [tag, ""]
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading:
            self.headings.append(tuple(self._heading))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading:
            self._heading[1] += data
        if self._cell is not None:
            self._cell += data


@pytest.fixture(scope="module")
def page(result, personas):
    source = strategy_sheet_html(result, personas)
    parser = Page()
    parser.feed(source)
    parser.close()
    return source, parser


def test_html_has_every_persona_and_every_section(page, personas):
    _, parsed = page
    h2 = [text for tag, text in parsed.headings if tag == "h2"]
    assert h2 == ["Summary", *[p.name for p in sorted(personas, key=lambda p: p.segment)]]
    h3 = [text for tag, text in parsed.headings if tag == "h3"]
    expected = []
    for p in sorted(personas, key=lambda p: p.segment):
        expected += (["Why this name"] if p.claims else []) + [
            "Top traits", RULES_HEADING, "Strategy", "Profile against all customers"]
    assert h3 == expected
    text = "".join(parsed.text)
    for p in personas:
        for field in (p.name, p.description, p.offer, p.channels, p.tone, p.products,
                      p.treatment):
            assert field in text
    assert FILE_NAME in text and IMG_COLUMN in text


def test_html_figures_equal_the_engine(page, result, personas):
    _, parsed = page
    summary = parsed.tables[0]
    assert summary[0][:4] == ["Persona", "Customers", "Share of customers", "Share of revenue"]
    seg, profiles = result.segmentation, result.profiles
    for row, p in zip(summary[1:], sorted(personas, key=lambda p: p.segment), strict=True):
        s = p.segment
        revenue = profiles.sizes.set_index("segment").loc[s, "revenue_share"]
        assert row[:4] == [p.name, f"{np.sum(seg.labels == s):,}",
                           f"{np.mean(seg.labels == s):.1%}", f"{revenue:.1%}"]
    variables = [n for n in profiles.z.columns if n in profiles.variables]
    for s, table in enumerate(parsed.tables[1:]):
        assert [r[0] for r in table[1:]] == [profiles.variables[n].label for n in variables]
        assert [r[3] for r in table[1:]] == [
            f"{profiles.z.loc[s, n]:+.2f}" if math.isfinite(profiles.z.loc[s, n]) else "–"
            for n in variables]


def test_html_escapes_everything_typed_or_uploaded(page):
    source, parsed = page
    assert "<script" not in source.lower()
    assert SCRIPT_NAME in "".join(parsed.text)  # shown as text
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "base", "form"}
    for _, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs)
        for name in ("src", "href"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "javascript:"))
    assert "url(" not in source and "@import" not in source


def test_html_is_printable_one_persona_per_page(page, personas):
    source, parsed = page
    assert "@media print" in source and "break-before: page" in source
    sections = [a for tag, a in parsed.tags if tag == "section"]
    assert sum(a.get("class") == "persona" for a in sections) == len(personas)
    assert ("meta", {"charset": "utf-8"}) in parsed.tags


def test_the_full_assignments_export_reads_back_for_comparison(sample_result):
    from segmentation.export.assignments import customer_assignments
    from segmentation.export.strategy import assignments_csv
    from segmentation.validate.migration import read_assignments

    frame = customer_assignments(sample_result)
    back = read_assignments(assignments_csv(frame))
    segmented = frame[frame["status"] == "segmented"]
    assert back["customer_id"].tolist() == segmented["customer_id"].tolist()
    assert back["segment"].tolist() == segmented["segment"].astype(int).tolist()


def test_printable_sheet_carries_a_policy_that_runs_no_script(page):
    _, parsed = page
    policies = [a["content"] for tag, a in parsed.tags
                if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(policies) == 1
    rules = dict(rule.strip().split(" ", 1) for rule in policies[0].split(";"))
    assert rules["default-src"] == "'none'" and rules["script-src"] == "'none'"
    assert "http" not in policies[0]
