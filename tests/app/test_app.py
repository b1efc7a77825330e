"""The studio app driven page by page with Streamlit's AppTest.

Every figure a page shows is checked against an independent engine run
(``segmentation.run`` with the equivalent ``RunConfig``). Moving between
pages is done with ``switch_page``, which keeps the session as the sidebar
does. Data editors are edited by setting their edit state before a rerun;
the pages apply pending edits when they render.
"""

from __future__ import annotations

import html
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui.cache
import ui.state
from segmentation import RunConfig, SegmentationError, read_table, run
from segmentation.data.dataset import load_dataset
from segmentation.data.roles import ROLE_LABELS, Role
from segmentation.prepare.features import REASON_MISSING, PrepConfig, prepare, variables_of
from segmentation.prepare.variables import default_features
from tests.helpers import planted_customers, to_tsv_bytes
from tests.helpers.pages import explore_tabs, open_tab
from ui.flow import md

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
HOME, DATA, VARIABLES = "pages/home.py", "pages/data.py", "pages/variables.py"
PERSONAS, EXPLORE = "pages/personas.py", "pages/explore.py"
METRIC_COLUMNS = {"Inertia (WCSS)": "inertia", "Silhouette": "silhouette",
                  "Calinski–Harabasz": "calinski_harabasz", "Davies–Bouldin": "davies_bouldin",
                  "Smallest segment": "min_share"}
NEW_NAME = "Weekend Treat Seekers"


# ---------------------------------------------------------------- helpers

def ok(at: AppTest) -> AppTest:
    """Fail with the app's stack trace when the last run raised."""
    assert not at.exception, "\n".join(
        "\n".join(e.stack_trace) or e.message for e in at.exception)
    return at


def start() -> AppTest:
    return ok(AppTest.from_file(APP, default_timeout=60).run())


def go(at: AppTest, page: str) -> AppTest:
    return ok(at.switch_page(page).run())


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, f"{len(found)} tables with a {column!r} column"
    return found[0]


def excluded_of(at: AppTest) -> dict[str, str]:
    """The Data page's "Columns excluded from clustering", {column: why}."""
    table = frame_with(at, "why")
    return dict(zip(table["column"], table["why"], strict=True))


def k_table(at: AppTest) -> pd.DataFrame:
    return frame_with(at, "Inertia (WCSS)")


def assert_k_table(at: AppTest, sweep) -> None:
    shown = k_table(at)
    assert shown["K"].tolist() == sweep.metrics["k"].tolist()
    np.testing.assert_allclose(shown[list(METRIC_COLUMNS)].to_numpy(float),
                               sweep.metrics[list(METRIC_COLUMNS.values())].to_numpy(float))


def edit(at: AppTest, editor: str, rows: dict[int, dict]) -> AppTest:
    """Set an edit on a data editor (by row position) and rerun the page."""
    key = f"w.{editor}.{at.session_state[f'{editor}.version']}"
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return ok(at.run())


def set_role(at: AppTest, column: str, role: Role) -> AppTest:
    columns = frame_with(at, "role")["column"].tolist()
    return edit(at, "roles", {columns.index(column): {"role": ROLE_LABELS[role]}})


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="w.upload").upload(name, data)
    return ok(at.run())


def chart_text(element) -> str:
    """Every string in a plotly chart's figure JSON, one per line."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(element.proto.spec))
    return "\n".join(out)


def charts(at: AppTest) -> list[str]:
    return [chart_text(el) for el in at.get("plotly_chart")]


def explore_charts(at: AppTest) -> list[str]:
    """Every Explore chart's strings, tab by tab (each tab draws only when open)."""
    return [text for _ in explore_tabs(at) for text in charts(ok(at))]


def shown(name: str) -> str:
    """A persona name as the charts write it (they escape "&" and "<")."""
    return html.escape(name, quote=False)


def names_of(result) -> list[str]:
    return [p.name for p in result.personas]


def sizes_of(result) -> list[int]:
    return [int(s) for s in result.segmentation.sizes]


def engine_error(name: str, data: bytes, sheet: str | None = None) -> str:
    try:
        load_dataset(read_table(data, name=name, sheet=sheet))
    except SegmentationError as exc:
        return str(exc)
    pytest.fail(f"the engine reads {name} without an error")


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, f"{len(found)} buttons labelled {label!r}"
    return found[0]


# ---------------------------------------------------------------- engine runs

@pytest.fixture(scope="module")
def sample(sample_path):
    return run(sample_path)


@pytest.fixture(scope="module")
def recency(sample) -> str:
    variables = variables_of(sample.dataset)
    return next(n for n, v in variables.items() if v.kind == "recency")


@pytest.fixture(scope="module")
def no_recency(sample_path, sample, recency):
    variables = variables_of(sample.dataset)
    features = tuple(f for f in default_features(variables) if f != recency)
    return run(sample_path, RunConfig(prep=PrepConfig(features=features)))


@pytest.fixture(scope="module")
def no_recency_other_k(sample_path, no_recency):
    k = 4 if no_recency.sweep.recommended_k != 4 else 5
    return run(sample_path, replace(no_recency.config, k=k))


@pytest.fixture(scope="module")
def log_scaled(sample_path):
    return run(sample_path, RunConfig(prep=PrepConfig(scaling="log")))


@pytest.fixture(scope="module")
def planted_bytes() -> bytes:
    return to_tsv_bytes(planted_customers())


# ---------------------------------------------------------------- 1. every page

def test_every_page_renders_the_engines_figures_on_the_sample(sample):
    seg, ds, sweep = sample.segmentation, sample.dataset, sample.sweep
    at = start()
    assert metrics(at) == {"Customers segmented": f"{seg.labels.size:,}",
                           "Segments (K)": str(sample.chosen_k),
                           "Silhouette": f"{seg.silhouette:.2f}"}
    home = frame_with(at, "Persona")
    assert home["Persona"].tolist() == names_of(sample)
    assert home["Customers"].tolist() == sizes_of(sample)

    go(at, DATA)
    shown_metrics = metrics(at)
    assert shown_metrics["Rows read"] == f"{ds.rows_read:,}"
    assert shown_metrics["Customers kept"] == f"{ds.n_customers:,}"
    roles = frame_with(at, "role")
    assert roles["column"].tolist() == list(ds.roles)
    assert roles["role"].tolist() == [ROLE_LABELS[Role(r)] for r in ds.roles.values()]
    assert not errors(at)

    go(at, VARIABLES)
    info = [i.value for i in at.info]
    assert len(info) == 1
    assert f"K = {sweep.recommended_k}" in info[0] and sweep.reason in info[0]
    assert at.button_group(key="w.k").value == sweep.recommended_k
    assert_k_table(at, sweep)

    go(at, PERSONAS)
    sheet = frame_with(at, "persona")
    assert len(sheet) == sample.chosen_k
    assert sheet["persona"].tolist() == names_of(sample)
    assert sheet["size"].tolist() == sizes_of(sample)

    go(at, EXPLORE)
    assert len(at.get("plotly_chart")) == 1  # the first tab's chart: only the open tab is drawn
    profiles = sample.profiles
    expected = (4 + bool(profiles.first("income")) + (len(profiles.kind("spend")) > 1)
                + bool(profiles.kind("channel")))
    shown_per_tab = {}
    for label in explore_tabs(at):
        ok(at)
        assert not errors(at), label
        shown_per_tab[label] = len(at.get("plotly_chart"))
    assert sum(shown_per_tab.values()) == expected >= 6
    assert set(shown_per_tab.values()) == {1}, shown_per_tab


# ---------------------------------------------------------------- 2. the journey

def test_variables_then_k_then_rename_reaches_every_page(sample, recency, no_recency,
                                                         no_recency_other_k):
    at = go(start(), VARIABLES)
    group = variables_of(sample.dataset)[recency].group
    at.multiselect(key=f"w.features.{group}").unselect(recency)
    ok(at.run())
    assert recency not in at.session_state["vars.features"]
    assert_k_table(at, no_recency.sweep)
    assert not np.allclose(k_table(at)["Inertia (WCSS)"], sample.sweep.metrics["inertia"])
    assert no_recency.sweep.reason in at.info[0].value
    caption = next(c.value for c in at.caption if c.value.startswith("Clustering on"))
    labels = [no_recency.features.variables[f].label for f in no_recency.features.features]
    assert caption == f"Clustering on {len(labels)} variables: {', '.join(labels)}."

    result = no_recency_other_k
    k = result.chosen_k
    assert k != no_recency.sweep.recommended_k
    at.button_group(key="w.k").set_value(k)
    ok(at.run())
    assert at.session_state["k.choice"] == k

    go(at, HOME)
    assert metrics(at)["Segments (K)"] == str(k)
    assert metrics(at)["Silhouette"] == f"{result.segmentation.silhouette:.2f}"
    assert frame_with(at, "Persona")["Persona"].tolist() == names_of(result)

    old_charts = explore_charts(go(at, EXPLORE))

    go(at, PERSONAS)
    sheet = frame_with(at, "persona")
    assert sheet["persona"].tolist() == names_of(result)
    assert sheet["size"].tolist() == sizes_of(result)
    row = k - 1  # the last row, so a position/segment mix-up would show
    segment = int(frame_with(at, "name").loc[row, "segment"])
    old_name, size = names_of(result)[segment], sizes_of(result)[segment]
    named = [i for i, text in enumerate(old_charts) if shown(old_name) in text]
    assert len(named) >= 4  # value ranking, income box, channel mix, profile heatmap, map ...

    edit(at, "personas", {row: {"name": NEW_NAME}})
    table = frame_with(at, "name")
    assert table.set_index("segment").loc[segment, "name"] == NEW_NAME
    assert any(m.value.startswith(f"**{NEW_NAME}**") for m in at.markdown)

    new_charts = explore_charts(go(at, EXPLORE))
    assert [i for i, text in enumerate(new_charts) if NEW_NAME in text] == named
    assert not any(shown(old_name) in text for text in new_charts)
    open_tab(at, "Bought together")
    assert NEW_NAME in at.selectbox(key="w.explore.corr_scope").options

    go(at, HOME)
    home = frame_with(at, "Persona").set_index("Persona")
    assert home.loc[NEW_NAME, "Customers"] == size
    assert home.loc[NEW_NAME, "Segment"] == segment

    go(at, PERSONAS)
    sheet = frame_with(at, "persona")
    expected_names = [NEW_NAME if s == segment else n for s, n in enumerate(names_of(result))]
    assert sheet["persona"].tolist() == expected_names
    assert sheet.set_index("persona").loc[NEW_NAME, "size"] == size

    # The name belongs to the segment's profile: at another K it follows the segment
    # holding the same customers, if one matches, and the others keep their suggestions;
    # back at this K it is on the same segment again.
    go(at, VARIABLES)
    at.button_group(key="w.k").set_value(no_recency.sweep.recommended_k)
    ok(at.run())
    go(at, PERSONAS)
    other = frame_with(at, "persona")["persona"].tolist()
    suggested = names_of(no_recency)
    assert [n for n, s in zip(other, suggested, strict=True) if n != NEW_NAME] == \
        [s for n, s in zip(other, suggested, strict=True) if n != NEW_NAME]
    if NEW_NAME in other:
        moved = other.index(NEW_NAME)
        renamed_ids = set(result.segmentation.customer_ids[result.segmentation.labels == segment])
        seg_other = no_recency.segmentation
        carrying_ids = set(seg_other.customer_ids[seg_other.labels == moved])
        assert len(renamed_ids & carrying_ids) > 0.5 * len(carrying_ids)
    go(at, VARIABLES)
    at.button_group(key="w.k").set_value(k)
    ok(at.run())
    go(at, PERSONAS)
    assert frame_with(at, "persona")["persona"].tolist() == expected_names


# ---------------------------------------------------------------- 3. bad uploads

BAD_UPLOADS = {
    "empty": ("empty.csv", b""),
    "binary": ("blob.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    "header-only": ("header.csv", None),  # the sample's header line, filled in below
    "one-row": ("one.csv", b"id,income,visits\n1,100,3\n"),
    "identical-rows": ("same.csv", b"id,income,visits\n"
                                   + b"".join(b"%d,100,3\n" % i for i in range(500))),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_shows_the_engines_error_everywhere_and_the_sample_restores(
        case, sample, sample_bytes):
    name, data = BAD_UPLOADS[case]
    if data is None:
        data = sample_bytes.splitlines(keepends=True)[0]
    message = engine_error(name, data)

    if case in ("one-row", "identical-rows"):  # what is wrong, not "no numeric column"
        assert ("only 1 customer row" if case == "one-row" else "are identical") in message
    at = go(start(), DATA)
    upload(at, name, data)
    assert errors(at) == [md(message)]
    assert at.session_state["data.source"] == "upload"
    for page in (HOME, PERSONAS, EXPLORE, DATA):
        go(at, page)
        assert errors(at) == [md(message)], page

    button(at, "Use the bundled sample").click()
    ok(at.run())
    assert not errors(at)
    assert at.session_state["data.source"] == "sample"
    assert metrics(at)["Rows read"] == f"{sample.dataset.rows_read:,}"
    go(at, HOME)
    assert not errors(at)
    assert metrics(at)["Segments (K)"] == str(sample.chosen_k)


def test_a_workbook_with_its_table_on_the_second_sheet(tmp_path):
    planted = planted_customers(seed=3)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        writer.book.create_sheet("About").append(["Customer export, see the next sheet"])
        planted.to_excel(writer, sheet_name="Customers", index=False)
    data = buffer.getvalue()
    raw = read_table(data, name="book.xlsx")
    at = go(start(), DATA)
    upload(at, "book.xlsx", data)
    assert not errors(at)
    assert metrics(at)["Rows read"] == f"{len(planted):,}" == f"{raw.rows_read:,}"
    assert md(raw.notes[0]) in [i.value for i in at.info]
    assert "Read sheet 'Customers' of book.xlsx" in raw.notes[0]


def test_the_sheet_of_a_workbook_is_chosen_on_the_data_page():
    small, large = planted_customers(n=120, seed=4), planted_customers(n=300, seed=5)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        writer.book.create_sheet("About").append(["Two exports, one per sheet"])
        small.to_excel(writer, sheet_name="Spring", index=False)
        large.to_excel(writer, sheet_name="Autumn", index=False)
    data = buffer.getvalue()
    at = go(start(), DATA)
    upload(at, "book.xlsx", data)
    chooser = at.selectbox(key=f"w.sheet.{at.session_state['data.fingerprint'][:12]}")
    assert chooser.options == ["About", "Spring", "Autumn"]
    assert chooser.value == "Spring"  # the first sheet holding a table
    assert metrics(at)["Rows read"] == "120"
    chooser.set_value("Autumn")
    ok(at.run())
    assert not errors(at)
    assert at.session_state["data.sheet"] == "Autumn"
    assert metrics(at)["Rows read"] == "300"
    expected = run(read_table(data, sheet="Autumn"), RunConfig(sheet="Autumn"))
    go(at, HOME)
    assert metrics(at)["Segments (K)"] == str(expected.chosen_k)
    go(at, DATA)  # the choice survives a page switch
    assert metrics(at)["Rows read"] == "300"
    chooser = at.selectbox(key=f"w.sheet.{at.session_state['data.fingerprint'][:12]}")
    assert chooser.value == "Autumn"
    chooser.set_value("About")  # no table there: the engine's sentence, and the way back
    ok(at.run())
    assert errors(at) == [md(engine_error("book.xlsx", data, sheet="About"))]
    at.selectbox(key=chooser.key).set_value("Spring")
    ok(at.run())
    assert not errors(at) and metrics(at)["Rows read"] == "120"


def test_a_utf16_export_with_a_latin1_line_reads_with_a_note():
    lines = ["id\tstatus\tincome"] + [f"{i}\t{'Célibataire' if i % 2 else 'Marié'}\t{i * 97 % 500}"
                                       for i in range(1, 61)]
    utf16 = b"\xff\xfe" + "\r\n".join(lines).encode("utf-16-le")
    at = go(start(), DATA)
    upload(at, "unicode.txt", utf16)
    assert not errors(at)
    assert metrics(at)["Rows read"] == "60"
    assert any("Read as utf-16 text, tab-separated" in c.value for c in at.caption)
    mixed = "\n".join(lines[:5]).encode() + "\n".join(["", *lines[5:]]).encode("latin-1")
    message = read_table(mixed, name="mixed.tsv").notes[0]
    upload(at, "mixed.tsv", mixed)
    assert not errors(at)
    assert md(message) in [i.value for i in at.info]
    assert message.startswith("56 lines of mixed.tsv are not valid UTF-8 (lines 6, 7, 8, 9, 10")


# ---------------------------------------------------------------- 4. the real export

@pytest.mark.realdata
def test_the_real_export_through_the_uploader(real_path):
    result = run(real_path)
    at = go(start(), DATA)
    upload(at, real_path.name, real_path.read_bytes())
    assert not errors(at)
    assert metrics(at)["Rows read"] == "2,240" == f"{result.dataset.rows_read:,}"
    missing = frame_with(at, "imputed").set_index("column")
    assert missing.loc["Income", "missing"] == 24 == result.features.report.missing["Income"]
    assert missing.loc["Income", "imputed"] == 24 == result.features.report.imputed["Income"]
    assert {"Z_CostContact", "Z_Revenue"} <= set(excluded_of(at))
    assert excluded_of(at) == result.dataset.excluded_columns

    go(at, VARIABLES)
    assert at.button_group(key="w.k").value == result.sweep.recommended_k
    assert 3 <= result.sweep.recommended_k <= 5
    assert md(result.sweep.reason) in at.info[0].value
    assert_k_table(at, result.sweep)

    go(at, PERSONAS)
    assert frame_with(at, "persona")["persona"].tolist() == names_of(result)
    assert frame_with(at, "persona")["size"].tolist() == sizes_of(result)


# ---------------------------------------------------------------- 5. column roles

def test_correcting_a_role_recomputes_the_data_page(sample_path):
    raw = read_table(sample_path)
    at = go(start(), DATA)
    assert "Complain" not in excluded_of(at)

    set_role(at, "Complain", Role.IGNORE)
    assert at.session_state["data.roles"] == {"Complain": "ignore"}
    assert at.session_state["vars.features"] is None
    roles = frame_with(at, "role").set_index("column")["role"]
    assert roles["Complain"] == ROLE_LABELS[Role.IGNORE]
    expected = load_dataset(raw, roles={"Complain": "ignore"}).excluded_columns
    assert excluded_of(at) == expected
    assert "Complain" in expected

    # A second correction lands on its own row, and both are kept.
    set_role(at, "Response", Role.IGNORE)
    assert at.session_state["data.roles"] == {"Complain": "ignore", "Response": "ignore"}
    assert {"Complain", "Response"} <= set(excluded_of(at))

    button(at, "Restore the detected roles").click()
    ok(at.run())
    assert at.session_state["data.roles"] == {}
    assert excluded_of(at) == load_dataset(raw).excluded_columns


# ---------------------------------------------------------------- 6. preparation choices

def test_scaling_and_missing_policy_change_the_run_and_outlive_the_page(sample_path, sample,
                                                                        log_scaled):
    at = go(start(), VARIABLES)
    at.radio(key="w.scaling").set_value("log")
    ok(at.run())
    assert at.session_state["vars.scaling"] == "log"
    assert_k_table(at, log_scaled.sweep)
    assert not np.allclose(k_table(at)["Inertia (WCSS)"], sample.sweep.metrics["inertia"])

    go(at, HOME)
    assert metrics(at) == {"Customers segmented": f"{log_scaled.segmentation.labels.size:,}",
                           "Segments (K)": str(log_scaled.chosen_k),
                           "Silhouette": f"{log_scaled.segmentation.silhouette:.2f}"}
    go(at, VARIABLES)
    assert at.radio(key="w.scaling").value == "log"
    assert_k_table(at, log_scaled.sweep)

    at.radio(key="w.missing").set_value("drop")
    ok(at.run())
    assert at.session_state["vars.missing"] == "drop"
    fm = prepare(load_dataset(read_table(sample_path)), PrepConfig(scaling="log", missing="drop"))
    assert fm.report.dropped[REASON_MISSING] > 0

    go(at, DATA)
    not_segmented = frame_with(at, "reason").set_index("reason")["rows"]
    assert not_segmented.to_dict() == fm.report.dropped
    go(at, VARIABLES)
    assert at.radio(key="w.scaling").value == "log"
    assert at.radio(key="w.missing").value == "drop"
    assert at.radio(key="w.outliers").value == "clip"


# ---------------------------------------------------------------- 7. composites

def test_a_correlated_pair_is_combined_with_one_click(planted_bytes, sample):
    name = "planted.tsv"
    ds = load_dataset(read_table(planted_bytes, name=name))
    suggestion = next(s for s in prepare(ds).report.correlated
                      if {s.a, s.b} == {"MntWines", "MntMeatProducts"})
    assert abs(suggestion.r) >= 0.75
    pair = (suggestion.a, suggestion.b)
    combined = prepare(ds, PrepConfig(composites=(pair,)))

    at = go(start(), DATA)
    upload(at, name, planted_bytes)
    go(at, VARIABLES)
    assert suggestion.message in [w.value for w in at.warning]
    combine = at.button(key=f"w.combine.{suggestion.name}")
    assert combine.label == f"Combine into '{suggestion.label}'"
    combine.click()
    ok(at.run())

    assert at.session_state["vars.composites"] == (pair,)
    caption = next(c.value for c in at.caption if c.value.startswith("Clustering on"))
    listed = caption.split(": ", 1)[1].removesuffix(".").split(", ")
    assert listed == [combined.variables[f].label for f in combined.features]
    assert suggestion.label in listed
    assert not {combined.variables[f].label for f in pair} & set(listed)
    assert suggestion.message not in [w.value for w in at.warning]
    assert f"w.combine.{suggestion.name}" not in [b.key for b in at.button]

    # Choices about one file's columns do not carry over to another file.
    go(at, DATA)
    button(at, "Use the bundled sample").click()
    ok(at.run())
    assert at.session_state["vars.composites"] == ()
    go(at, VARIABLES)
    caption = next(c.value for c in at.caption if c.value.startswith("Clustering on"))
    assert suggestion.label not in caption
    assert_k_table(at, sample.sweep)


# ---------------------------------------------------------------- 8. caching

def test_page_switches_and_renames_do_not_rerun_the_engine(monkeypatch):
    calls = {"sweep_k": 0, "assemble": 0}

    def counted(name, func):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return func(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ui.cache, "sweep_k", counted("sweep_k", ui.cache.sweep_k))
    monkeypatch.setattr(ui.cache, "assemble", counted("assemble", ui.cache.assemble))
    st.cache_data.clear()
    st.cache_resource.clear()  # the stages up to the segmentation are server resources

    at = start()
    assert calls == {"sweep_k": 1, "assemble": 1}  # the patch is the one the app calls

    timings = {}
    for page in (DATA, VARIABLES, PERSONAS, EXPLORE, HOME, PERSONAS):
        began = time.perf_counter()
        go(at, page)
        timings[page] = time.perf_counter() - began
    began = time.perf_counter()
    edit(at, "personas", {0: {"name": NEW_NAME}})
    timings["rename"] = time.perf_counter() - began
    go(at, EXPLORE)
    assert any(NEW_NAME in text for text in charts(at))
    assert calls == {"sweep_k": 1, "assemble": 1}

    go(at, VARIABLES)
    k_control = at.button_group(key="w.k")
    ks = [int(option.split()[0]) for option in k_control.options]  # "3 ★" marks the recommended
    k_control.set_value(next(k for k in ks if k != k_control.value))
    ok(at.run())
    assert calls == {"sweep_k": 1, "assemble": 2}  # moving K does not re-sweep
    print("seconds per step after the first load:",
          {k: round(v, 2) for k, v in timings.items()})
    assert max(timings.values()) < 5


@pytest.fixture
def fresh_caches():
    """Empty server caches before the test, and again after: what it made under a patch
    must not reach a later test."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_k_panel_ends_with_the_checked_recommendation_marked(monkeypatch, fresh_caches,
                                                                 sample, recency, no_recency):
    """The K panel draws the sweep's own charts while the split-half check runs, then the
    checked ones: when the check moves the recommendation, both charts mark the new K and
    the quality by K gains the agreement panel. The check runs once per set of variables."""
    calls = {"sweep_k": 0, "add_stability": 0}
    real_sweep, real_check = ui.cache.sweep_k, ui.cache.add_stability

    def sweep_k(*args, **kwargs):
        calls["sweep_k"] += 1
        return real_sweep(*args, **kwargs)

    def add_stability(sweep, fm):
        calls["add_stability"] += 1
        checked = real_check(sweep, fm)
        # Another K than the sweep's own pick, as a check that finds it does not replicate.
        moved = next(k for k in checked.metrics["k"] if k != sweep.recommended_k)
        return replace(checked, recommended_k=int(moved))

    monkeypatch.setattr(ui.cache, "sweep_k", sweep_k)
    monkeypatch.setattr(ui.cache, "add_stability", add_stability)
    at = go(start(), VARIABLES)
    assert calls == {"sweep_k": 1, "add_stability": 1}
    group = variables_of(sample.dataset)[recency].group
    at.multiselect(key=f"w.features.{group}").unselect(recency)
    ok(at.run())
    assert calls == {"sweep_k": 2, "add_stability": 2}
    config = no_recency.config
    swept = real_sweep(no_recency.features, config.k_values, config.random_state,
                       config.n_init)
    recommended = int(at.button_group(key="w.k").value)
    assert recommended != swept.recommended_k
    infos = [i.value for i in at.info]
    assert infos[0].startswith(f"**Recommended: K = {recommended}.**")
    assert not any("Checking that each K" in text for text in infos)
    elbow, quality = charts(at)[:2]
    for text in (elbow, quality):
        assert f"Chosen K = {recommended}" in text
        assert f"Chosen K = {swept.recommended_k}" not in text
    assert "Split-half agreement" in quality
    go(at, HOME)
    go(at, VARIABLES)
    assert calls == {"sweep_k": 2, "add_stability": 2}  # a revisit neither sweeps nor checks


# ---------------------------------------------------------------- bugs found

def test_ignoring_a_combined_column_recomputes(planted_bytes):
    at = go(start(), DATA)
    upload(at, "planted.tsv", planted_bytes)
    go(at, VARIABLES)
    at.button(key="w.combine.MntWines+MntMeatProducts").click()
    ok(at.run())
    go(at, DATA)
    columns = frame_with(at, "role")["column"].tolist()
    key = f"w.roles.{at.session_state['roles.version']}"
    at.session_state[key] = {"edited_rows": {columns.index("MntWines"):
                                             {"role": ROLE_LABELS[Role.IGNORE]}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    go(at, HOME)
    assert not errors(at)


def test_restoring_the_standard_set_after_weighting_an_extra_variable():
    at = go(start(), VARIABLES)
    at.multiselect(key="w.features.Channels").select("NumDealsPurchases")
    ok(at.run())
    at.number_input(key="w.weight.NumDealsPurchases").set_value(2.0)
    ok(at.run())
    assert not errors(at)
    button(at, "Restore the standard set").click()
    ok(at.run())
    assert at.session_state["vars.features"] is None
    assert not errors(at)
    go(at, HOME)
    assert not errors(at)


def test_ignoring_a_weighted_column_recomputes(recency):
    at = go(start(), VARIABLES)
    at.number_input(key=f"w.weight.{recency}").set_value(2.0)
    ok(at.run())
    go(at, DATA)
    set_role(at, recency, Role.IGNORE)
    assert not errors(at)
    go(at, HOME)
    assert not errors(at)


def test_a_rename_stays_in_its_own_session(sample):
    first = go(start(), PERSONAS)
    edit(first, "personas", {0: {"name": NEW_NAME}})
    assert frame_with(first, "name").loc[0, "name"] == NEW_NAME

    second = go(start(), PERSONAS)  # another user opening the app in the same server
    assert frame_with(second, "persona")["persona"].tolist() == names_of(sample)
    assert second.session_state["personas.records"] == ()
