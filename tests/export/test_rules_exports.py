"""The strategy sheet and the report carry each persona's rules, with hostile column names
escaped in HTML and neutralised in Excel."""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook

from report.html import build_report
from segmentation import run
from segmentation.describe.rules import persona_rules
from segmentation.export.strategy import (
    RULES_HEADING,
    strategy_sheet_html,
    strategy_sheet_xlsx,
)
from segmentation.validate.stability import bootstrap_stability, split_half
from tests.helpers import CHEAP, to_tsv_bytes
from tests.helpers.hostile import HOSTILE_COLUMNS, hostile_customers

FORMULA, FUNCTION, SCRIPT = HOSTILE_COLUMNS


@pytest.fixture(scope="module")
def hostile_run():
    result = run(to_tsv_bytes(hostile_customers()), CHEAP, name="hostile.tsv")
    rules = persona_rules(result)
    shown = [r for s in rules.segments for r in s.shown]
    # The planted groups are told apart by the hostile columns only, so the rules name them.
    named = " ".join(r.text for r in shown)
    assert FORMULA in named and SCRIPT in named
    return result, rules


def _section(text: str, start: str, end: str) -> str:
    at = text.index(start)
    return text[at:text.index(end, at + len(start))]


def test_strategy_sheet_html_has_every_rule_escaped(hostile_run):
    result, rules = hostile_run
    page = strategy_sheet_html(result)
    assert "<script>alert" not in page
    assert html.escape(SCRIPT) in page
    for s in rules.segments:
        persona = _section(page, f'id="segment-{s.segment}"', "</section>")
        block = _section(persona, f"<h3>{RULES_HEADING}</h3>", "<h3>")
        assert re.findall(r"<li>(.*?)</li>", block) == [html.escape(r.text) for r in s.shown]
        assert html.escape(s.verdict) in block


def test_strategy_sheet_xlsx_neutralises_rules_that_start_with_a_formula(hostile_run):
    result, rules = hostile_run
    wb = load_workbook(io.BytesIO(strategy_sheet_xlsx(result)))
    cells = {}
    for ws in wb.worksheets[1:]:
        segment = next(row[1].value for row in ws.iter_rows() if row[0].value == "Segment")
        cells[segment] = next(row[1].value for row in ws.iter_rows()
                              if row[0].value == RULES_HEADING)
    assert sorted(cells) == [s.segment for s in rules.segments]
    formula_first = 0
    for s in rules.segments:
        lines = cells[s.segment].splitlines()
        expected = [*(r.text for r in s.shown), s.verdict]
        assert [line.removeprefix("'") for line in lines] == expected
        for line, text in zip(lines, expected, strict=True):
            if text.startswith(("=", "@")):
                assert line == "'" + text  # shown as text, never run as a formula
                formula_first += 1
    assert formula_first, "a rule starting with a hostile column name was written"


def test_report_lists_every_rule_escaped(hostile_run):
    result, rules = hostile_run
    split = split_half(result.features, result.chosen_k, 0, 1)
    boot = bootstrap_stability(result.features, result.segmentation, 3, 0, 1)
    page = build_report(result, split=split, bootstrap=boot)
    section = _section(page, '<section id="rules">', "</section>")
    assert "<script>alert" not in section
    assert html.escape(rules.method) in section
    items = re.findall(r"<li>(.*?)</li>", section)
    assert items == [html.escape(r.text) for s in rules.segments for r in s.shown]
    for s in rules.segments:
        assert html.escape(s.verdict) in section
