"""Files a team works from: every customer's assignment, and the strategy sheet.

Four files, each returned as bytes (or text) so the app can offer them for
download and the command line can write them:

* :func:`customer_assignments` / :func:`assignments_csv` /
  :func:`assignments_xlsx`: one row per data line of the upload, for a CRM or
  email platform, in the one schema of :mod:`segmentation.export.assignments`.
  Segmented customers carry their segment, persona, distance, silhouette and
  top drivers; every other line says why it was left out.
* :func:`strategy_sheet_xlsx`: a Summary sheet with one row per persona, then
  one sheet per persona with its strategy, its rules (a filter in the
  variables' own units, :mod:`segmentation.describe.rules`) and its profile
  against everyone.
* :func:`strategy_sheet_html`: the same content as one self-contained,
  printable HTML page (inline CSS, no scripts, no external resources; every
  persona starts on a new page). No PDF library is used: the page prints to
  PDF from any browser (File > Print > Save as PDF).

Spreadsheet safety: every text cell of the CSV and XLSX files is neutralised
with :func:`segmentation.export.outputs.neutralise` (text starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return, and not a plain number, gets a leading
apostrophe), so a persona named ``=HYPERLINK(...)`` or a customer id ``=1+1``
is shown as text, never run as a formula. Numbers stay numbers. In the HTML
page everything typed or uploaded (persona fields, column names and the
labels made from them, the file name) is HTML-escaped.

Every figure is the engine's: sizes and shares from ``result.segmentation``,
the share of revenue from ``result.profiles.sizes``, averages from
``result.profiles.means`` and ``population_mean``, standardized differences
from ``result.profiles.z``.
"""

from __future__ import annotations

import html
import io
import math
import re

import numpy as np
import pandas as pd
import xlsxwriter
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from segmentation.describe.explore import cheat_sheet, cheat_sheet_columns
from segmentation.describe.personas import Persona
from segmentation.describe.rules import SegmentRules, persona_rules
from segmentation.export.assignments import checked_personas
from segmentation.export.outputs import _write_rows, neutralise
from segmentation.pipeline import SegmentationResult
from segmentation.plan.lifetime import Lifetime, lifetime_by_segment
from segmentation.prepare.variables import CHANNEL_LABELS

SUMMARY_SHEET = "Summary"
# The Summary sheet's columns, in order. Only the first four and the texts are always
# there; the figures (share of revenue, averages) are those the file has (see strategy_frame).
SUMMARY_COLUMNS = (
    "Segment", "Persona", "Customers", "Share of customers", "Share of revenue",
    "Average income", "Average total spend", "Average recency (days)", "Top traits",
    "Why this name", "Preferred channel", "Offer", "Channels", "Tone", "Products",
    "Budget note",
)
_ALWAYS = frozenset({"Segment", "Persona", "Customers", "Share of customers", "Top traits",
                     "Offer", "Channels", "Tone", "Budget note"})
_TEXT_COLUMNS = ("Top traits", "Why this name", "Preferred channel", "Offer", "Channels",
                 "Tone", "Products", "Budget note")
PROFILE_COLUMNS = ("Variable", "Persona mean", "Population mean",
                   "Standardized difference (z)", "Group", "Clustered on")
STRATEGY_FIELDS = (("Offer", "offer"), ("Channels", "channels"), ("Tone", "tone"),
                   ("Products", "products"))
PROFILE_HEADING = "Profile against all customers"
RULES_HEADING = "Find them with a filter"
STRATEGY_HEADING = "Strategy"

# Excel refuses a cell longer than this and a sheet name longer than 31 characters.
_MAX_CELL = 32767
_MAX_TITLE = 31
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# A name cut at 31 characters should not end in a dangling comma or "&".
_TITLE_TAIL = "' ,;&-"
_PERCENT = "0.0%"
_THOUSANDS = "#,##0"
_DECIMAL = "#,##0.0"
_Z_FORMAT = "+0.00;-0.00;0.00"
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
# Means of these kinds are proportions (0.25 = 25 %), of these money amounts.
_SHARE_KINDS = frozenset({"spend_share", "channel_share", "campaign", "complaint", "binary",
                          "outcome", "level", "sentinel_flag"})
_MONEY_KINDS = frozenset({"income", "spend", "total_spend", "money"})
_EXCEL_FORMATS = {"int": _THOUSANDS, "pct1": _PERCENT, "num0": _THOUSANDS, "num1": _DECIMAL,
                  "num2": "#,##0.00"}
# Cheat-sheet headers as the strategy sheet words them.
_HEADERS = {"avg_income": "Average income", "avg_total_spend": "Average total spend",
            "avg_recency": "Average recency (days)", "revenue_share": "Share of revenue"}


# --- every customer of the upload -----------------------------------------------------------------

def lifetime_segments(result: SegmentationResult, lifetime: Lifetime,
                      personas: tuple[Persona, ...] | None = None) -> pd.DataFrame:
    """Lifetime figures per segment, with each segment's persona name.

    Parameters
    ----------
    result : SegmentationResult
        A run on an order log.
    lifetime : Lifetime
        Its customers' figures (:func:`segmentation.plan.lifetime.lifetime_of`).
    personas : tuple of Persona, optional
        The personas with the user's edits; default ``result.personas``.

    Returns
    -------
    DataFrame
        :func:`segmentation.plan.lifetime.lifetime_by_segment` with ``persona``
        after ``segment``.
    """
    personas = checked_personas(result, personas)
    seg = result.segmentation
    labels = pd.Series(seg.labels, index=seg.customer_ids.astype(str))
    table = lifetime_by_segment(lifetime, labels)
    names = {p.segment: p.name for p in personas}
    return table.assign(persona=table["segment"].map(names))[
        ["segment", "persona", *table.columns.drop("segment")]]


# --- assignment files -----------------------------------------------------------------------------

def assignments_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, text cells and column names neutralised.

    Missing values are empty cells. Read it back with
    :func:`segmentation.validate.migration.read_assignments`, which takes the
    neutralising apostrophe off again, so ids come back exactly (for the
    segmented rows: that reader refuses rows without an id or a segment).

    Written a block of rows at a time straight into the bytes returned, as the
    command line writes its file: at a million rows, text built whole and then
    encoded held three copies of a 100 MB file.

    Parameters
    ----------
    frame : DataFrame
        Usually :func:`customer_assignments`; any frame is accepted.

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    _write_rows(frame, text)
    text.flush()
    text.detach()  # closing the wrapper would close the buffer before it is read
    return buffer.getvalue()


def assignments_xlsx(frame: pd.DataFrame) -> bytes:
    """The frame as an Excel workbook with one sheet, "Assignments".

    Text cells are neutralised; numbers stay numbers (missing ones are empty
    cells); ``customer_id`` is always stored as text (format ``@``) so ``007``
    keeps its zeros. The header row is bold and frozen, columns are sized to
    their contents and an autofilter covers the table.

    Written with XlsxWriter in constant-memory mode: rows go to disk as they
    are written, several times faster than openpyxl's write-only mode (see
    ``benchmarks/bench_export.py``). Every text cell goes through
    ``write_string``, never ``write``, so no text is ever read as a formula.

    Parameters
    ----------
    frame : DataFrame
        Usually :func:`customer_assignments`; any frame is accepted. Above
        :data:`~segmentation.export.assignments.XLSX_MAX_ROWS` rows offer CSV instead
        (:func:`~segmentation.export.assignments.xlsx_refusal`).

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    buffer = io.BytesIO()
    # nan_inf_to_errors: an infinite figure becomes an error cell rather than no file at all.
    wb = xlsxwriter.Workbook(buffer, {"constant_memory": True, "nan_inf_to_errors": True})
    ws = wb.add_worksheet("Assignments")
    columns = [(str(c), _column_values(frame[c], as_text=str(c) == "customer_id"))
               for c in frame.columns]
    header = wb.add_format({"bold": True, "bg_color": "#" + _HEADER_FILL.fgColor.rgb[-6:]})
    formats = {"distance": wb.add_format({"num_format": "0.000"}),
               "silhouette": wb.add_format({"num_format": "0.000"}),
               "customer_id": wb.add_format({"num_format": "@"})}
    for j, (name, values) in enumerate(columns):
        ws.set_column(j, j, _width(name, values))
        ws.write_string(0, j, _text(name), header)
    ws.freeze_panes(1, 0)
    # Constant-memory mode writes a row once the next one starts: row by row, left to right.
    for r in range(len(frame)):
        for j, (name, values) in enumerate(columns):
            value = values[r]
            if value is None:
                continue
            fmt = formats.get(name)
            if isinstance(value, str):
                ws.write_string(r + 1, j, value, fmt)
            elif isinstance(value, bool):
                ws.write_boolean(r + 1, j, value, fmt)
            else:
                ws.write_number(r + 1, j, value, fmt)
    ws.autofilter(0, 0, len(frame), max(len(columns), 1) - 1)
    wb.close()
    return buffer.getvalue()


def _column_values(series: pd.Series, as_text: bool = False) -> list:
    """Python cell values: numbers as numbers, text neutralised, missing as None."""
    numeric = (pd.api.types.is_numeric_dtype(series.dtype)
               or pd.api.types.is_bool_dtype(series.dtype))
    out = []
    for value in series.tolist():
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
        elif as_text or not (numeric or isinstance(value, int | float | np.number)):
            out.append(_text(value))
        else:
            out.append(value.item() if isinstance(value, np.generic) else value)
    return out


def _text(value) -> str:
    """A safe text cell: characters XML cannot hold removed first, then neutralised.

    Removing first matters: ``"\\x01=1+1"`` would otherwise become ``=1+1``
    after openpyxl's own cleaning, and run as a formula.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return neutralise(text)[:_MAX_CELL]


def _width(name: str, values: list, low: int = 8, high: int = 60) -> float:
    longest = max((len(str(v)) if not isinstance(v, float) else 10
                   for v in values if v is not None), default=0)
    return float(min(max(len(name) + 2, longest + 2, low), high))


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- the strategy sheet ---------------------------------------------------------------------------

def _strategy_frame(result: SegmentationResult,
                   personas: tuple[Persona, ...] | None = None) -> pd.DataFrame:
    """The Summary sheet's table: one row per persona, the engine's figures.

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona, optional
        Default ``result.personas``.

    Returns
    -------
    DataFrame
        Segment, Persona, Customers, Share of customers; Share of revenue
        when the file has spend; an "Average ..." column per cheat-sheet
        figure (see :func:`segmentation.describe.explore.cheat_sheet`); then Top
        traits, Why this name, Preferred channel, Offer, Channels, Tone,
        Products and Budget note (a text column empty for every persona is
        left out). Rows in segment order. Shares are fractions (0.25 = 25 %).
        ``attrs["formats"]`` gives each figure column's format.
    """
    personas = checked_personas(result, personas)
    seg = result.segmentation
    sheet = cheat_sheet(result.profiles, personas)
    described = cheat_sheet_columns(result.profiles, sheet)
    figures = {c: (_HEADERS.get(c) or header.replace("Avg ", "Average ", 1), fmt)
               for c, (header, fmt) in described.items()
               if c not in {"segment", "persona", "size", "share", "preferred_channel"}}
    sheet = sheet.set_index("segment")
    rows = []
    for p in personas:
        s = p.segment
        row = {"Segment": s, "Persona": p.name, "Customers": int(seg.sizes[s]),
               "Share of customers": float(seg.shares[s])}
        row.update({header: _number(sheet.loc[s, c]) for c, (header, _) in figures.items()})
        row.update({
            "Top traits": "; ".join(p.traits),
            "Why this name": "; ".join(c.text for c in p.claims),
            "Preferred channel": _channel(p.preferred_channel),
            "Offer": p.offer,
            "Channels": p.channels,
            "Tone": p.tone,
            "Products": p.products,
            "Budget note": p.treatment,
        })
        rows.append(row)
    table = pd.DataFrame(rows)
    # A text column nobody has anything in (no channel, no product) is left out.
    empty = [c for c in _TEXT_COLUMNS if c not in _ALWAYS and not table[c].astype(bool).any()]
    table = table.drop(columns=empty)
    table.attrs["formats"] = {"Customers": "int", "Share of customers": "pct1",
                              **{h: fmt for h, fmt in figures.values()}}
    return table


def _profile_frame(result: SegmentationResult, segment: int) -> pd.DataFrame:
    """One segment against everyone: one row per profiled variable, in catalogue order.

    Parameters
    ----------
    result : SegmentationResult
    segment : int

    Returns
    -------
    DataFrame
        Columns variable, label, group, kind, clustered (bool), mean,
        population_mean, z (NaN where the variable does not vary in the
        population).
    """
    profiles = result.profiles
    names = [n for n in profiles.z.columns if n in profiles.variables]
    return pd.DataFrame({
        "variable": names,
        "label": [profiles.variables[n].label for n in names],
        "group": [profiles.variables[n].group for n in names],
        "kind": [profiles.variables[n].kind for n in names],
        "clustered": [n in profiles.features for n in names],
        "mean": [float(profiles.means.loc[segment, n]) for n in names],
        "population_mean": [float(profiles.population_mean[n]) for n in names],
        "z": [float(profiles.z.loc[segment, n]) for n in names],
    })


def strategy_sheet_xlsx(result: SegmentationResult,
                        personas: tuple[Persona, ...] | None = None) -> bytes:
    """The workbook a marketing team works from.

    A "Summary" sheet with one row per persona (:data:`SUMMARY_COLUMNS`),
    then one sheet per persona, named after it (see :func:`_sheet_titles`),
    with its description, key figures, rules (:data:`RULES_HEADING`), strategy
    and its profile against all customers (:data:`PROFILE_COLUMNS`). Every text
    cell is neutralised.

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona, optional
        The personas with the user's edits; default ``result.personas``.

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    personas = checked_personas(result, personas)
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    _write_summary(ws, _strategy_frame(result, personas), result)
    titles = _sheet_titles([p.name for p in personas], [p.segment for p in personas])
    rules = persona_rules(result)
    for p, title in zip(personas, titles, strict=True):
        _write_persona(wb.create_sheet(title), result, p, rules.for_segment(p.segment))
    return _save(wb)


def _sheet_titles(names: list[str], segments: list[int],
                 reserved: tuple[str, ...] = (SUMMARY_SHEET,)) -> list[str]:
    """Valid, unique Excel sheet names for persona names.

    Excel forbids ``[ ] : * ? / \\``, names over 31 characters, a leading or
    trailing apostrophe and "History", and compares names ignoring case.
    Forbidden characters become spaces; leading formula characters go too
    (a sheet name is never a formula, but some tools quote it into one); a
    long name is cut at 31 characters without a dangling comma or "&"; a
    name left empty becomes "Segment N"; a repeat gets " (2)", " (3)" ...

    Parameters
    ----------
    names : list of str
    segments : list of int
        The segment of each name, for the "Segment N" fallback.
    reserved : tuple of str
        Sheet names already taken.

    Returns
    -------
    list of str

    Examples
    --------
    >>> _sheet_titles(["Wine: & Meat / Lovers", "Summary", "=x"], [0, 1, 2])
    ['Wine & Meat Lovers', 'Summary (2)', 'x']
    """
    used = {r.lower() for r in reserved}
    out = []
    for name, segment in zip(names, segments, strict=True):
        text = ILLEGAL_CHARACTERS_RE.sub("", _TITLE_FORBIDDEN.sub(" ", str(name)))
        text = " ".join(text.split()).lstrip("=+-@'\t\r ")
        base = text[:_MAX_TITLE].rstrip(_TITLE_TAIL)
        if not base or base.lower() == "history":
            base = f"Segment {segment}"
        title, k = base, 1
        while title.lower() in used:
            k += 1
            suffix = f" ({k})"
            title = base[:_MAX_TITLE - len(suffix)].rstrip(_TITLE_TAIL) + suffix
        used.add(title.lower())
        out.append(title)
    return out


def _write_summary(ws, table: pd.DataFrame, result: SegmentationResult) -> None:
    formats = {c: _EXCEL_FORMATS[f] for c, f in table.attrs.get("formats", {}).items()}
    widths = {"Segment": 9, "Persona": 34, "Customers": 11, "Top traits": 48, "Offer": 44,
              "Why this name": 48,
              "Channels": 24, "Tone": 30, "Products": 22, "Budget note": 44,
              "Preferred channel": 12}
    for j, col in enumerate(table.columns, start=1):
        _header(ws.cell(1, j), col)
        ws.column_dimensions[get_column_letter(j)].width = widths.get(col, 14)
        for i, value in enumerate(table[col].tolist(), start=2):
            cell = ws.cell(i, j)
            _put(cell, value, formats.get(col))
            cell.alignment = _WRAP if isinstance(value, str) else _TOP
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(table.shape[1])}{len(table) + 1}"
    # The run, below the table, so a printed sheet says what it was made from.
    row = len(table) + 3
    seg = result.segmentation
    for label, value, fmt in (("Data file", result.raw.name, None),
                              ("Customers segmented", int(seg.labels.size), _THOUSANDS),
                              ("Data lines read", int(result.features.report.rows_read),
                               _THOUSANDS),
                              ("Segments", int(seg.n_clusters), None)):
        ws.cell(row, 1, label).font = _BOLD
        _put(ws.cell(row, 2), value, fmt)
        row += 1


def _write_persona(ws, result: SegmentationResult, p: Persona,
                   rules: SegmentRules | None = None) -> None:
    seg = result.segmentation
    revenue = result.profiles.sizes.set_index("segment").loc[p.segment, "revenue_share"]
    last = len(PROFILE_COLUMNS)
    widths = (34, 16, 16, 16, 20, 13)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    title = ws.cell(1, 1)
    _put(title, p.name)
    title.font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    row = 3
    facts = (("Segment", p.segment, None), ("Customers", int(seg.sizes[p.segment]), _THOUSANDS),
             ("Share of customers", float(seg.shares[p.segment]), _PERCENT),
             *((("Share of revenue", _number(revenue), _PERCENT),)
               if _number(revenue) is not None else ()))
    for label, value, fmt in facts:
        ws.cell(row, 1, label).font = _BOLD
        _put(ws.cell(row, 2), value, fmt)
        ws.cell(row, 2).alignment = Alignment(horizontal="left")
        row += 1
    row += 1
    text_rows = (("Description", p.description),
                 ("Why this name", "; ".join(c.text for c in p.claims)),
                 ("Top traits", "; ".join(p.traits)),
                 *(((RULES_HEADING, _rules_text(rules)),) if rules is not None else ()),
                 *((label, getattr(p, field)) for label, field in STRATEGY_FIELDS),
                 ("Preferred channel", _channel(p.preferred_channel)),
                 ("Budget note", p.treatment))
    text_rows = tuple((label, value) for label, value in text_rows
                      if value or label in {"Description", "Top traits", "Budget note"})
    text_width = sum(widths[1:])
    for label, value in text_rows:
        ws.cell(row, 1, label).font = _BOLD
        ws.cell(row, 1).alignment = _TOP
        cell = ws.cell(row, 2)
        _put(cell, value)
        cell.alignment = _WRAP
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=last)
        # Excel does not grow merged rows to fit wrapped text: size them here.
        lines = max(1, math.ceil(len(str(value or "")) * 1.1 / text_width))
        ws.row_dimensions[row].height = 15 * lines
        row += 1
    row += 1
    heading = ws.cell(row, 1, PROFILE_HEADING)
    heading.font = Font(bold=True, size=12)
    row += 1
    for j, col in enumerate(PROFILE_COLUMNS, start=1):
        _header(ws.cell(row, j), col)
    ws.row_dimensions[row].height = 30
    for rec in _profile_frame(result, p.segment).itertuples(index=False):
        row += 1
        fmt = _mean_format(rec.kind)
        _put(ws.cell(row, 1), rec.label)
        _put(ws.cell(row, 2), _number(rec.mean), fmt)
        _put(ws.cell(row, 3), _number(rec.population_mean), fmt)
        _put(ws.cell(row, 4), _number(rec.z), _Z_FORMAT)
        _put(ws.cell(row, 5), rec.group)
        _put(ws.cell(row, 6), "yes" if rec.clustered else "no")
    ws.sheet_view.showGridLines = False
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _rules_text(rules: SegmentRules) -> str:
    """The rules offered, one a line, then how well they hold on held-out customers."""
    return "\n".join([*(r.text for r in rules.shown), rules.verdict])


def _header(cell, text: str) -> None:
    _put(cell, text)
    cell.font = _BOLD
    cell.fill = _HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="center")


def _put(cell, value, number_format: str | None = None) -> None:
    """Write a value: text neutralised, numbers as numbers with their format."""
    if value is None:
        cell.value = None
    elif isinstance(value, str):
        cell.value = _text(value)
    else:
        cell.value = value.item() if isinstance(value, np.generic) else value
        if number_format:
            cell.number_format = number_format


def _mean_format(kind: str) -> str:
    if kind in _SHARE_KINDS:
        return _PERCENT
    return _THOUSANDS if kind in _MONEY_KINDS else _DECIMAL


def _number(value) -> float | None:
    """A finite float, or None for a missing figure (an empty cell)."""
    if value is None or value is pd.NA:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _channel(code: str | None) -> str:
    return CHANNEL_LABELS.get(code, str(code).title()) if code else ""


# --- the printable page ---------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #1d2533; margin: 0 auto; max-width: 1050px; padding: 24px; }
h1 { font-size: 20pt; margin: 0 0 4px; }
h2 { font-size: 15pt; margin: 0 0 8px; border-bottom: 2px solid #2f5d8a; padding-bottom: 4px; }
h3 { font-size: 11.5pt; margin: 16px 0 6px; color: #2f5d8a; }
.meta { color: #556070; margin: 0 0 18px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 12px; }
th, td { border-bottom: 1px solid #d8dde5; padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #dde4ee; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
.summary td:first-child { min-width: 16em; }
dl.fields { display: grid; grid-template-columns: 11em 1fr; gap: 4px 12px; margin: 0; }
dl.fields dt { font-weight: 600; }
dl.fields dd { margin: 0; }
.figures { display: flex; gap: 24px; margin: 8px 0 4px; }
.figures div { font-size: 9pt; color: #556070; }
.figures strong { display: block; font-size: 15pt; color: #1d2533; }
.description { margin: 6px 0; }
.bar { position: relative; width: 120px; height: 10px; background: #eef1f5; }
.bar span { position: absolute; top: 0; height: 10px; }
.bar .pos { background: #2f7d5a; } .bar .neg { background: #b5533c; }
.bar::after { content: ""; position: absolute; left: 50%; top: -2px; height: 14px;
              border-left: 1px solid #556070; }
section.persona { margin-top: 32px; }
nav ol { margin: 4px 0 18px; }
@media print {
  body { padding: 0; max-width: none; }
  nav { display: none; }
  section.persona { break-before: page; page-break-before: always; margin-top: 0; }
  tr, dl.fields, .figures { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def strategy_sheet_html(result: SegmentationResult,
                        personas: tuple[Persona, ...] | None = None) -> str:
    """The strategy sheet as one printable, self-contained HTML page.

    A summary table of the personas (their figures and preferred channel:
    the longer texts would not fit a printed row), then one section per
    persona, each printed on a new page, with its key figures, description,
    top traits, rules (:data:`RULES_HEADING`), strategy (offer, channels, tone,
    products, preferred channel,
    budget note) and its profile against all customers. No scripts, no external
    resources; every typed or uploaded text is escaped. Print it to PDF from
    any browser.

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona, optional
        The personas with the user's edits; default ``result.personas``.

    Returns
    -------
    str
        The HTML document (encode it as UTF-8 to save or serve it).
    """
    personas = checked_personas(result, personas)
    table = _strategy_frame(result, personas)
    seg = result.segmentation
    e = _esc
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{STRATEGY_SHEET_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Segment strategy sheet: {e(result.raw.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>Segment strategy sheet</h1>",
        f'<p class="meta">Data file: {e(result.raw.name)} · '
        f"{seg.labels.size:,} customers segmented of {result.features.report.rows_read:,} "
        f"data lines read · {seg.n_clusters} segments</p></header>",
        '<nav><ol>' + "".join(f'<li><a href="#segment-{p.segment}">{e(p.name)}</a></li>'
                              for p in personas) + "</ol></nav>",
        '<section class="summary"><h2>Summary</h2>',
        _html_summary(table),
        "</section>",
    ]
    formats = table.attrs.get("formats", {})
    rules = persona_rules(result)
    for p, row in zip(personas, table.to_dict("records"), strict=True):
        parts.append(_html_persona(result, p, row, formats, rules.for_segment(p.segment)))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_format(code: str):
    return {"int": _fmt_int, "pct1": _fmt_pct, "num0": _fmt_int, "num1": _fmt_dec,
            "num2": _fmt_dec2}[code]


def _html_summary(table: pd.DataFrame) -> str:
    formats = table.attrs.get("formats", {})
    # The longer texts would not fit a printed row: figures and the preferred channel only.
    cols = [("Persona", None), *((c, _html_format(f)) for c, f in formats.items()),
            *((("Preferred channel", None),) if "Preferred channel" in table else ())]
    head = "".join(f'<th{"" if fmt is None else " class=num"}>{_esc(c)}</th>'
                   for c, fmt in cols)
    body = []
    for row in table.to_dict("records"):
        cells = []
        for col, fmt in cols:
            if fmt is None:
                cells.append(f"<td>{_esc(row[col])}</td>")
            else:
                cells.append(f'<td class="num">{_esc(fmt(row[col]))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_persona(result: SegmentationResult, p: Persona, row: dict,
                  formats: dict[str, str], rules: SegmentRules | None = None) -> str:
    e = _esc
    figures = "".join(
        f"<div><strong>{e(_html_format(fmt)(row[label]))}</strong>{e(_figure_label(label))}"
        "</div>" for label, fmt in formats.items())
    fields = [(label, getattr(p, field)) for label, field in STRATEGY_FIELDS]
    fields += [("Preferred channel", row.get("Preferred channel", "")),
               ("Budget note", p.treatment)]
    strategy = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in fields if v)
    claims = "".join(f"<li>{e(c.text)}</li>" for c in p.claims)
    traits = "".join(f"<li>{e(t)}</li>" for t in p.traits) or "<li>none stands out</li>"
    profile_rows = []
    for rec in _profile_frame(result, p.segment).itertuples(index=False):
        fmt = _html_mean_format(rec.kind)
        profile_rows.append(
            f"<tr><td>{e(rec.label)}</td><td class=num>{e(fmt(rec.mean))}</td>"
            f"<td class=num>{e(fmt(rec.population_mean))}</td>"
            f"<td class=num>{e(_fmt_z(rec.z))}</td><td>{_bar(rec.z)}</td>"
            f"<td>{e(rec.group)}</td><td>{'yes' if rec.clustered else 'no'}</td></tr>")
    head = ("<tr><th>Variable</th><th class=num>Persona mean</th>"
            "<th class=num>Population mean</th><th class=num>Standardized difference (z)</th>"
            "<th></th><th>Group</th><th>Clustered on</th></tr>")
    return (
        f'<section class="persona" id="segment-{p.segment}">'
        f"<h2>{e(p.name)}</h2>"
        f'<p class="meta">Segment {p.segment}</p>'
        f'<div class="figures">{figures}</div>'
        f'<p class="description">{e(p.description)}</p>'
        + (f"<h3>Why this name</h3><ul>{claims}</ul>" if claims else "")
        + f"<h3>Top traits</h3><ul>{traits}</ul>"
        + (_html_rules(rules) if rules is not None else "")
        + f'<h3>{e(STRATEGY_HEADING)}</h3><dl class="fields">{strategy}</dl>'
        f"<h3>{e(PROFILE_HEADING)}</h3>"
        f"<table><thead>{head}</thead><tbody>{''.join(profile_rows)}</tbody></table>"
        "</section>"
    )


def _html_rules(rules: SegmentRules) -> str:
    """The rules offered and the sentence on how well they hold, every label escaped."""
    items = "".join(f"<li>{_esc(r.text)}</li>" for r in rules.shown)
    return (f"<h3>{_esc(RULES_HEADING)}</h3>" + (f"<ul>{items}</ul>" if items else "")
            + f'<p class="rules-verdict">{_esc(rules.verdict)}</p>')


def _figure_label(header: str) -> str:
    """A summary header as the caption under a big figure ("Share of revenue" → "of revenue")."""
    if header == "Customers":
        return "customers"
    if header == "Average recency (days)":
        return "days since last purchase"
    return header.removeprefix("Share ").replace("Average ", "average ", 1)


def _bar(z: float) -> str:
    """A small diverging bar: half the track is 2 standard deviations."""
    if not math.isfinite(z):
        return ""
    width = min(abs(z), 2.0) / 2.0 * 50.0
    left = 50.0 if z >= 0 else 50.0 - width
    side = "pos" if z >= 0 else "neg"
    return (f'<div class="bar"><span class="{side}" '
            f'style="left:{left:.1f}%;width:{width:.1f}%"></span></div>')


# The printable sheet runs no script and loads nothing: even a name that slipped through
# escaping could not run code or call out (the report's policy, with no script allowed).
STRATEGY_SHEET_CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; "
                      "img-src data:; font-src data:; base-uri 'none'; form-action 'none'")


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _finite(value) -> bool:
    return value is not None and value is not pd.NA and math.isfinite(float(value))


def _fmt_int(value) -> str:
    return f"{float(value):,.0f}" if _finite(value) else "–"


def _fmt_dec(value) -> str:
    return f"{float(value):,.1f}" if _finite(value) else "–"


def _fmt_dec2(value) -> str:
    return f"{float(value):,.2f}" if _finite(value) else "–"


def _fmt_pct(value) -> str:
    return f"{float(value):.1%}" if _finite(value) else "–"


def _fmt_z(value) -> str:
    return f"{float(value):+.2f}" if _finite(value) else "–"


def _html_mean_format(kind: str):
    if kind in _SHARE_KINDS:
        return _fmt_pct
    return _fmt_int if kind in _MONEY_KINDS else _fmt_dec
