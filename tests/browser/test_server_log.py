"""The app server started for browser tests and benchmarks keeps answering however much it logs.

Its output once went to a pipe that nothing read: after 64 KB of log lines the
server blocked on its next write and page loads timed out.
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser import _require_browser
from tools.browser import CHROMIUM, CHROMIUM_ARGS, running_app

pytestmark = pytest.mark.browser

NOISY_APP = '''
import streamlit as st
for _ in range(200):
    print("log line " + "x" * 1000, flush=True)
st.title("Ready")
'''


def test_a_server_that_logs_200_kb_per_run_still_answers(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    script = tmp_path / "noisy.py"
    script.write_text(NOISY_APP)
    with running_app(script=str(script)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(3):  # three sessions, 600 KB of log in all
            page = browser.new_page()
            page.goto(url, timeout=30_000)
            page.get_by_role("heading", name="Ready").wait_for(timeout=30_000)
            page.close()
        browser.close()
