"""The studio in a real browser, beside the least any Streamlit app can do on the same machine.

Each run starts two servers on free ports (``streamlit run --server.headless true``), one
after the other, each timed from the moment it answers: the floor (``benchmarks/floor_app``:
two pages made with ``st.navigation``, each importing pandas and plotly and drawing one
plotly chart), then the studio (``serve.py``, as the README starts it: ``app.py`` on a
server that begins segmenting the bundled sample as it starts). Debian's headless Chromium,
driven by Playwright, times what a user waits for:

- floor: the first page ready; the switch to its other page;
- studio: the first page ready; the switch to every sidebar page in order, by clicking its
  link (a URL would start a new, empty session); choosing another K on Variables & K until
  the K panel is redrawn; removing a clustering variable until the K panel's sweep charts
  (the elbow and the quality by K) are redrawn, and until the whole page is (the split-half
  check, the chosen K's segments and the rest follow the charts); renaming a persona in the
  Personas table until the page shows the new name; opening Explore's map tab and Plan's
  A/B test tab (both pages draw only their open tab).

A page is ready when its title is shown, Streamlit's script state (the
``data-test-script-state`` attribute the browser test waits on) is back to ``notRunning``
after a run that started after the click, no skeleton or spinner is left and every plotly
chart on it has drawn. Every wait has a time limit; one that runs out shows as "timeout".

Targets (the product's performance goals), judged on the median over runs:

- first page ≤ 1.3 × the floor's first page;
- switching to any page, or to another tab of Explore or Plan, ≤ the floor's switch + 0.5 s;
- a change of variable or K → the K panel updated ≤ 1 s (for a variable, its sweep charts);
- a change of variable → the whole page ≤ 5 s (no interaction may take longer);
- renaming a persona ≤ 0.3 s.

``--sessions N`` instead opens N browser contexts at once against one studio server, each
opening the home page and then Variables & K, after one warm-up session and one session
alone; the target is the slowest of the N within 2 × the session alone.

Run from the repository root:

    python benchmarks/bench_app.py                    # 3 runs on the bundled sample
    python benchmarks/bench_app.py --runs 1 --data real
    python benchmarks/bench_app.py --sessions 4

The machine's load moves every absolute figure; the ratios to the floor measured in the
same run are the figures to read. Prints a table of figures beside their targets; it
never fails.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    cpu_seconds,
    running_app,
    running_server,
)

FLOOR_SCRIPT = "benchmarks/floor_app/app.py"
STUDIO_SCRIPT = "serve.py"  # as the README starts it
SAMPLE_PATH = ROOT / "sample_data" / "marketing_campaign_sample.csv"
REAL_PATH = ROOT.parent / "shared" / "data" / "marketing_campaign.csv"
STUDIO_HOME = "Segmentation Studio"
FLOOR_PAGES = ("First", "Second")
# Every sidebar page after Home, in sidebar order, then back to Home.
STUDIO_PAGES = ("Data", "Variables & K", "Personas", "Explore", "Validate", "Plan", "Export",
                "Compare runs", "Home")
VIEWPORT = {"width": 1400, "height": 1000}
# Long enough for a first K sweep on a loaded two-core machine, short enough that a hung
# page costs minutes, not the whole evening.
WAIT_MS = 120_000
NEW_PERSONA_NAME = "Renamed by the benchmark"
# Explore draws only its open tab: the map of every customer is the heaviest to open.
EXPLORE_TAB = "Map of the customers"
EXPLORE_TAB_ROW = "studio: Explore, open the map"
# Plan too: the A/B test's tab sizes the test and draws the arms.
PLAN_TAB = "A/B test per segment"
PLAN_TAB_ROW = "studio: Plan, open the A/B test"
# Streamlit's data editor: rows and the header are 35 px high, a "small" column 75 px wide.
GRID_ROW_PX = 35
SEGMENT_COLUMN_PX = 75
EDITOR_TRIES = 5
EDITOR_WAIT_MS = 2_000

# How far the studio may fall behind the floor, and the absolute limits.
FIRST_PAGE_FACTOR = 1.3
SWITCH_MARGIN_S = 0.5
K_PANEL_S = 1.0
# The K panel's charts drawn from the sweep alone: the elbow and the quality by K.
K_PANEL_CHARTS = 2
# No interaction in the journey may take longer.
INTERACTION_S = 5.0
RENAME_S = 0.3
CONCURRENCY_FACTOR = 2.0


@dataclass(frozen=True)
class Target:
    """A time limit: ``seconds`` flat, or against a floor figure (``floor`` names it).

    ``kind`` is "abs" (≤ value s), "times" (≤ value × floor) or "plus" (≤ floor + value s).
    """

    kind: str
    value: float
    floor: str | None = None

    def seconds(self, floor_seconds: float | None) -> float:
        """The limit in seconds; NaN when it depends on a floor figure that is missing."""
        if self.kind == "abs":
            return self.value
        if floor_seconds is None or not math.isfinite(floor_seconds):
            return math.nan
        return self.value * floor_seconds if self.kind == "times" else floor_seconds + self.value

    def label(self) -> str:
        if self.kind == "abs":
            return f"≤ {self.value:g} s"
        if self.kind == "times":
            return f"≤ {self.value:g} × floor"
        return f"≤ floor + {self.value:g} s"


def summarize(samples: list[float]) -> tuple[float, float]:
    """Median and worst of the runs' seconds; a timeout is ``inf`` and stays one."""
    if not samples:
        return math.nan, math.nan
    return statistics.median(samples), max(samples)


def table_rows(timings: dict[str, list[float]], targets: dict[str, Target]) -> list[dict]:
    """One row per interaction: median, worst, the limit, the ratio to the floor, a verdict.

    ``timings`` maps an interaction to its seconds over the runs (``inf`` for a timeout);
    floor interactions are those a target names. The ratio is the studio's median over the
    floor's median, for targets set against the floor only.
    """
    medians = {name: summarize(samples)[0] for name, samples in timings.items()}
    rows = []
    for name, samples in timings.items():
        median, worst = summarize(samples)
        target = targets.get(name)
        row = {"name": name, "median": median, "worst": worst, "target": target,
               "limit": math.nan, "ratio": math.nan, "verdict": ""}
        if target is not None:
            floor = medians.get(target.floor) if target.floor else None
            row["limit"] = target.seconds(floor)
            if floor is not None and math.isfinite(floor) and floor > 0:
                row["ratio"] = median / floor
            if math.isfinite(row["limit"]) and not math.isnan(median):
                row["verdict"] = "met" if median <= row["limit"] else "MISSED"
        rows.append(row)
    return rows


def _seconds(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "timeout" if math.isinf(value) else f"{value:.2f}"


def format_table(rows: list[dict]) -> str:
    """The rows of ``table_rows`` as a fixed-width text table."""
    width = max([len("interaction"), *(len(r["name"]) for r in rows)])
    lines = [f"{'interaction':<{width}} {'median':>8} {'worst':>8} {'target':>17} "
             f"{'limit':>7} {'ratio':>6}  verdict"]
    for r in rows:
        target = r["target"].label() if r["target"] else ""
        limit = "" if math.isnan(r["limit"]) else f"{r['limit']:.2f}"
        ratio = "" if math.isnan(r["ratio"]) else f"{r['ratio']:.2f}"
        lines.append(f"{r['name']:<{width}} {_seconds(r['median']):>8} "
                     f"{_seconds(r['worst']):>8} {target:>17} {limit:>7} {ratio:>6}  "
                     f"{r['verdict']}".rstrip())
    return "\n".join(lines)


# --- in the browser -------------------------------------------------------------------

# Records every script state the app element takes, so a wait can tell a run that
# started after the click from the idle state before it (a fast rerun can begin and end
# between two polls).
_WATCH = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (window.__benchApp !== app) {
    window.__benchApp = app;
    new MutationObserver(() => window.__benchStates.push(
        app.getAttribute('data-test-script-state'))).observe(
        app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  window.__benchStates = [];
}"""

_TITLES = "() => [...document.querySelectorAll('h1')].map(h => h.textContent.trim())"

_READY = """([title, text, rerun]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (rerun && !(window.__benchStates || []).includes('running')) return false;
  if (document.querySelector(
      "[data-testid='stSkeleton'], [data-testid='stSpinner'], [data-stale='true']"))
    return false;
  for (const chart of document.querySelectorAll("[data-testid='stPlotlyChart']"))
    if (!chart.querySelector('.main-svg')) return false;
  if (title && ![...document.querySelectorAll('h1')].some(
      h => h.textContent.trim() === title)) return false;
  return !text || document.body.innerText.includes(text);
}"""


# Records, in the browser's clock from now, when the page's first ``n`` plotly charts are
# all drawn afresh: each seen stale (from the run before) and then current again. A rerun
# too fast for any frame to show them stale records nothing: it is then timed by the page.
_CHARTS_FRESH = """(n) => {
  window.__benchFresh = null;
  const t0 = performance.now(), seen = new Set();
  const tick = () => {
    const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")].slice(0, n);
    const boxes = charts.map(c => c.closest("[data-testid='stElementContainer']"));
    boxes.forEach((box, i) => { if (box && box.getAttribute('data-stale') === 'true') seen.add(i); });
    if (charts.length === n && seen.size === n && boxes.every(
        (box, i) => box && box.getAttribute('data-stale') === 'false'
                    && charts[i].querySelector('.main-svg'))) {
      window.__benchFresh = (performance.now() - t0) / 1000;
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


# What keeps a page from being ready, for the report of a wait that ran out.
_NOT_READY = """([title, text]) => {
  const app = document.querySelector("[data-testid='stApp']");
  const count = (selector) => document.querySelectorAll(selector).length;
  const stale = [...document.querySelectorAll("[data-stale='true']")].map(
      e => (e.innerText || e.getAttribute('data-testid') || '').slice(0, 60).replace(/\\s+/g, ' '));
  return JSON.stringify({
    state: app && app.getAttribute('data-test-script-state'),
    seen: window.__benchStates,
    skeletons: count("[data-testid='stSkeleton']"), spinners: count("[data-testid='stSpinner']"),
    stale: stale.slice(0, 5), stale_count: stale.length,
    undrawn_charts: [...document.querySelectorAll("[data-testid='stPlotlyChart']")].filter(
        c => !c.querySelector('.main-svg')).length,
    titles: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
    text_missing: !!text && !document.body.innerText.includes(text),
    exception: count("[data-testid='stException']")});
}"""


def _wait_ready(page, title: str | None = None, text: str | None = None,
                rerun: bool = True) -> None:
    # requestAnimationFrame polling: the end is seen within a frame of happening.
    page.wait_for_function(_READY, arg=[title, text, rerun], polling="raf", timeout=WAIT_MS)


def _timed(action, page, **ready) -> float:
    """Seconds from ``action()`` to the page ready again; ``inf`` if a wait ran out."""
    from playwright.sync_api import Error

    try:
        page.evaluate(_WATCH)
        title = ready.get("title")
        if title is not None and title not in page.evaluate(_TITLES):
            # Another page's title is its run's own proof. A fast run's script state can go
            # to running and back within one browser frame, changing no attribute to watch.
            ready = {**ready, "rerun": False}
        started = time.perf_counter()
        action()
        _wait_ready(page, **ready)
        return time.perf_counter() - started
    except Error as exc:  # TimeoutError is one; a crashed page is another
        print(f"  {ready.get('title') or 'wait'}: {str(exc).splitlines()[0]}", file=sys.stderr)
        with contextlib.suppress(Error):  # unless the page itself is gone
            why = page.evaluate(_NOT_READY, [ready.get("title"), ready.get("text")])
            print(f"    not ready: {why}", file=sys.stderr)
        return math.inf


def _open(context, url: str, title: str) -> tuple[object, float]:
    page = context.new_page()
    started = time.perf_counter()
    try:
        page.goto(url, timeout=WAIT_MS)
        _wait_ready(page, title=title, rerun=False)
    except Exception as exc:  # noqa: BLE001 - any failure is a timeout in the table
        print(f"  {title}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return page, math.inf
    return page, time.perf_counter() - started


def _click_link(page, link: str):
    return lambda: page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click(
        timeout=WAIT_MS)


def _measure_floor(browser, url: str) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page, first = _open(context, url, FLOOR_PAGES[0])
        switch = _timed(_click_link(page, FLOOR_PAGES[1]), page, title=FLOOR_PAGES[1])
        return {"floor: first page": first, "floor: page switch": switch}
    finally:
        context.close()


def _upload(page, path: Path) -> float:
    # The customer file's input, not the bundle's (which takes .json only).
    return _timed(lambda: page.locator('input[type="file"][accept*=".csv"]').set_input_files(
        str(path), timeout=WAIT_MS), page, title="Data", text=f"Data: {path.name}")


def _change_k(page) -> float:
    group = page.get_by_test_id("stButtonGroup")
    return _timed(lambda: group.locator("button[role='radio'][aria-checked='false']").first
                  .click(timeout=WAIT_MS), page, title="Variables & K")


def _remove_variable(page) -> tuple[float, float]:
    """Seconds until the K panel's two sweep charts (elbow, quality by K) are redrawn, and
    until the whole page is (the split-half check, the chosen K's segments, the rest)."""
    remove = page.get_by_test_id("stMultiSelect").first.locator(
        "button[aria-label^='Remove ']").last
    page.evaluate(_CHARTS_FRESH, K_PANEL_CHARTS)
    settled = _timed(lambda: remove.click(timeout=WAIT_MS), page, title="Variables & K")
    charts = page.evaluate("window.__benchFresh")
    return (settled if charts is None else min(charts, settled)), settled


def _open_tab(page, label: str, title: str) -> float:
    return _timed(lambda: page.get_by_test_id("stTabs").first.get_by_role("tab", name=label)
                  .click(timeout=WAIT_MS), page, title=title)


def _rename_persona(page) -> float:
    from playwright.sync_api import Error

    # The editor is the table in the container Streamlit names after its widget key
    # (ui.state.editor_key: "w.personas.<version>" becomes class "st-key-w-personas-<version>");
    # its first row's persona name sits right of the narrow segment column. The grid is a
    # canvas, so the cell is found by position.
    try:
        editor = page.locator("[class*='st-key-w-personas-'] [data-testid='stDataFrame']")
        cell_editor = page.locator("textarea.gdg-input")
        # A click that lands while the grid is still starting opens nothing: tried again
        # (the time is taken from the key that commits the edit, not from here).
        for attempt in range(EDITOR_TRIES):
            box = editor.first.bounding_box(timeout=WAIT_MS)
            page.mouse.click(box["x"] + SEGMENT_COLUMN_PX + 30, box["y"] + 1.5 * GRID_ROW_PX)
            page.keyboard.press("Enter")  # opens the cell's editor over the canvas
            try:
                cell_editor.fill(NEW_PERSONA_NAME, timeout=EDITOR_WAIT_MS)
                break
            except Error:
                if attempt == EDITOR_TRIES - 1:
                    raise
                page.keyboard.press("Escape")  # whatever did open, closed before trying again
    except (Error, TypeError) as exc:  # TypeError: no box, the editor is not shown
        print(f"  Personas: {str(exc).splitlines()[0]}", file=sys.stderr)
        return math.inf
    # Timed from the key that commits the edit, as typing speed is the user's own.
    return _timed(lambda: page.keyboard.press("Enter"), page, title="Personas",
                  text=NEW_PERSONA_NAME)


def _measure_studio(browser, url: str, upload: Path | None) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page, first = _open(context, url, STUDIO_HOME)
        times = {"studio: first page": first}
        for link in STUDIO_PAGES:
            title = STUDIO_HOME if link == "Home" else link
            times[f"studio: → {link}"] = _timed(_click_link(page, link), page, title=title)
            if link == "Data" and upload is not None:
                times["studio: upload (no target)"] = _upload(page, upload)
            elif link == "Variables & K":
                times["studio: change K"] = _change_k(page)
                (times["studio: remove a variable: K charts"],
                 times["studio: remove a variable: page"]) = _remove_variable(page)
            elif link == "Personas":
                times["studio: rename a persona"] = _rename_persona(page)
            elif link == "Explore":
                times[EXPLORE_TAB_ROW] = _open_tab(page, EXPLORE_TAB, "Explore")
            elif link == "Plan":
                times[PLAN_TAB_ROW] = _open_tab(page, PLAN_TAB, "Plan")
        return times
    finally:
        context.close()


def _targets() -> dict[str, Target]:
    targets = {"studio: first page": Target("times", FIRST_PAGE_FACTOR, "floor: first page"),
               "studio: change K": Target("abs", K_PANEL_S),
               "studio: remove a variable: K charts": Target("abs", K_PANEL_S),
               "studio: remove a variable: page": Target("abs", INTERACTION_S),
               "studio: rename a persona": Target("abs", RENAME_S)}
    for link in STUDIO_PAGES:
        targets[f"studio: → {link}"] = Target("plus", SWITCH_MARGIN_S, "floor: page switch")
    for row in (EXPLORE_TAB_ROW, PLAN_TAB_ROW):
        targets[row] = Target("plus", SWITCH_MARGIN_S, "floor: page switch")
    return targets


def _launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def run_pages(runs: int, upload: Path | None) -> None:
    from playwright.sync_api import sync_playwright

    timings: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = _launch(p)
        try:
            for i in range(runs):
                print(f"run {i + 1} of {runs}…", file=sys.stderr)
                # One server at a time, each opened as soon as it answers, as a user who has
                # just started it: nothing the other does, and no idle time before the first
                # page, flatters either.
                with running_app(script=FLOOR_SCRIPT) as floor_url:
                    figures = _measure_floor(browser, floor_url)
                with running_app(script=STUDIO_SCRIPT) as url:
                    figures |= _measure_studio(browser, url, upload)
                for name, seconds in figures.items():
                    timings.setdefault(name, []).append(seconds)
        finally:
            browser.close()
    print(format_table(table_rows(timings, _targets())))


def _session(url: str, start: threading.Barrier, out: dict, key: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:  # one per thread: Playwright's sync API is not shared
        browser = _launch(p)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            start.wait()
            started = time.perf_counter()
            page, home = _open(context, url, STUDIO_HOME)
            page_k = (_timed(_click_link(page, "Variables & K"), page, title="Variables & K")
                      if math.isfinite(home) else math.inf)
            out[key] = (home, page_k, time.perf_counter() - started
                        if math.isfinite(page_k) else math.inf)
        finally:
            browser.close()


def _sessions_at_once(url: str, n: int) -> list[tuple[float, float, float]]:
    start = threading.Barrier(n)
    out: dict[int, tuple[float, float, float]] = {}
    threads = [threading.Thread(target=_session, args=(url, start, out, i)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [out.get(i, (math.inf,) * 3) for i in range(n)]


def concurrency_ratio(alone: float, together: list[float]) -> float:
    """The slowest concurrent session over the session alone (``inf`` if any timed out)."""
    if not together or not math.isfinite(alone) or alone <= 0:
        return math.nan
    return max(together) / alone


def run_sessions(n: int) -> None:
    with running_server() as (url, server):
        print("warm-up session (fills the server's caches)…", file=sys.stderr)
        _sessions_at_once(url, 1)
        cpu = cpu_seconds(server.pid)
        (alone,) = _sessions_at_once(url, 1)
        cpu_alone, cpu = cpu_seconds(server.pid) - cpu, cpu_seconds(server.pid)
        together = _sessions_at_once(url, n)
        cpu_together = cpu_seconds(server.pid) - cpu
    print(f"{'session':<10} {'home':>8} {'→ Variables & K':>16} {'total':>8}")
    for name, (home, page_k, total) in [("alone", alone),
                                        *((f"{i + 1} of {n}", t) for i, t in
                                          enumerate(together))]:
        print(f"{name:<10} {_seconds(home):>8} {_seconds(page_k):>16} {_seconds(total):>8}")
    ratio = concurrency_ratio(alone[2], [t[2] for t in together])
    verdict = "" if math.isnan(ratio) else ("met" if ratio <= CONCURRENCY_FACTOR else "MISSED")
    shown = "timeout" if math.isinf(ratio) else f"{ratio:.2f}"
    print(f"\nslowest of {n} at once / alone: {shown} (target ≤ {CONCURRENCY_FACTOR:g})  "
          f"{verdict}")
    # What the studio's server did, apart from the browsers on the same cores: a session's
    # server work stays the same when sessions share the cached results.
    print(f"server CPU: {cpu_alone:.2f} s for the session alone, {cpu_together:.2f} s for "
          f"{n} at once ({cpu_together / n:.2f} s per session); the browsers run on the same "
          f"{os.cpu_count()} CPUs")


def _data_path(choice: str) -> Path | None:
    if choice == "sample":
        return None  # the studio opens with the bundled sample loaded
    path = REAL_PATH if choice == "real" else Path(choice)
    if not path.exists():
        sys.exit(f"error: no customer file at {path}; pass --data sample, real or a path.")
    return path.resolve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of every timing (default 3)")
    parser.add_argument("--data", default="sample",
                        help="sample (bundled, default), real (../shared/data/"
                             "marketing_campaign.csv, uploaded on the Data page) or a path")
    parser.add_argument("--sessions", type=int, default=0,
                        help="open this many sessions at once against one studio instead "
                             "(the bundled sample; --runs and --data do not apply)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"error: {CHROMIUM} is missing; install Debian's chromium package.")
    upload = _data_path(args.data)
    print(f"Streamlit studio vs the floor app in headless Chromium; data: "
          f"{upload or 'bundled sample'}.\n")
    if args.sessions:
        run_sessions(args.sessions)
    else:
        run_pages(args.runs, upload)


if __name__ == "__main__":
    main()
