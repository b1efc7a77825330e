"""The HTML report: every section, the engine's numbers, one chart per div, nothing run or
loaded that the report did not put there itself."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from report.html import SECTIONS, build_report, write_report
from segmentation import RunConfig, SegmentationError, run
from segmentation.cli import main
from segmentation.describe.explore import cheat_sheet, cheat_sheet_columns
from segmentation.export.strategy import _strategy_frame
from segmentation.prepare.features import PrepConfig
from segmentation.validate.stability import bootstrap_stability, split_half
from tests.helpers import ROOT, SAMPLE_PATH, planted_customers, to_tsv_bytes

# The charts of the sample's report, in page order: what drives the segments (1), the K panel
# (3), how segments split as K grows (1), Explore (7), stability (1).
CHARTS = ["drivers", "elbow", "k-metrics", "silhouette", "splits", "spend-ranking", "income-box",
          "spend-correlation", "channel-mix", "channel-share", "profile-heatmap", "pca-map",
          "stability"]
HOSTILE_NAMES = ("<script>alert(1)</script>", "</script><img src=x onerror=alert(1)>")
SHOTS = ROOT / "tests" / "screenshots"


class Page(HTMLParser):
    """The parts of a report a test looks at, as a browser's parser would see them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.headings: list[tuple[str, str]] = []
        self.section_ids: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text_of: dict[str, str] = {}  # section id -> its visible text
        self._script: list[str] | None = None
        self._heading: list[str] | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._section: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "script":
            self._script = []
            self.scripts.append((attrs, ""))
        elif tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "section":
            self._section = attrs.get("id")
            self.section_ids.append(self._section)
            self.text_of[self._section] = ""
        elif tag == "table":
            self._table = attrs.get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts[-1] = (self.scripts[-1][0], "".join(self._script))
            self._script = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((tag, "".join(self._heading).strip()))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
            return
        for part in (self._heading, self._cell):
            if part is not None:
                part.append(data)
        if self._section:
            self.text_of[self._section] += data

    def h(self, level: str) -> list[str]:
        return [text for tag, text in self.headings if tag == level]

    def table(self, table_id: str) -> tuple[list[str], list[list[str]]]:
        header, *rows = self.tables[table_id]
        return header, rows

    def chart_divs(self) -> list[str]:
        return [a["id"] for t, a in self.tags
                if t == "div" and "plotly-graph-div" in (a.get("class") or "").split()]


def stability_of(result, n_boot: int):
    cfg = result.config
    return (split_half(result.features, result.chosen_k, cfg.random_state, cfg.n_init),
            bootstrap_stability(result.features, result.segmentation, n_boot,
                                cfg.random_state, cfg.n_init))


@pytest.fixture(scope="module")
def stability(sample_result):
    return stability_of(sample_result, n_boot=10)


@pytest.fixture(scope="module")
def report_text(sample_result, stability):
    split, boot = stability
    return build_report(sample_result, split=split, bootstrap=boot)


@pytest.fixture(scope="module")
def page(report_text) -> Page:
    return Page(report_text)


@pytest.fixture(scope="module")
def hostile(sample_result, stability):
    """A report whose personas were renamed and rewritten with markup."""
    personas = list(sample_result.personas)
    personas[0] = dataclasses.replace(personas[0], name=HOSTILE_NAMES[0])
    personas[1] = dataclasses.replace(personas[1], name=HOSTILE_NAMES[1],
                                      offer='<iframe src="https://evil.example/"></iframe>')
    personas[2] = dataclasses.replace(personas[2], tone='" onmouseover="alert(2)',
                                      description="<a href='javascript:alert(3)'>x</a>")
    split, boot = stability
    text = build_report(sample_result, tuple(personas), split=split, bootstrap=boot,
                        title="<svg onload=alert(4)>")
    return text, Page(text)


def number(cell: str) -> tuple[float, int]:
    """A displayed number and its decimal places: "1,492" -> (1492.0, 0), "24.5%" -> (24.5, 1)."""
    digits = cell.replace(",", "").rstrip("%")
    return float(digits), len(digits.partition(".")[2])


def found_in(text: str, *needles: str) -> list[str]:
    """The needles present in ``text`` (a list, so a failure does not print megabytes)."""
    return [n for n in needles if n in text]


def chart_scripts(page: Page) -> str:
    return "".join(body for _, body in page.scripts[1:])


def assert_only_report_scripts(page: Page, n_charts: int) -> None:
    """plotly.js once, in the head, then exactly one plotly call per chart; nothing else."""
    assert len(page.scripts) == 1 + n_charts
    first_attrs, plotly_js = page.scripts[0]
    assert first_attrs == {} and "plotly.js v" in plotly_js[:200]
    divs = page.chart_divs()
    assert len(divs) == n_charts
    for (attrs, body), div in zip(page.scripts[1:], divs, strict=True):
        assert attrs == {}
        assert body.count("Plotly.newPlot(") == 1 and f'"{div}"' in body
        # plotly's JSON escapes "/", so no string in a figure can close its script.
        assert "</" not in body


# --- structure ---


def test_every_section_in_order(page):
    assert page.section_ids == [key for key, _ in SECTIONS]
    assert page.h("h2") == [heading for _, heading in SECTIONS]
    assert page.h("h1") == ["Customer segmentation report"]
    for key, _ in SECTIONS:
        assert any(t == "a" and a.get("href") == f"#{key}" for t, a in page.tags)


def test_one_plotly_div_per_chart_and_one_script_each(page):
    assert page.chart_divs() == [f"chart-{c}" for c in CHARTS]
    assert_only_report_scripts(page, len(CHARTS))


def test_self_contained_no_request_anywhere(page, report_text):
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed", "img"), tag
        if tag == "script":
            assert "src" not in attrs
        for name in ("src", "href", "action", "data"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), (tag, name, value)
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)
    # The policy allows exactly the report's scripts (by hash) and no network at all.
    policy = next(a["content"] for t, a in page.tags
                  if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in policy
    allowed = set(re.findall(r"'sha256-([^']+)'", policy))
    hashes = {base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
              for _, body in page.scripts}
    assert allowed == hashes
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert re.search(r"<script[^>]*\bsrc\s*=", report_text, re.IGNORECASE) is None


def test_data_section_accounts_for_every_row(page, sample_result):
    text = page.text_of["data"]
    assert sample_result.raw.name in text
    assert "2,240" in text  # rows read and customers segmented
    header, rows = page.table("missing-table")
    assert rows == [["Income", "24", "24"]]
    header, rows = page.table("excluded-table")
    assert {r[0]: r[1] for r in rows} == sample_result.dataset.excluded_columns
    header, rows = page.table("outliers-table")
    assert {r[0]: r[1] for r in rows} == {"Income": "1", "Age": "3"}
    assert "clipped to the nearest plausible value" in text
    _, rows = page.table("roles-table")
    header = SAMPLE_PATH.read_text(encoding="utf-8").splitlines()[0].split("\t")
    assert [r[0] for r in rows] == header
    first = pd.read_csv(SAMPLE_PATH, sep="\t", dtype=str, nrows=3)
    assert rows[header.index("Income")][2] == ", ".join(first["Income"])


def test_variables_section_lists_labels_scaling_and_weights(page, sample_result):
    fm = sample_result.features
    header, rows = page.table("variables-table")
    assert header == ["#", "Variable", "From columns", "Group", "Scaling", "Weight"]
    assert [r[1] for r in rows] == [fm.variables[f].label for f in fm.features]
    assert {r[4] for r in rows} == {"z-score"} and {r[5] for r in rows} == {"1"}
    assert "z-score (mean 0, sd 1)" in page.text_of["variables"]


def test_k_section_gives_the_reason(page, sample_result):
    text = page.text_of["k"]
    assert f"Recommended: K = {sample_result.sweep.recommended_k}." in text
    assert sample_result.sweep.reason in text
    _, rows = page.table("k-table")
    assert [r[0] for r in rows] == [f"{k}{' (chosen)' if k == sample_result.chosen_k else ''}"
                                    for k in sample_result.sweep.metrics["k"]]


def test_profile_table_shows_the_engine_cheat_sheet(page, sample_result):
    sheet = cheat_sheet(sample_result.profiles, sample_result.personas)
    columns = {header: column for column, (header, _) in
               cheat_sheet_columns(sample_result.profiles, sheet).items()}
    header, rows = page.table("profile-table")
    assert header == list(columns)
    # The marketing export has what these need, so they are all there, in this order.
    fixed = ["Segment", "Persona", "Customers", "Share of customers", "Share of revenue",
             "Avg income", "Avg wine", "Avg meat", "Avg total spend", "Days since purchase"]
    assert header[:len(fixed)] == fixed and header[-1] == "Preferred channel"
    assert len(rows) == len(sheet)
    for row, (_, engine) in zip(rows, sheet.iterrows(), strict=True):
        for cell, title in zip(row, header, strict=True):
            value = engine[columns[title]]
            if isinstance(value, str):
                assert cell == value
                continue
            shown, places = number(cell)
            expected = value * 100 if cell.endswith("%") else float(value)
            # Equal to the engine's figure rounded to the places displayed.
            assert abs(shown - expected) <= 0.5 * 10 ** -places + 1e-9, (title, cell, value)


def test_stability_section_reports_the_numbers_passed_in(page, stability, sample_result):
    split, boot = stability
    text = page.text_of["stability"]
    assert f"{split.ari:.2f}" in text and split.verdict in text
    assert f"{boot.n_boot} resamples" in text
    _, rows = page.table("bootstrap-table")
    names = [p.name for p in sample_result.personas]
    assert [r[0] for r in rows] == names
    assert [r[1] for r in rows] == [f"{v:.2f}" for v in boot.per_segment["mean_jaccard"]]
    assert [r[2] for r in rows] == list(boot.per_segment["band"])
    _, rows = page.table("split-table")
    assert len(rows) == 2 * sample_result.chosen_k


def test_personas_with_their_strategies(page, sample_result):
    assert page.h("h3")[-len(sample_result.personas):] == [p.name for p in
                                                           sample_result.personas]
    text = page.text_of["personas"]
    for p in sample_result.personas:
        for value in (p.description, p.offer, p.channels, p.tone, p.products, p.treatment):
            assert value in text


def test_default_stability_is_computed_with_the_run_settings(sample_result):
    text = build_report(sample_result)
    page = Page(text)
    split, boot = stability_of(sample_result, n_boot=50)
    stab = page.text_of["stability"]
    assert "50 resamples" in stab and f"{split.ari:.2f}" in stab
    _, rows = page.table("bootstrap-table")
    assert [r[1] for r in rows] == [f"{v:.2f}" for v in boot.per_segment["mean_jaccard"]]


@pytest.mark.parametrize("segments", [[0, 1], [0, 0, 2], [0, 1, 2, 3]])
def test_personas_must_name_every_segment(sample_result, stability, segments):
    """The report refuses personas that do not fit the run in the sentence every export
    uses (the strategy sheet here), and as the engine's own error."""
    split, boot = stability
    personas = tuple(dataclasses.replace(sample_result.personas[i % 3], segment=i)
                     for i in segments)
    with pytest.raises(SegmentationError) as refused:
        build_report(sample_result, personas, split=split, bootstrap=boot)
    assert str(refused.value) == (f"The personas name segments {sorted(segments)} but this "
                                  "run has 3 segments: pass the personas of this run.")
    with pytest.raises(SegmentationError) as sheet:
        _strategy_frame(sample_result, personas)
    assert str(sheet.value) == str(refused.value)


# --- safety ---


def test_markup_in_persona_fields_is_text_never_markup(hostile):
    text, page = hostile
    allowed = {"html", "head", "meta", "title", "style", "script", "body", "header", "h1",
               "h2", "h3", "p", "nav", "ol", "li", "a", "main", "section", "div", "dl", "dt",
               "dd", "strong", "span", "table", "thead", "tbody", "tr", "th", "td", "article",
               "ul", "footer"}
    assert {t for t, _ in page.tags} <= allowed
    assert not [(t, a) for t, a in page.tags if any(k.startswith("on") for k in a)]
    assert_only_report_scripts(page, len(CHARTS))
    # Shown as typed: in the title, the headings, the profile table and the strategies.
    assert page.h("h1") == ["<svg onload=alert(4)>"]
    assert list(HOSTILE_NAMES) == page.h("h3")[-3:-1]
    _, rows = page.table("profile-table")
    assert [r[1] for r in rows[:2]] == list(HOSTILE_NAMES)
    assert '" onmouseover="alert(2)' in page.text_of["personas"]
    # plotly.js itself holds an SVG logo; everything else is the report's own markup.
    ours = text.replace(page.scripts[0][1], "")
    assert found_in(ours, "<script>alert", "<img", "<iframe", "<svg", "<a href='javascript") \
        == []
    # Chart text went through the charts' escaping, then plotly's JSON escaping.
    assert found_in(chart_scripts(page), "&lt;script&gt;alert(1)&lt;\\u002fscript&gt;") \
        == ["&lt;script&gt;alert(1)&lt;\\u002fscript&gt;"]


@pytest.fixture(scope="module")
def markup_upload():
    """An upload whose file name, one column name and one category value carry markup."""
    frame = planted_customers(300, seed=1)
    frame["<b>bold</b>"] = np.random.default_rng(0).normal(10, 2, len(frame)).round(2)
    frame.loc[0, "Education"] = "<i>PhD</i>"
    features = ("Income", "MntWines", "MntMeatProducts", "NumWebPurchases", "<b>bold</b>")
    config = RunConfig(prep=PrepConfig(features=features), k=3, k_min=2, k_max=3, n_init=2,
                       stability=False)
    result = run(to_tsv_bytes(frame), config, name="<img src=x onerror=alert(1)>.tsv")
    split, boot = stability_of(result, n_boot=5)
    text = build_report(result, split=split, bootstrap=boot)
    return result, text, Page(text)


def test_markup_in_an_uploaded_file_is_escaped(markup_upload):
    result, text, page = markup_upload
    assert "<b>bold</b>" in result.features.features
    assert not {"b", "i", "img"} & {t for t, _ in page.tags}
    _, rows = page.table("variables-table")
    assert ["<b>bold</b>", "<b>bold</b>"] in [r[1:3] for r in rows]
    assert found_in(text, "&lt;b&gt;bold&lt;/b&gt;", "<b>", "<i>", "<img") \
        == ["&lt;b&gt;bold&lt;/b&gt;"]
    _, rows = page.table("roles-table")
    education = next(r for r in rows if r[0] == "Education")
    assert education[2].startswith("<i>PhD</i>")
    assert "<img src=x onerror=alert(1)>.tsv" in page.text_of["data"]
    # The profile heatmap labels the column as typed, escaped for plotly.
    assert found_in(chart_scripts(page), "&lt;b&gt;bold&lt;\\u002fb&gt;")


# --- command line ---
# That writing a report loads no Streamlit is checked in a fresh interpreter by
# tests/architecture/test_import_boundary.py, which imports report.html through --report.


@pytest.mark.slow  # a command-line run with the report
def test_cli_run_report_writes_report_html(sample_path, tmp_path):
    out = tmp_path / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main(["run", str(sample_path), "--out", str(out), "--report", "--k", "3",
                   "--k-min", "2", "--k-max", "3", "--n-init", "2"])
    assert rc == 0, stderr.getvalue()
    path = out / "report.html"
    assert path.is_file()
    wrote = next(line for line in stdout.getvalue().splitlines() if line.startswith("Wrote "))
    assert str(path) in wrote
    page = Page(path.read_text(encoding="utf-8"))
    assert page.h("h2") == [heading for _, heading in SECTIONS]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    names = [s["persona"] for s in summary["segments"]]
    assert page.h("h3")[-len(names):] == names
    assert len(page.chart_divs()) == len(CHARTS)


@pytest.mark.slow  # a command-line run
def test_cli_run_without_report_writes_none(sample_path, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["run", str(sample_path), "--out", str(tmp_path), "--k", "2", "--k-min", "2",
                   "--k-max", "2", "--n-init", "1"])
    assert rc == 0
    assert not (tmp_path / "report.html").exists()


def test_write_report_failure_is_one_sentence(sample_result, stability, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    split, boot = stability
    with pytest.raises(SegmentationError, match="Cannot write"):
        write_report(sample_result, blocker / "report.html", split=split, bootstrap=boot)


# --- in a real browser ---


@pytest.mark.browser
def test_report_renders_offline_in_chromium(hostile, tmp_path):
    """Every chart draws, no script is blocked or fails, no dialog opens, no request is made."""
    from tools.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    text, _ = hostile
    path = tmp_path / "report.html"
    path.write_text(text, encoding="utf-8")
    problems, requests, dialogs = [], [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= "
                f"{len(CHARTS)}", timeout=30_000)
            drawn = page.evaluate("[...document.querySelectorAll('.plotly-graph-div')]"
                                  ".filter(d => d._fullLayout).length")
            if os.environ.get("REPORT_SCREENSHOT"):
                SHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert drawn == len(CHARTS)
    assert problems == [] and dialogs == []
    assert requests == [path.as_uri()]
