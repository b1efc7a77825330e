"""AppTest: work that depends only on the data and settings is done once per server.

A second session on the same data reuses the first one's sweep and charts, and the
bootstrap runs in the background while the Validate page stays usable.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest

import charts
import charts.drivers
from segmentation.validate import stability
from tests.app.waiting import settled
from tests.helpers import ROOT
from tests.helpers.pages import PLAN, open_tab
from ui import cache, methods_section

APP_TIMEOUT = 180
K_PANEL_CHARTS = ("elbow_chart", "k_metrics_chart", "silhouette_diagram")
DRIVERS_CHART = "drivers_chart"  # the panel's last chart, from its own module
SPLITS_CHART = "split_tree_chart"  # how segments split as K grows, below the panel


def page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT).run()
    at.switch_page(path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def fresh_server():
    # The caches are the server's and outlive a test: an earlier test's sweep or figure
    # must not count as this one's.
    for cached in (cache.result, cache.sweep, cache.sweep_fits, cache.figure,
                   cache._bootstrap_slot):
        cached.clear()
    yield
    cache._bootstrap_slot.clear()  # a stand-in bootstrap must not reach a later test


@pytest.fixture
def calls(monkeypatch, fresh_server) -> Counter:
    """Counts of the engine's sweep and of each chart built."""
    counted = Counter()

    def counting(owner, name):
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            counted[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counting(cache, "sweep_k")
    for builder in K_PANEL_CHARTS:
        counting(charts, builder)
    counting(charts.drivers, DRIVERS_CHART)
    counting(methods_section, SPLITS_CHART)
    return counted


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_a_second_session_on_the_same_data_sweeps_and_draws_nothing_again(calls):
    every_chart = (*K_PANEL_CHARTS, DRIVERS_CHART, SPLITS_CHART)
    first = page("pages/variables.py")
    assert calls == Counter({"sweep_k": 1, **dict.fromkeys(every_chart, 1)})
    second = page("pages/variables.py")
    assert calls == Counter({"sweep_k": 1, **dict.fromkeys(every_chart, 1)})
    # The shared figures are the ones the first session was shown.
    assert chart_specs(second) == chart_specs(first)
    assert len(chart_specs(first)) == len(every_chart)


def test_going_back_to_a_k_already_shown_builds_no_chart(calls):
    at = page("pages/variables.py")
    recommended = at.button_group(key="w.k").value
    other = next(k for k in at.button_group(key="w.k").options if int(k) != recommended)
    at.button_group(key="w.k").set_value(int(other)).run()
    assert not at.exception, [e.message for e in at.exception]
    built = calls.copy()
    # Only the charts of the K shown are new; how segments split as K grows is the same.
    assert built == Counter({"sweep_k": 1, **dict.fromkeys((*K_PANEL_CHARTS, DRIVERS_CHART), 2),
                             SPLITS_CHART: 1})
    at.button_group(key="w.k").set_value(recommended).run()
    assert not at.exception, [e.message for e in at.exception]
    assert calls == built


def test_the_validate_page_is_usable_while_the_bootstrap_runs(monkeypatch, fresh_server):
    release, real = threading.Event(), stability.bootstrap_stability

    def held(*args, **kwargs):
        # Held until the page has been drawn: a page that waited for it would time out.
        release.wait(APP_TIMEOUT)
        return real(*args, **kwargs)

    monkeypatch.setattr(stability, "bootstrap_stability", held)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    try:
        at.switch_page("pages/validate.py").run()
        assert not at.exception, [e.message for e in at.exception]
        assert at.get("progress")
        assert any(m.label.startswith("Agreement") for m in at.metric)
        assert not any("mean_jaccard" in d.value.columns for d in at.dataframe)
    finally:
        release.set()
    settled(at)
    assert any("mean_jaccard" in d.value.columns for d in at.dataframe)


def test_a_bootstrap_that_fails_says_so_instead_of_running_forever(monkeypatch, fresh_server):
    def broken(*args, **kwargs):
        raise RuntimeError("a defect in the engine")

    monkeypatch.setattr(stability, "bootstrap_stability", broken)
    at = settled(page("pages/validate.py"))
    assert any("bootstrap stopped on an unexpected error" in e.value for e in at.error)
    assert any(m.label.startswith("Agreement") for m in at.metric)


def test_a_second_session_on_the_plan_page_reuses_the_bandit_simulation(monkeypatch,
                                                                          fresh_server):
    from segmentation.plan import bandit

    cache.bandit_simulation.clear()
    runs = []
    real = bandit.simulate

    def counted(*args, **kwargs):
        runs.append(kwargs.get("n_visitors"))
        return real(*args, **kwargs)

    monkeypatch.setattr(bandit, "simulate", counted)
    first, second = (open_tab(page(PLAN), "Bandit simulation", PLAN) for _ in range(2))
    assert len(runs) == 1
    verdicts = [[i.value for i in at.info if "bandit" in i.value.lower()] for at in (first, second)]
    assert verdicts[0] and verdicts[0] == verdicts[1]
    second.number_input(key="w.plan.visitors").set_value(20_000).run()
    assert not second.exception
    assert runs == [10_000, 20_000]


def test_bootstraps_run_one_at_a_time_and_stopping_drops_the_waiting_ones(monkeypatch,
                                                                          fresh_server):
    from types import SimpleNamespace

    from segmentation import RunConfig

    running, most, lock, release = [0], [0], threading.Lock(), threading.Event()

    def one(fm, seg, n_boot, *args, progress=None, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return f"bootstrap of {n_boot}"

    monkeypatch.setattr(stability, "bootstrap_stability", one)
    res = SimpleNamespace(features=None, segmentation=None, strata=None)
    slots = [cache.start_bootstrap("fp", RunConfig(), n, res) for n in (20, 50, 100)]
    release.set()
    for slot in slots:
        for _ in range(200):
            if slot.finished:
                break
            threading.Event().wait(0.05)
    assert [s.value for s in slots] == ["bootstrap of 20", "bootstrap of 50",
                                        "bootstrap of 100"]
    assert most[0] == 1  # one at a time, not a thread each

    release.clear()
    first, waiting = (cache.start_bootstrap("fp", RunConfig(), n, res) for n in (200, 300))
    # Stop once the first is running: a bootstrap not yet picked up is a waiting one, and a
    # busy machine can leave the worker thread that long before it starts the first.
    for _ in range(200):
        with lock:
            if running[0] == 1:
                break
        threading.Event().wait(0.05)
    threading.Timer(0.2, release.set).start()
    cache.stop_background_work()  # waits for the running one, drops the waiting one
    assert first.finished and not waiting.finished
    fresh = cache.start_bootstrap("fp", RunConfig(), 300, res)
    assert fresh is not waiting  # the slots were forgotten: a new request starts afresh
