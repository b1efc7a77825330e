"""AppTest for the Export page: each download button's bytes, as a click would build them.

Downloads are built on click: each button registers a callable with
Streamlit's media file manager. The test captures those callables by the
button's file id and calls them, which is what clicking does.
"""

from __future__ import annotations

import html.parser
import io
import json

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.export.assignments import customer_assignments
from segmentation.export.bundle import load_bundle
from segmentation.validate.migration import read_assignments
from tests.helpers import ROOT, capture_downloads

NEW_NAME = "<b>Loyal</b> =HYPERLINK(\"http://x\")"


def export_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/personas.py").run()
    # Rename the first persona, with markup and a formula, to follow it into every file.
    at.session_state["w.personas.0"] = {"edited_rows": {0: {"name": NEW_NAME}},
                                        "added_rows": [], "deleted_rows": []}
    at.run()
    at.switch_page("pages/export.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def downloads(at: AppTest, deferred: dict) -> dict[str, bytes]:
    out = {}
    for button in at.get("download_button"):
        data = deferred[button.proto.deferred_file_id]()
        out[button.proto.label] = data.encode("utf-8") if isinstance(data, str) else data
    return out


@pytest.fixture(scope="module")
def files():
    # Module-wide so the report (with its bootstrap) is built once.
    mp, captured = capture_downloads()
    try:
        at = export_page()
        yield at, downloads(at, captured)
    finally:
        mp.undo()


def test_every_button_gives_a_file(files):
    _, got = files
    assert set(got) == {"Assignments (CSV)", "Assignments (Excel)", "Strategy sheet (Excel)",
                        "Strategy sheet (printable HTML)", "Full report (HTML)",
                        "Workshop file (JSON)"}
    assert all(len(data) > 100 for data in got.values())


def test_assignments_carry_every_customer_and_the_new_name(files, sample_result):
    _, got = files
    back = read_assignments(got["Assignments (CSV)"])
    assert back["customer_id"].tolist() == [str(c) for c in sample_result.segmentation.customer_ids]
    assert back["segment"].tolist() == sample_result.segmentation.labels.tolist()
    assert set(back.loc[back["segment"] == 0, "persona"]) == {NEW_NAME}
    sheet = openpyxl.load_workbook(io.BytesIO(got["Assignments (Excel)"])).active
    rows = list(sheet.iter_rows(values_only=True))
    expected = customer_assignments(sample_result)
    assert len(rows) - 1 == len(expected)
    personas = {r[rows[0].index("persona")] for r in rows[1:]}
    assert "'" + NEW_NAME not in personas  # starts with '<', not a formula character
    assert NEW_NAME in personas


def test_strategy_sheet_and_html_use_the_edited_name_safely(files):
    _, got = files
    book = openpyxl.load_workbook(io.BytesIO(got["Strategy sheet (Excel)"]))
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert any(NEW_NAME in [str(v) for v in row] for row in summary)
    page = got["Strategy sheet (printable HTML)"].decode("utf-8")
    assert "<b>Loyal</b>" not in page and "&lt;b&gt;Loyal&lt;/b&gt;" in page


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.remote: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.remote += [value for name, value in attrs
                        if name in ("src", "href") and value and value.startswith("http")]


def test_the_report_is_self_contained_and_escapes_the_name(files):
    _, got = files
    page = got["Full report (HTML)"].decode("utf-8")
    parser = _Tags()
    parser.feed(page)
    assert "b" not in parser.tags  # the persona's markup is text, not a tag
    assert "&lt;b&gt;Loyal&lt;/b&gt;" in page
    assert parser.remote == []  # plotly.js is inline: nothing is fetched from the network


def test_the_workshop_file_reopens_with_the_name(files, sample_result):
    _, got = files
    bundle = load_bundle(got["Workshop file (JSON)"])
    assert bundle.persona_names()[0] == NEW_NAME
    assert json.loads(got["Workshop file (JSON)"])["format"] == "segmentation-bundle"
    assert bundle.assignments["segment"].tolist() == sample_result.segmentation.labels.tolist()


def test_the_upload_limit_is_configured_and_stated_on_the_data_page():
    import tomllib

    limit = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"][
        "maxUploadSize"]
    assert limit == 200
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/data.py").run()
    uploader = at.file_uploader(key="w.upload")
    assert f"up to {limit} MB" in uploader.proto.help


def test_the_apps_assignments_file_is_the_command_lines(files, sample_path, tmp_path):
    """Same data, same default settings: the app's download and `run`'s assignments.csv are
    one schema with the same rows (only the persona the workshop renamed differs)."""
    import pandas as pd

    from segmentation.cli import main

    _, got = files
    assert main(["run", str(sample_path), "--out", str(tmp_path)]) == 0
    cli = pd.read_csv(tmp_path / "assignments.csv", dtype=str, keep_default_na=False)
    app = pd.read_csv(io.BytesIO(got["Assignments (CSV)"]), dtype=str, keep_default_na=False)
    assert list(app.columns) == list(cli.columns)
    assert list(app.columns[:6]) == ["customer_id", "segment", "persona", "status", "reason",
                                     "line"]
    renamed = app["segment"] == "0"
    pd.testing.assert_frame_equal(app.drop(columns="persona"), cli.drop(columns="persona"))
    assert app.loc[~renamed, "persona"].tolist() == cli.loc[~renamed, "persona"].tolist()
