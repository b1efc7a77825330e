"""Every page, export and the report on customer files that are not the marketing export.

Each shape of ``tests/helpers/shapes.py`` is uploaded on the Data page and every page is
visited in the same session: no page may raise or show an error, no text, table
or chart may read "None" or "nan", and no chart may be empty.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from segmentation import read_table, run
from segmentation.describe.explore import category_mix, category_variables, cheat_sheet
from tests.helpers.pages import PLAN, open_tab, views
from tests.helpers.shapes import ALL_SHAPES, to_bytes

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = ("pages/home.py", "pages/data.py", "pages/variables.py", "pages/personas.py",
         "pages/explore.py", "pages/validate.py", "pages/compare.py", "pages/plan.py",
         "pages/export.py")
MISSING_WORD = re.compile(r"\b(None|nan|NaN)\b")
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "text", "info",
                 "warning", "success", "code")



def _texts(at: AppTest) -> list[str]:
    """Every string a page shows: texts, metrics, table headers and cells."""
    out = [str(e.value) for kind in TEXT_ELEMENTS for e in getattr(at, kind)]
    out += [f"{m.label} {m.value}" for m in at.metric]
    for element in at.dataframe:
        frame = element.value
        out += [str(c) for c in frame.columns]
        for column in frame.columns:
            # A missing cell is drawn as "None" by the table widget.
            if frame[column].isna().any():
                out.append(f"{column}: None")
            if frame[column].dtype == object:
                out += [str(v) for v in frame[column]]
    return out


def _chart_problems(at: AppTest) -> list[str]:
    problems = []
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        title = str(spec.get("layout", {}).get("title", {}).get("text", ""))
        if not _has_data(spec.get("data", [])):
            problems.append(f"empty chart: {title}")
        shown = [t.get(k) for t in spec.get("data", []) for k in ("x", "y", "text", "name")]
        if MISSING_WORD.search(json.dumps(shown) + title):
            problems.append(f"'None' or 'nan' in chart: {title}")
    return problems


def _has_data(traces: list[dict]) -> bool:
    def filled(values) -> bool:
        if isinstance(values, dict):  # sankey nodes, binary-packed arrays
            return bool(values)
        if not isinstance(values, list):
            return False
        flat = [v for row in values for v in (row if isinstance(row, list) else [row])]
        return any(v is not None for v in flat)

    return any(filled(t.get(k)) for t in traces for k in ("x", "y", "z", "q1", "values",
                                                           "node"))


def _assert_clean(at: AppTest, where: str) -> None:
    assert not at.exception, where + ": " + "\n".join(
        "\n".join(e.stack_trace) or e.message for e in at.exception)
    assert not [e.value for e in at.error], f"{where}: {[e.value for e in at.error]}"
    bad = [t for t in _texts(at) if MISSING_WORD.search(t)]
    assert not bad, f"{where} shows a missing value: {bad[:5]}"
    assert not _chart_problems(at), f"{where}: {_chart_problems(at)}"


@pytest.fixture(scope="module", params=sorted(ALL_SHAPES))
def shape(request) -> tuple[str, bytes]:
    generator, sep = ALL_SHAPES[request.param]
    return request.param, to_bytes(generator(), sep)


def test_every_page_adapts_to_the_columns_of_the_file(shape):
    name, data = shape
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="w.upload").upload(f"{name}.csv", data).run()
    assert at.session_state["data.source"] == "upload"
    for page in PAGES:
        for where in views(at, page):
            _assert_clean(at, f"{name} {where}")


def test_data_page_shows_kind_role_and_reason_of_every_column(shape):
    name, data = shape
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="w.upload").upload(f"{name}.csv", data).run()
    table = next(d.value for d in at.dataframe if "because" in d.value.columns)
    raw = read_table(data, name=f"{name}.csv")
    assert table["column"].tolist() == [str(c) for c in raw.frame.columns]
    assert table["kind"].astype(bool).all() and table["because"].astype(bool).all()


@pytest.fixture(scope="module")
def bank_result():
    generator, sep = ALL_SHAPES["bank"]
    return run(read_table(to_bytes(generator(), sep), name="bank.csv"))


def test_cheat_sheet_has_only_what_the_file_has(bank_result):
    sheet = cheat_sheet(bank_result.profiles, bank_result.personas)
    assert not {"revenue_share", "avg_wine", "avg_meat", "avg_total_spend",
                "preferred_channel"} & set(sheet.columns)
    assert not sheet.isna().any().any()
    for variable in bank_result.features.features:
        assert f"avg_{variable}" in sheet.columns or variable == "Income"
    assert "avg_y" in sheet.columns  # the outcome
    assert "avg_balance" in sheet.columns  # money


def test_category_mix_shares_add_up_per_segment(bank_result):
    profiles = bank_result.profiles
    names = {p.segment: p.name for p in bank_result.personas}
    assert "job" in category_variables(profiles)
    mix = category_mix(profiles, names, "job")
    totals = mix.groupby("segment")["share"].sum()
    assert totals.round(6).tolist() == [1.0] * profiles.n_segments


def test_report_and_strategy_sheets_read_clean(bank_result):
    from report.html import build_report
    from segmentation.export.strategy import strategy_sheet_html, strategy_sheet_xlsx

    page = build_report(bank_result, bank_result.personas)
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert not MISSING_WORD.search(re.sub(r"<[^>]+>", " ", text))
    for p in bank_result.personas:
        for claim in p.claims:
            assert claim.text.replace("&", "&amp;") in page
    printable = strategy_sheet_html(bank_result)
    assert not MISSING_WORD.search(re.sub(r"<[^>]+>", " ", printable))
    assert "Why this name" in printable
    book = load_workbook(io.BytesIO(strategy_sheet_xlsx(bank_result)))
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and MISSING_WORD.search(value)), value
    header = [c.value for c in book["Summary"][1]]
    assert "Share of revenue" not in header and "Preferred channel" not in header
    assert "Why this name" in header


def test_assignments_have_no_missing_word(bank_result):
    from segmentation.export.assignments import customer_assignments
    from segmentation.export.strategy import assignments_csv

    table = pd.read_csv(io.BytesIO(assignments_csv(customer_assignments(bank_result))),
                        dtype=str, keep_default_na=False)
    assert not table.apply(lambda c: c.str.fullmatch(r"None|nan|NaN")).any().any()


def _uploaded(name: str) -> AppTest:
    generator, sep = ALL_SHAPES[name]
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/data.py").run()
    return at.file_uploader(key="w.upload").upload(f"{name}.csv",
                                                   to_bytes(generator(), sep)).run()


def test_a_column_label_typed_on_the_data_page_names_the_personas():
    at = _uploaded("wholesale")
    table = next(d.value for d in at.dataframe if "because" in d.value.columns)
    row = table["column"].tolist().index("Fresh")
    key = f"w.roles.{at.session_state['roles.version']}"
    at.session_state[key] = {"edited_rows": {row: {"label": "Fresh produce"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert at.session_state["data.labels"] == {"Fresh": "Fresh produce"}
    at.switch_page("pages/personas.py").run()
    assert not at.exception
    names = next(d.value for d in at.dataframe if "name" in d.value.columns)["name"]
    assert any("Fresh produce" in n for n in names)


def test_plan_without_money_says_so_and_still_sizes_the_test():
    at = _uploaded("wholesale")
    at.switch_page("pages/plan.py").run()
    _assert_clean(at, "plan")
    assert any("no money column" in i.value for i in at.info)
    columns = {c for d in at.dataframe for c in d.value.columns}
    assert "clv" not in columns and "baseline" in columns
    open_tab(at, "A/B test per segment", PLAN)
    _assert_clean(at, "plan [A/B test]")
    columns = {c for d in at.dataframe for c in d.value.columns}
    assert "needed_per_arm" in columns  # the A/B sizing needs only segments and a rate


def test_plan_baseline_is_each_segments_rate_of_the_outcome(bank_result):
    at = _uploaded("bank")
    at.switch_page("pages/plan.py").run()
    _assert_clean(at, "plan")
    assert at.selectbox(key="w.plan.outcome").value == "y"
    assert at.selectbox(key="w.plan.money").value == "balance"
    baseline = next(d.value for d in at.dataframe if "baseline" in d.value.columns)
    labels = bank_result.segmentation.labels
    y = bank_result.features.frame["y"].to_numpy(float)
    for row in baseline.itertuples():
        assert row.baseline == pytest.approx(y[labels == row.segment].mean())
