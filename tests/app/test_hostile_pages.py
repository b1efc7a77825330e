"""Text that came from a file never becomes a link or an image in the app.

Column names, customer ids and a file name written as markdown links and images are
uploaded; every page is visited, including the error paths, and no rendered markdown
element may hold a link or an image that the app did not write itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import planted_customers, to_tsv_bytes
from tests.helpers.pages import views

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = ("pages/home.py", "pages/data.py", "pages/variables.py", "pages/personas.py",
         "pages/explore.py", "pages/validate.py", "pages/compare.py", "pages/plan.py",
         "pages/export.py")
LINK = "[Verify your account](https://evil.example/login)"
IMAGE = "![x](https://evil.example/pixel.png)"
MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "success", "error")
# An unescaped "](" or "![" is a link or an image in markdown; the app writes none itself
# on these pages, and escaped text shows them as "\]\(" and "\!\[".
LIVE = re.compile(r"(?<!\\)\]\(|(?<!\\)!(?<!\\)\[")


def hostile_file() -> bytes:
    frame = planted_customers(300, seed=2)
    frame.attrs = {}
    frame[LINK] = frame["MntWines"] * 0.5 + frame["MntMeatProducts"]  # a measure, clustered on
    frame[IMAGE] = frame["Recency"] % 7  # another one
    frame.loc[0, "ID"] = LINK
    frame.loc[1, "ID"] = LINK  # a duplicate id: the Data page lists it
    frame.loc[2, "ID"] = IMAGE
    return to_tsv_bytes(frame)


def live_markup(at: AppTest) -> list[str]:
    return [str(e.value) for kind in MARKDOWN_ELEMENTS for e in getattr(at, kind)
            if LIVE.search(str(e.value))]


@pytest.fixture(scope="module")
def app_with_hostile_file():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="w.upload").upload(f"{IMAGE}.tsv", hostile_file()).run()
    return at


def test_no_page_renders_a_link_or_image_from_the_file(app_with_hostile_file):
    at = app_with_hostile_file
    assert at.session_state["data.source"] == "upload"
    for page in PAGES:
        for where in views(at, page):
            assert not at.exception, where
            assert not live_markup(at), (where, live_markup(at))


def test_the_hostile_text_is_still_shown_as_text(app_with_hostile_file):
    at = app_with_hostile_file
    at.switch_page("pages/data.py").run()
    shown = " ".join(str(e.value) for e in at.caption)
    assert "Verify your account" in shown  # the duplicate id, escaped, not dropped


def test_an_error_naming_a_hostile_file_is_text_too():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="w.upload").upload(f"{LINK}.csv", b"").run()
    assert [e.value for e in at.error], "an empty file must give an error"
    assert not live_markup(at), live_markup(at)


def test_a_vanished_persona_name_is_shown_as_text(app_with_hostile_file):
    # A name the user typed for a segment that no longer matches is echoed in a notice.
    from segmentation.describe.carry_names import PersonaRecord

    at = app_with_hostile_file
    at.switch_page("pages/personas.py").run()
    far = {name: 50.0 for name in ("MntWines", "Recency", "Income")}  # matches no segment
    at.session_state["personas.records"] = (PersonaRecord(far, {"name": LINK}),)
    at.run()
    shown = [str(e.value) for e in at.info if "has no matching segment" in str(e.value)]
    assert shown and "Verify your account" in shown[0]
    assert not live_markup(at), live_markup(at)
