"""Customer lifetime on the Personas, Plan and Export pages, fitted only when asked.

The log of ``tests/helpers/logs.py`` is uploaded on the Data page and one session goes
Plan (no figures yet), Personas (the button), Plan, Export: the figures shown
and exported are the engine's own, computed here with the same settings. The
app fits once for the whole module; the first fit on a fresh machine compiles
for about a minute, hence the generous timeout.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from segmentation import SegmentationError, run
from segmentation.export.assignments import LIFETIME_COLUMNS
from segmentation.plan.lifetime import lifetime_by_segment, lifetime_of
from tests.app.test_any_schema_pages import APP, _assert_clean
from tests.helpers import capture_downloads
from tests.helpers.logs import order_log, to_bytes
from ui.flow import md

NAME = "orders.csv"
BUTTON = "Estimate customer lifetime (BG/NBD)"
TIMEOUT = 300  # the first fit in a fresh machine compiles PyTensor's code


def _button(at: AppTest):
    return next((b for b in at.button if b.label == BUTTON), None)


def _uploaded(data: bytes, name: str = NAME) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/data.py").run()
    return at.file_uploader(key="w.upload").upload(name, data).run()


def _lifetime_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "mean_p_alive" in d.value.columns)


@pytest.fixture(scope="module")
def log_bytes() -> bytes:
    return to_bytes(order_log(n_customers=300))


@pytest.fixture(scope="module")
def engine(log_bytes):
    """The engine's figures with the app's default settings."""
    result = run(log_bytes, name=NAME)
    lifetime = lifetime_of(result)
    seg = result.segmentation
    labels = pd.Series(seg.labels, index=seg.customer_ids.astype(str))
    return result, lifetime, lifetime_by_segment(lifetime, labels)


@pytest.fixture(scope="module")
def journey(log_bytes):
    """What each page showed along the way, and the Export page's files."""
    mp, captured = capture_downloads()
    seen = {}
    try:
        at = _uploaded(log_bytes)
        at.switch_page("pages/plan.py").run()
        _assert_clean(at, "plan before the estimate")
        seen["plan before"] = [c.value for c in at.caption]
        at.switch_page("pages/personas.py").run()
        _assert_clean(at, "personas before the estimate")
        seen["button"] = _button(at) is not None
        seen["captions before"] = [c.value for c in at.caption]
        _button(at).click().run()
        _assert_clean(at, "personas after the click")
        seen["table"] = _lifetime_table(at)
        seen["captions"] = [c.value for c in at.caption]
        at.run()  # a rerun without a click
        _assert_clean(at, "personas rerun")
        seen["rerun button"] = _button(at) is not None
        seen["rerun table"] = _lifetime_table(at)
        at.switch_page("pages/plan.py").run()
        _assert_clean(at, "plan after the estimate")
        seen["plan"] = [d.value for d in at.dataframe]
        seen["plan after"] = [c.value for c in at.caption]
        captured.clear()
        at.switch_page("pages/export.py").run()
        _assert_clean(at, "export after the estimate")
        seen["files"] = {}
        for button in at.get("download_button"):
            data = captured[button.proto.deferred_file_id]()
            seen["files"][button.proto.label] = (data.encode("utf-8") if isinstance(data, str)
                                                 else data)
        yield seen
    finally:
        mp.undo()


def test_personas_page_offers_the_estimate_and_says_it_takes_time(journey):
    assert journey["button"]
    assert any("about a minute" in c for c in journey["captions before"])


def test_the_table_is_the_engines_lifetime_per_segment(journey, engine):
    result, lifetime, expected = engine
    shown = journey["table"]
    assert shown["persona"].tolist() == [p.name for p in result.personas]
    assert shown.columns.tolist() == ["persona", *expected.columns.drop("segment")]
    pd.testing.assert_frame_equal(
        shown.drop(columns="persona").reset_index(drop=True),
        expected.drop(columns="segment").reset_index(drop=True),
        check_dtype=False, rtol=1e-6)
    assert int(shown["customers"].sum()) == 300
    for note in lifetime.notes:
        assert md(note) in journey["captions"]


def test_a_rerun_shows_the_figures_without_a_click(journey):
    assert not journey["rerun button"]
    pd.testing.assert_frame_equal(journey["rerun table"], journey["table"])


def test_plan_points_to_the_button_then_shows_the_expected_value(journey, engine):
    assert sum(BUTTON in c for c in journey["plan before"]) == 1
    assert not any(BUTTON in c for c in journey["plan after"])
    table = next(d for d in journey["plan"] if "total_expected_value_12m" in d.columns)
    _, _, expected = engine
    assert table["total_expected_value_12m"].to_numpy() == pytest.approx(
        expected["total_expected_value_12m"].to_numpy(), rel=1e-6)


def test_assignments_carry_each_customers_lifetime(journey, engine):
    _, lifetime, _ = engine
    table = pd.read_csv(io.BytesIO(journey["files"]["Assignments (CSV)"]),
                        dtype={"customer_id": str})
    assert set(LIFETIME_COLUMNS) <= set(table.columns)
    assert table["p_alive"].between(0, 1).all()
    by_id = table.set_index("customer_id")["p_alive"]
    expected = lifetime.per_customer["p_alive"].rename(index=str)
    assert by_id.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy(),
                                                                     rel=1e-6)
    sheet = load_workbook(io.BytesIO(journey["files"]["Assignments (Excel)"]))["Assignments"]
    assert "p_alive" in [c.value for c in sheet[1]]


def test_report_has_the_lifetime_table(journey, engine):
    result, _, _ = engine
    page = journey["files"]["Full report (HTML)"].decode("utf-8")
    assert 'id="lifetime-table"' in page
    table = re.search(r'<table id="lifetime-table">.*?</table>', page, flags=re.S).group(0)
    for persona in result.personas:
        assert persona.name.replace("&", "&amp;") in table


def test_a_customer_table_has_no_lifetime_button():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/personas.py").run()
    _assert_clean(at, "personas of the sample")
    assert _button(at) is None
    assert "Customer lifetime" not in [s.value for s in at.subheader]
    at.switch_page("pages/plan.py").run()
    assert not any(BUTTON in c.value for c in at.caption)


def test_too_few_repeat_customers_is_one_sentence_and_other_pages_still_work():
    log = order_log(n_customers=300)
    first = log.groupby("CustomerID", dropna=False)["InvoiceNo"].transform("first")
    repeaters = log["CustomerID"].dropna().unique()[:10]
    once = log[(log["InvoiceNo"] == first) | log["CustomerID"].isin(repeaters)
               | log["CustomerID"].isna()]
    data = to_bytes(once)
    with pytest.raises(SegmentationError) as expected:
        lifetime_of(run(data, name="once.csv"))
    at = _uploaded(data, "once.csv")
    at.switch_page("pages/personas.py").run()
    _button(at).click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [str(expected.value)]
    assert "\n" not in at.error[0].value
    at.run()  # the sentence stays, the button does not come back
    assert [e.value for e in at.error] == [str(expected.value)] and _button(at) is None
    for page in ("pages/plan.py", "pages/export.py"):
        at.switch_page(page).run()
        _assert_clean(at, f"{page} after a failed estimate")


def test_lifetime_columns_add_to_the_assignments_and_lose_no_row(engine):
    from segmentation.export.assignments import customer_assignments

    result, lifetime, _ = engine
    plain = customer_assignments(result)
    frame = customer_assignments(result, lifetime=lifetime)
    pd.testing.assert_frame_equal(frame[plain.columns], plain)
    assert frame.columns.tolist() == [*plain.columns, *LIFETIME_COLUMNS]
    figures = lifetime.per_customer.rename(index=str).loc[frame["customer_id"]]
    assert frame[list(LIFETIME_COLUMNS)].to_numpy() == pytest.approx(
        figures[list(LIFETIME_COLUMNS)].to_numpy())
