"""One journey through the running app in real headless Chromium.

Upload the real export through the file input, visit every page by its
sidebar link (opening a page by URL would start a new, empty session), and
check that no page shows a Streamlit exception. A screenshot of each page
is saved under tests/screenshots/browser_journey/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REAL_PATH, ROOT, SAMPLE_PATH

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SHOTS = ROOT / "tests" / "screenshots" / "browser_journey"
PAGES = ["Data", "Variables & K", "Personas", "Explore", "Home"]


def _require_browser():
    missing = [] if Path(CHROMIUM).exists() else [CHROMIUM]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if missing:
        reason = f"{' and '.join(missing)} not installed (Debian package chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser journey must run under CI, but {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    _require_browser()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the app did not start within 60 s: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _settle(page, title: str):
    """Wait until the page's title is shown and its script run has finished.

    Streamlit marks the app element with its script state; skeletons and
    spinners stand in for elements still being computed.
    """
    page.wait_for_timeout(300)  # let a click's rerun start before waiting for its end
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=90_000)
    for placeholder in ("stSkeleton", "stSpinner"):
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=\"{placeholder}\"]').length == 0",
            timeout=90_000)
    page.wait_for_timeout(500)


def _assert_no_exception(page, where: str):
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()[:500]}"


def test_journey_through_every_page(app_url):
    from playwright.sync_api import sync_playwright

    upload = REAL_PATH if REAL_PATH.exists() else SAMPLE_PATH
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        _settle(page, "Segmentation Studio")
        _assert_no_exception(page, "Home")

        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name="Data").click()
        _settle(page, "Data")
        page.locator('input[type="file"]').set_input_files(str(upload))
        page.get_by_text(f"Data: {upload.name}").first.wait_for(timeout=60_000)
        _settle(page, "Data")
        _assert_no_exception(page, "Data after upload")
        assert page.get_by_text("Column roles").count() == 1

        for title in PAGES:
            nav.get_by_role("link", name=title).click()
            heading = "Segmentation Studio" if title == "Home" else title
            _settle(page, heading)
            _assert_no_exception(page, title)
            # Still the uploaded file: the session survived the page switch.
            assert page.get_by_text(f"Data: {upload.name}").count() >= 1, title
            page.screenshot(path=str(SHOTS / f"{title.replace(' & ', '_').lower()}.png"),
                            full_page=True)
        browser.close()
    assert sorted(p.name for p in SHOTS.iterdir()) == sorted(
        f"{t.replace(' & ', '_').lower()}.png" for t in PAGES)
