"""AppTest for large uploads: the Data page reads a large file under a status box, the
Variables & K page says when the sweep fitted on a sample, and the Export page offers the
assignments as CSV only above the Excel row limit."""

from __future__ import annotations

import io

import pytest
from streamlit.testing.v1 import AppTest

import ui.reading
from sample_data.generate import generate_customers
from segmentation.config import FIT_SAMPLE_SIZE
from segmentation.export import assignments
from tests.helpers import ROOT

# Just above the sweep's fit sample size, so it fits on a sample while the test stays quick.
N_LARGE = FIT_SAMPLE_SIZE + 5000


@pytest.fixture(scope="module")
def large_parquet() -> bytes:
    buffer = io.BytesIO()
    generate_customers(N_LARGE, seed=5).to_parquet(buffer, index=False)
    return buffer.getvalue()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_a_large_upload_is_read_under_a_status_and_the_k_panel_says_it_was_sampled(
        large_parquet, monkeypatch):
    # The status box is for files over LARGE_FILE_BYTES; this Parquet file is smaller, the
    # bundled sample smaller still.
    monkeypatch.setattr(ui.reading, "LARGE_FILE_BYTES", len(large_parquet) - 1)
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run())
    ok(at.switch_page("pages/data.py").run())
    assert not at.status
    at.file_uploader(key="w.upload").upload("large.parquet", large_parquet)
    ok(at.run())
    [box] = at.status
    assert box.state == "complete" and box.label.startswith("Read large.parquet")
    assert [m.value for m in at.metric][:2] == [f"{N_LARGE:,}", f"{N_LARGE:,}"]

    ok(at.switch_page("pages/variables.py").run())
    notes = [c.value for c in at.caption if c.value.startswith("K chosen on a sample")]
    assert notes == [f"K chosen on a sample of {FIT_SAMPLE_SIZE:,} of {N_LARGE:,} customers "
                     "(silhouettes on 4,000); every customer is then assigned to its nearest "
                     "segment."]


def test_the_sample_is_not_said_to_be_fitted_on_a_sample():
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run())
    ok(at.switch_page("pages/variables.py").run())
    assert not [c.value for c in at.caption if c.value.startswith("K chosen on a sample")]


def test_the_export_page_offers_excel_up_to_the_limit_and_csv_above_it(monkeypatch):
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run())
    ok(at.switch_page("pages/export.py").run())
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Assignments (CSV)", "Assignments (Excel)"} <= labels

    monkeypatch.setattr(assignments, "XLSX_MAX_ROWS", 100)
    ok(at.run())
    labels = {b.proto.label for b in at.get("download_button")}
    assert "Assignments (CSV)" in labels and "Assignments (Excel)" not in labels
    assert [c.value for c in at.caption if "offered as CSV" in c.value] == [
        assignments.xlsx_refusal(2240)]
