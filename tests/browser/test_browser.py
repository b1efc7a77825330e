"""One journey through the running app in real headless Chromium.

Upload the real export through the file input, visit every page by its
sidebar link (opening a page by URL would start a new, empty session), and
check that no page shows a Streamlit exception; then find the segments
within income bands, chosen on the Variables & K page. A screenshot of each page
is saved under tests/screenshots/browser_journey/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import REAL_PATH, ROOT, SAMPLE_PATH
from tests.helpers.needs import skip_or_fail
from tools.browser import CHROMIUM, CHROMIUM_ARGS, go_to, running_app, settle

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots" / "browser_journey"
PAGES = ["Data", "Variables & K", "Personas", "Explore", "Validate", "Compare runs", "Plan",
         "Export", "Home", "History"]


def _require_browser():
    missing = [] if Path(CHROMIUM).exists() else [CHROMIUM]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if missing:
        skip_or_fail("the browser journey",
                     f"{' and '.join(missing)} not installed (Debian package chromium)")


@pytest.fixture(scope="module")
def app_url():
    # One server for every journey, as a workshop shares one: each journey is a new session.
    _require_browser()
    with running_app() as url:
        yield url


def _shot_name(title: str) -> str:
    return f"{title.replace(' & ', '_').replace(' ', '_').lower()}.png"


def _assert_no_exception(page, where: str):
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()[:500]}"


def _download_report(page):
    """Click the report button as a user would and check the file the browser saves."""
    with page.expect_download(timeout=180_000) as info:
        page.get_by_role("button", name="Full report (HTML)").click()
    saved = SHOTS / "report.html"
    info.value.save_as(str(saved))
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Personas and strategies" in text
    assert info.value.suggested_filename == "segmentation_report.html"
    saved.unlink()  # the folder holds the page screenshots only


def upload_on_the_data_page(browser, app_url, upload):
    """Open the app, check Home, go to Data by its sidebar link and upload a customer file."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    settle(page, "Segmentation Studio")
    _assert_no_exception(page, "Home")
    go_to(page, "Data")
    # The customer file's input, not the bundle's (which takes .json only).
    page.locator('input[type="file"][accept*=".csv"]').set_input_files(str(upload))
    page.get_by_text(f"Data: {upload.name}").first.wait_for(timeout=60_000)
    settle(page, "Data")
    return page


def test_journey_through_every_page(app_url):
    from playwright.sync_api import sync_playwright

    upload = REAL_PATH if REAL_PATH.exists() else SAMPLE_PATH
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = upload_on_the_data_page(browser, app_url, upload)
        _assert_no_exception(page, "Data after upload")
        assert page.get_by_text("Column roles").count() == 1

        for title in PAGES:
            go_to(page, title, "Segmentation Studio" if title == "Home" else title)
            _assert_no_exception(page, title)
            # Still the uploaded file: the session survived the page switch.
            assert page.get_by_text(f"Data: {upload.name}").count() >= 1, title
            if title == "Compare runs":  # nothing uploaded there yet: it asks for both files
                for prompt in ("Upload the saved segmentation to compare.",
                               "Upload the new export to compare."):
                    assert page.get_by_text(prompt).count() == 1, prompt
            if title == "History":  # a fresh folder may hold no run yet: it says which file
                assert page.get_by_text("History file:").count() == 1
            page.screenshot(path=str(SHOTS / _shot_name(title)), full_page=True)
            if title == "Export":
                _download_report(page)
            if title == "Explore":
                _every_explore_tab(page)
            if title == "Plan":
                _every_plan_tab(page)
        _segments_within_income_bands(page)
        browser.close()
    assert sorted(p.name for p in SHOTS.iterdir()) == sorted(
        [*(_shot_name(t) for t in PAGES), STRATA_SHOT])


STRATA_SHOT = "personas_within_strata.png"


def _every_explore_tab(page):
    """Each Explore tab draws its own chart when clicked (only the open tab is computed)."""
    tabs = page.get_by_test_id("stTabs").first.get_by_role("tab")
    labels = [tabs.nth(i).inner_text().strip() for i in range(tabs.count())]
    assert len(labels) >= 6, labels
    titles = []
    for i, label in enumerate(labels):
        if i:
            tabs.nth(i).click()
            settle(page, "Explore")
        _assert_no_exception(page, f"Explore [{label}]")
        chart = page.locator("[data-testid='stPlotlyChart']:visible").first
        chart.locator(".main-svg").first.wait_for(timeout=60_000)
        titles.append(chart.locator(".gtitle").first.text_content())
    assert len(set(titles)) == len(labels), titles  # a chart of its own in every tab


def _every_plan_tab(page):
    """Each Plan tab computes and shows its own step when clicked; the value tab's margin,
    changed before, is still there after the other tabs were open."""
    tabs = page.get_by_test_id("stTabs").first.get_by_role("tab")
    labels = [tabs.nth(i).inner_text().strip() for i in range(tabs.count())]
    assert labels[0] == "Value per segment" and len(labels) == 5, labels
    margin = page.get_by_label("Margin (share of revenue)")
    margin.fill("0.45")
    margin.press("Enter")
    settle(page, "Plan")
    for i, label in enumerate(labels[1:], start=1):
        tabs.nth(i).click()
        settle(page, "Plan")
        _assert_no_exception(page, f"Plan [{label}]")
        assert page.get_by_label("Margin (share of revenue)").count() == 0, label
    tabs.nth(0).click()
    settle(page, "Plan")
    assert page.get_by_label("Margin (share of revenue)").input_value() == "0.45"


def _segments_within_income_bands(page):
    """Stratify by Income in three bands on Variables & K, as a user would, and check that
    the personas are found within each band."""
    go_to(page, "Variables & K")
    control = page.get_by_test_id("stSelectbox").filter(has_text="Stratify by")
    control.get_by_role("button", name="Open").click()
    page.get_by_test_id("stSelectboxVirtualDropdown").get_by_role(
        "option", name="Income", exact=True).click()
    settle(page, "Variables & K")
    _assert_no_exception(page, "Variables & K within strata")
    page.get_by_role("heading", name="How many segments in each stratum?").wait_for(
        timeout=60_000)
    assert page.get_by_label("Quantile bands").input_value() == "3"
    go_to(page, "Personas")
    _assert_no_exception(page, "Personas within strata")
    for band in ("Low Income · ", "Mid Income · ", "High Income · "):
        assert page.get_by_text(band).count() >= 1, band
    page.screenshot(path=str(SHOTS / STRATA_SHOT), full_page=True)


def _assert_no_error_box(page, where: str):
    _assert_no_exception(page, where)
    boxes = page.locator('[data-testid="stAlertContentError"]')
    assert boxes.count() == 0, f"{where}: {boxes.first.inner_text()[:500]}"


def test_journey_with_a_file_of_another_shape(app_url, tmp_path):
    """A bank export (semicolons, yes/no flags, an outcome, no spend) through every page."""
    from playwright.sync_api import sync_playwright

    from tests.helpers.shapes import ALL_SHAPES, to_bytes

    generator, sep = ALL_SHAPES["bank"]
    upload = tmp_path / "bank_customers.csv"
    upload.write_bytes(to_bytes(generator(), sep))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = upload_on_the_data_page(browser, app_url, upload)
        _assert_no_error_box(page, "Data after upload")
        for title in PAGES:
            go_to(page, title, "Segmentation Studio" if title == "Home" else title)
            _assert_no_error_box(page, title)
            assert page.get_by_text(f"Data: {upload.name}").count() >= 1, title
        browser.close()


def test_journey_with_an_order_log(app_url, tmp_path):
    """A log of order lines: recognised and totalled on the Data page, then every page."""
    from playwright.sync_api import sync_playwright

    from tests.helpers.logs import order_log, to_bytes

    upload = tmp_path / "order_lines.csv"
    upload.write_bytes(to_bytes(order_log(n_customers=300)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = upload_on_the_data_page(browser, app_url, upload)
        _assert_no_error_box(page, "Data after upload")
        page.get_by_text("This is a log of order lines").first.wait_for(timeout=60_000)
        assert page.get_by_text("Lines aggregated").count() >= 1
        for title in PAGES:
            go_to(page, title, "Segmentation Studio" if title == "Home" else title)
            _assert_no_error_box(page, title)
            assert page.get_by_text(f"Data: {upload.name}").count() >= 1, title
            if title == "Personas":
                assert page.get_by_text("The personas against the RFM grid").count() == 1
        browser.close()


# True once a frame showed the K panel's two sweep charts drawn afresh (seen stale from the
# run before, then current) while the split-half check was still announced as running.
_CHARTS_BEFORE_CHECK = """() => {
  window.__chartsBeforeCheck = false;
  const seen = new Set();
  const tick = () => {
    const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")].slice(0, 2);
    const boxes = charts.map(c => c.closest("[data-testid='stElementContainer']"));
    boxes.forEach((box, i) => { if (box && box.getAttribute('data-stale') === 'true') seen.add(i); });
    const fresh = charts.length === 2 && seen.size === 2 && boxes.every(
        (box, i) => box.getAttribute('data-stale') === 'false'
                    && charts[i].querySelector('.main-svg'));
    if (fresh && document.body.innerText.includes("Checking that each K's segments replicate")) {
      window.__chartsBeforeCheck = true;
      return;
    }
    if (document.querySelector("[data-testid='stApp']")
          .getAttribute('data-test-script-state') === 'notRunning' && seen.size) return;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def test_the_elbow_moves_before_the_split_half_check_is_done(app_url):
    """Removing a variable redraws the elbow and the quality by K from the sweep at once;
    the split-half check follows, and then the recommendation and its panel."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        settle(page, "Segmentation Studio")
        go_to(page, "Variables & K")
        assert page.get_by_text("Recommended: K =").count() == 1
        page.evaluate(_CHARTS_BEFORE_CHECK)
        page.get_by_test_id("stMultiSelect").first.locator(
            "button[aria-label^='Remove ']").last.click()
        settle(page, "Variables & K")
        _assert_no_exception(page, "Variables & K after removing a variable")
        assert page.evaluate("window.__chartsBeforeCheck"), \
            "the sweep's charts were not shown before the split-half check finished"
        assert page.get_by_text("Checking that each K's segments replicate").count() == 0
        assert page.get_by_text("Recommended: K =").count() == 1
        quality = page.get_by_test_id("stPlotlyChart").nth(1)
        assert quality.get_by_text("Split-half agreement").count() >= 1
        browser.close()
