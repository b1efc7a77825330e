"""Every page, the exports and the report on an order log (one row per order line).

The log of ``tests/helpers/logs.py`` is uploaded on the Data page: it is recognised,
totalled per customer, and every page reads clean. The Data page's line
accounting is the engine's, and the reading choices (input kind, column
mapping, reference date) reach the engine.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from segmentation import SegmentationError, run
from segmentation.cluster.rfm import CELLS
from segmentation.data.customer_file import fingerprint
from segmentation.data.dataset import load_dataset
from segmentation.data.orders import read_customers
from tests.app.test_any_schema_pages import APP, MISSING_WORD, PAGES, _assert_clean
from tests.helpers.logs import order_log, to_bytes
from tests.helpers.pages import explore_tabs, views
from ui.flow import md

NAME = "orders.csv"


@pytest.fixture(scope="module")
def log_bytes() -> bytes:
    return to_bytes(order_log(n_customers=300))


@pytest.fixture(scope="module")
def log_result(log_bytes):
    return run(log_bytes, name=NAME)


def _uploaded(data: bytes) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/data.py").run()
    return at.file_uploader(key="w.upload").upload(NAME, data).run()


def _key(widget: str, data: bytes) -> str:
    """A reading widget's key: it carries the file's fingerprint, so a new file starts fresh."""
    return f"w.{widget}.{fingerprint(data)[:12]}"


def _values(values) -> list:
    """A trace's values, whether plain or binary-packed as plotly stores arrays."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).tolist()
    return list(values)


def test_every_page_reads_clean_on_an_order_log(log_bytes):
    at = _uploaded(log_bytes)
    assert at.session_state["data.source"] == "upload"
    for page in PAGES:
        for where in views(at, page):
            _assert_clean(at, f"order log {where}")


def test_data_page_says_it_is_a_log_and_accounts_for_every_line(log_bytes):
    at = _uploaded(log_bytes)
    _assert_clean(at, "data")
    raw = read_customers(log_bytes, name=NAME)
    log = raw.log
    assert md(raw.notes[0]) in [i.value for i in at.info]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Lines read"] == f"{log.lines_read:,}"
    assert metrics["Lines aggregated"] == f"{log.lines_aggregated:,}"
    assert metrics["Customers"] == f"{len(log.customers):,}"
    assert metrics["Return lines netted"] == f"{log.return_lines:,}"
    dropped = next(d.value for d in at.dataframe if "reason" in d.value.columns
                   and "lines" in d.value.columns)
    assert dict(zip(dropped["reason"], dropped["lines"], strict=True)) == log.dropped
    assert log.lines_read == log.lines_aggregated + int(dropped["lines"].sum())
    assert any(f"{log.missing_id_revenue:,.2f}" in c.value for c in at.caption)
    preview = next(d.value for d in at.dataframe if "recency_days" in d.value.columns)
    assert preview["customer_id"].tolist() == log.customers["customer_id"].head(20).tolist()
    # The mapping shown is the one used.
    for field, column in log.mapping.items():
        assert at.selectbox(key=f"{_key('log_map', log_bytes)}.{field}").value == column


def test_reading_a_log_as_customers_gives_the_engine_sentence_then_can_be_undone(log_bytes):
    at = _uploaded(log_bytes)
    kind = _key("input_kind", log_bytes)
    at.radio(key=kind).set_value("customers").run()
    assert not at.exception
    with pytest.raises(SegmentationError) as expected:
        load_dataset(read_customers(log_bytes, kind="customers", name=NAME))
    assert [e.value for e in at.error] == [md(str(expected.value))]
    at.switch_page("pages/personas.py").run()
    assert not at.exception and [e.value for e in at.error] == [md(str(expected.value))]
    at.switch_page("pages/data.py").run()
    at.radio(key=kind).set_value("auto").run()
    _assert_clean(at, "data read as auto again")
    assert at.session_state["data.input_kind"] == "auto"


def test_a_customer_file_read_as_order_lines_is_refused_in_one_sentence(sample_bytes):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/data.py").run()
    assert not [s.value for s in at.subheader if s.value == "Order log"]
    at.radio(key=_key("input_kind", sample_bytes)).set_value("transactions").run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value


def test_a_changed_mapping_and_reference_date_reach_the_engine(log_bytes):
    at = _uploaded(log_bytes)
    category = f"{_key('log_map', log_bytes)}.category"
    at.selectbox(key=category).set_value("Description").run()
    _assert_clean(at, "category from Description")
    assert at.session_state["data.log_map"] == {"category": "Description"}
    at.date_input(key=_key("reference_date", log_bytes)).set_value(dt.date(2025, 3, 1)).run()
    _assert_clean(at, "reference date")
    assert at.session_state["data.reference_date"] == "2025-03-01"
    expected = read_customers(log_bytes, mapping={"category": "Description"},
                              reference_date="2025-03-01", name=NAME).log
    preview = next(d.value for d in at.dataframe if "recency_days" in d.value.columns)
    assert preview.columns.tolist() == expected.customers.columns.tolist()
    assert preview["recency_days"].tolist() == [
        f"{v:,.0f}" for v in expected.customers["recency_days"].head(20)]
    at.switch_page("pages/personas.py").run()
    _assert_clean(at, "personas with the new reading")


def test_personas_page_shows_the_rfm_grid_of_every_customer(log_bytes, log_result):
    at = _uploaded(log_bytes)
    at.switch_page("pages/personas.py").run()
    _assert_clean(at, "personas")
    grid = next(d.value for d in at.dataframe if "RFM cell" in d.value.columns)
    assert set(grid["RFM cell"]) <= set(CELLS)
    assert int(grid.drop(columns="RFM cell").to_numpy().sum()) == 300
    assert grid.columns.tolist()[1:] == [p.name for p in log_result.personas]


def test_explore_shows_rfm_spreads_grid_and_the_mixes_of_the_log(log_bytes):
    at = _uploaded(log_bytes)
    at.switch_page("pages/explore.py").run()
    _assert_clean(at, "explore")
    specs = []
    for label in explore_tabs(at):
        _assert_clean(at, f"explore [{label}]")
        specs += [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    titles = [s["layout"]["title"]["text"] for s in specs]
    for measure in ("Days since last order", "Orders", "Net spend"):
        assert any(t.startswith(f"{measure} by persona") for t in titles), measure
    heatmap = next(s for s in specs if "RFM grid" in s["layout"]["title"]["text"])
    counts = [int(v) for row in heatmap["data"][0]["text"] for v in row]
    assert sum(counts) == 300
    for title in ("Spend by product category", "Orders by channel"):
        mix = next(s for s in specs if s["layout"]["title"]["text"].startswith(title))
        per_persona = {}
        for trace in mix["data"]:
            for persona, share in zip(_values(trace["x"]), _values(trace["y"]), strict=True):
                per_persona[persona] = per_persona.get(persona, 0) + share
        assert all(abs(total - 100) < 1e-6 for total in per_persona.values()), title


def test_assignments_carry_the_rfm_cell_in_csv_and_excel(log_result):
    from segmentation.export.assignments import customer_assignments
    from segmentation.export.strategy import assignments_csv, assignments_xlsx

    frame = customer_assignments(log_result)
    assert len(frame) == 300 and frame["rfm_cell"].isin(CELLS).all()
    assert frame["rfm"].str.fullmatch(r"[1-5]{3}").all()
    table = pd.read_csv(io.BytesIO(assignments_csv(frame)), dtype=str, keep_default_na=False)
    assert {"r", "f", "m", "rfm", "rfm_cell"} <= set(table.columns)
    sheet = load_workbook(io.BytesIO(assignments_xlsx(frame)))["Assignments"]
    assert "rfm_cell" in [c.value for c in sheet[1]]


def test_report_has_an_order_log_section_that_counts_every_line(log_result):
    from report.html import build_report

    log = log_result.dataset.log
    page = build_report(log_result)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "",
                                                               page, flags=re.S)))
    assert 'id="orders"' in page and 'id="rfm-table"' in page
    assert f"Lines of no customer {log.dropped['line without a customer id']:,}" in text
    assert f"Lines read {log.lines_read:,}" in text
    assert not MISSING_WORD.search(text)
