"""Visiting app pages in AppTest, including the content a page shows only on request.

Explore computes only its open tab's charts, so a test that checks "every chart" or "no
page fails" opens each of its tabs in turn, as a user clicking through them would.
"""

from __future__ import annotations

from collections.abc import Iterator

from streamlit.testing.v1 import AppTest

EXPLORE = "pages/explore.py"
EXPLORE_TABS = "w.explore.tab"


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open one Explore tab (the widget state a click on it sets) and run the page."""
    at.session_state[EXPLORE_TABS] = label
    return at.run()


def explore_tabs(at: AppTest) -> Iterator[str]:
    """Open every Explore tab in turn (``at`` shows Explore); yields each label once its
    run is done. The labels are the outer tabs, read before any inner one is shown."""
    labels = [tab.label for tab in at.tabs]
    for label in labels:
        open_tab(at, label)
        yield label


def views(at: AppTest, page: str) -> Iterator[str]:
    """Switch to ``page`` and yield where ``at`` stands: the page, then on Explore each tab."""
    at.switch_page(page).run()
    yield page
    if page == EXPLORE and not at.exception:
        for label in explore_tabs(at):
            yield f"{page} [{label}]"
