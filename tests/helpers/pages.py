"""Visiting app pages in AppTest, including the content a page shows only on request.

Explore and Plan compute only their open tab, so a test that checks "every chart" or "no
page fails" opens each of their tabs in turn, as a user clicking through them would.
"""

from __future__ import annotations

from collections.abc import Iterator

from streamlit.testing.v1 import AppTest

EXPLORE = "pages/explore.py"
PLAN = "pages/plan.py"
# The key of each page's tabs, which open one at a time.
TABS = {EXPLORE: "w.explore.tab", PLAN: "w.plan.tab"}


def open_tab(at: AppTest, label: str, page: str = EXPLORE) -> AppTest:
    """Open one of the page's tabs (the widget state a click on it sets) and run the page."""
    at.session_state[TABS[page]] = label
    return at.run()


def page_tabs(at: AppTest, page: str = EXPLORE) -> Iterator[str]:
    """Open every tab of ``page`` in turn (``at`` shows it); yields each label once its run
    is done. The labels are the outer tabs, read before any inner one is shown."""
    labels = [tab.label for tab in at.tabs]
    for label in labels:
        open_tab(at, label, page)
        yield label


def explore_tabs(at: AppTest) -> Iterator[str]:
    """:func:`page_tabs` of Explore."""
    return page_tabs(at, EXPLORE)


def views(at: AppTest, page: str) -> Iterator[str]:
    """Switch to ``page`` and yield where ``at`` stands: the page, then each of its tabs."""
    at.switch_page(page).run()
    yield page
    if page in TABS and not at.exception:
        for label in page_tabs(at, page):
            yield f"{page} [{label}]"
