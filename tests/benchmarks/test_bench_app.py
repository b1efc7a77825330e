"""The browser benchmark's arithmetic and table: limits, ratios to the floor, verdicts.

Only the pure parts: nothing here starts a server or a browser, and nothing is timed.
"""

from __future__ import annotations

import importlib.util
import math
import sys

import pytest

from tests.helpers import ROOT

_spec = importlib.util.spec_from_file_location("bench_app", ROOT / "benchmarks" / "bench_app.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_app"] = bench  # dataclasses look their module up while decorating
_spec.loader.exec_module(bench)
Target = bench.Target
INF = math.inf


def test_summarize_takes_the_median_and_the_worst():
    assert bench.summarize([3.0, 1.0, 2.0]) == (2.0, 3.0)
    assert bench.summarize([1.0, 4.0]) == (2.5, 4.0)


def test_a_timeout_is_the_worst_and_can_be_the_median():
    assert bench.summarize([1.0, INF, 2.0]) == (2.0, INF)
    assert bench.summarize([1.0, INF]) == (INF, INF)
    median, worst = bench.summarize([])
    assert math.isnan(median) and math.isnan(worst)


@pytest.mark.parametrize(("target", "floor", "limit"), [
    (Target("abs", 0.3), None, 0.3),
    (Target("abs", 1.0), 7.0, 1.0),            # a flat limit ignores the floor
    (Target("times", 1.3, "f"), 2.0, 2.6),
    (Target("plus", 0.5, "f"), 0.8, 1.3),
])
def test_limits_in_seconds(target, floor, limit):
    assert target.seconds(floor) == pytest.approx(limit)


@pytest.mark.parametrize("floor", [None, INF, math.nan])
def test_no_limit_against_a_missing_or_timed_out_floor(floor):
    assert math.isnan(Target("times", 1.3, "f").seconds(floor))
    assert math.isnan(Target("plus", 0.5, "f").seconds(floor))


def _rows():
    timings = {
        "floor: first page": [2.0, 4.0, 3.0],      # median 3.0
        "floor: page switch": [0.5, 0.7, 0.6],     # median 0.6
        "studio: first page": [3.0, 5.0, 3.9],     # median 3.9 = 1.3 × 3.0: met, on the limit
        "studio: → Data": [1.0, 1.2, 1.5],         # median 1.2 > 0.6 + 0.5
        "studio: rename": [0.2, 0.4, 0.25],        # median 0.25 ≤ 0.3
        "studio: change K": [0.5, INF, 0.9],       # median 0.9 ≤ 1, worst a timeout
    }
    targets = {"studio: first page": Target("times", 1.3, "floor: first page"),
               "studio: → Data": Target("plus", 0.5, "floor: page switch"),
               "studio: rename": Target("abs", 0.3),
               "studio: change K": Target("abs", 1.0)}
    return {r["name"]: r for r in bench.table_rows(timings, targets)}


def test_rows_against_the_floor():
    rows = _rows()
    first = rows["studio: first page"]
    assert (first["median"], first["worst"]) == (3.9, 5.0)
    assert first["limit"] == pytest.approx(3.9)
    assert first["ratio"] == pytest.approx(1.3)
    assert first["verdict"] == "met"
    data = rows["studio: → Data"]
    assert data["limit"] == pytest.approx(1.1)
    assert data["ratio"] == pytest.approx(2.0)
    assert data["verdict"] == "MISSED"


def test_rows_with_flat_limits_have_no_ratio():
    rows = _rows()
    assert rows["studio: rename"]["verdict"] == "met"
    assert math.isnan(rows["studio: rename"]["ratio"])
    change = rows["studio: change K"]
    assert (change["median"], change["worst"], change["verdict"]) == (0.9, INF, "met")
    assert rows["floor: first page"]["target"] is None
    assert rows["floor: first page"]["verdict"] == ""


def test_a_timed_out_floor_leaves_the_relative_rows_unjudged():
    rows = bench.table_rows(
        {"floor: first page": [INF], "studio: first page": [5.0]},
        {"studio: first page": Target("times", 1.3, "floor: first page")})
    studio = rows[1]
    assert math.isnan(studio["limit"]) and math.isnan(studio["ratio"])
    assert studio["verdict"] == ""


def test_a_timed_out_studio_figure_misses_its_target():
    (row,) = bench.table_rows({"studio: rename": [INF]}, {"studio: rename": Target("abs", 0.3)})
    assert row["verdict"] == "MISSED"


def test_the_table_prints_figures_limits_ratios_and_timeouts():
    lines = bench.format_table(list(_rows().values())).splitlines()
    assert lines[0].split() == ["interaction", "median", "worst", "target", "limit", "ratio",
                                "verdict"]
    by_name = {line.split("  ")[0].strip(): line for line in lines[1:]}
    first = by_name["studio: first page"]
    assert "3.90" in first and "5.00" in first and "≤ 1.3 × floor" in first
    assert first.endswith("1.30  met")
    assert by_name["studio: → Data"].endswith("1.10   2.00  MISSED")
    change = by_name["studio: change K"]
    assert "timeout" in change and "≤ 1 s" in change and change.endswith("1.00         met")
    assert by_name["floor: first page"].endswith("3.00     4.00")


def test_the_table_marks_a_missing_figure():
    (row,) = bench.table_rows({"floor: page switch": []}, {})
    assert "–" in bench.format_table([row]).splitlines()[1]


def test_concurrency_ratio_is_the_slowest_over_the_session_alone():
    assert bench.concurrency_ratio(2.0, [3.0, 5.0]) == 2.5
    assert bench.concurrency_ratio(2.0, [3.0, INF]) == INF
    assert math.isnan(bench.concurrency_ratio(INF, [3.0]))
    assert math.isnan(bench.concurrency_ratio(2.0, []))


def test_a_servers_cpu_seconds_are_the_kernels_count_for_it():
    import os

    from tools.browser import cpu_seconds

    if not sys.platform.startswith("linux"):
        pytest.skip("read from /proc, which only Linux has")
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(3_000_000))  # about a quarter of a second of work
    after = cpu_seconds(os.getpid())
    times = os.times()
    assert after - before > 0.05
    # The kernel's own figure for this process, in whole clock ticks.
    assert after == pytest.approx(times.user + times.system, abs=0.05)
