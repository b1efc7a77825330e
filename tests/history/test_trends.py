"""Trends and alerts of the run history, on small histories whose figures are written by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import rel_entr

from segmentation.errors import SegmentationError
from segmentation.history.store import History
from segmentation.history.trends import (
    _population_stability,
    alerts,
    find_line,
    persona_trend,
)


def test_psi_matches_the_hand_computed_case():
    # (0.4 - 0.5) ln(0.4 / 0.5) + (0.4 - 0.3) ln(0.4 / 0.3) + 0 = 0.022314 + 0.028768
    assert _population_stability([0.5, 0.3, 0.2], [0.4, 0.4, 0.2]) == pytest.approx(
        0.1 * math.log(0.5 / 0.4) + 0.1 * math.log(0.4 / 0.3))
    assert _population_stability([0.5, 0.3, 0.2], [0.4, 0.4, 0.2]) == pytest.approx(
        0.051083, abs=1e-6)


shares = st.lists(st.floats(0.01, 1.0), min_size=2, max_size=8)


@given(shares, st.data())
def test_psi_is_the_symmetric_kullback_leibler_divergence(raw, data):
    other = data.draw(st.lists(st.floats(0.01, 1.0), min_size=len(raw), max_size=len(raw)))
    p = np.asarray(raw) / sum(raw)
    q = np.asarray(other) / sum(other)
    expected = float(np.sum(rel_entr(q, p) + rel_entr(p, q)))
    assert _population_stability(p, q) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def _history(shares_by_run: list[dict[int, float]], stability: list[dict[int, float]]
             | None = None, run_stability: list[float] | None = None) -> History:
    """A history from shares per line per run; names "P<line>", the line's latest name."""
    n = len(shares_by_run)
    runs = pd.DataFrame({"run_id": range(1, n + 1),
                         "created": [f"2026-0{q + 1}-28" for q in range(n)],
                         "stability": run_stability or [math.nan] * n})
    rows = [{"run_id": r + 1, "segment": i, "line": line, "name": f"P{line}",
             "persona": f"P{line}", "size": round(share * 1000), "share": share,
             "stability": (stability or [{}] * n)[r].get(line, math.nan)}
            for r, by_line in enumerate(shares_by_run)
            for i, (line, share) in enumerate(by_line.items())]
    return History(runs=runs, personas=pd.DataFrame(rows), means=pd.DataFrame(),
                   signatures=pd.DataFrame(), path="h.sqlite")


def _kinds(found: pd.DataFrame) -> list[tuple]:
    return sorted(zip(found["run_id"], found["kind"], found["persona"], strict=True))


def test_share_moves_over_the_threshold_are_flagged_and_none_under_it():
    history = _history([{1: 0.3, 2: 0.5, 3: 0.2}, {1: 0.3, 2: 0.44, 3: 0.26}])
    assert _kinds(alerts(history)) == [(2, "share", "P2"), (2, "share", "P3")]
    assert alerts(history, share_threshold=0.07).empty
    moved = alerts(history).set_index("persona")["value"]
    assert moved.to_dict() == pytest.approx({"P2": -0.06, "P3": 0.06})


def test_vanished_and_appeared_personas_and_the_psi_they_cause():
    history = _history([{1: 0.5, 2: 0.5}, {1: 0.5, 3: 0.5}])
    found = alerts(history)
    assert _kinds(found) == [(2, "appeared", "P3"), (2, "psi", ""), (2, "vanished", "P2")]
    # Line 2: 0.5 -> 1e-4, line 3: 1e-4 -> 0.5 (a share of 0 counts as 1e-4).
    by_hand = 2 * (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert found.loc[found["kind"] == "psi", "value"].item() == pytest.approx(by_hand)


def test_psi_alone_over_a_quarter():
    # No share moves past the 25-point threshold set, but the mix shifts past PSI 0.25.
    old, new = {1: 0.6, 2: 0.3, 3: 0.1}, {1: 0.4, 2: 0.3, 3: 0.3}
    index = (0.4 - 0.6) * math.log(0.4 / 0.6) + (0.3 - 0.1) * math.log(0.3 / 0.1)  # 0.3008
    assert index > 0.25
    found = alerts(_history([old, new]), share_threshold=0.25)
    assert _kinds(found) == [(2, "psi", "")]
    assert found["value"].item() == pytest.approx(index)


def test_stability_alerts_when_it_falls_below_the_line_not_while_it_stays_there():
    history = _history([{1: 0.5, 2: 0.5}] * 3,
                       stability=[{1: 0.9, 2: 0.7}, {1: 0.7, 2: 0.6}, {1: 0.6, 2: 0.8}],
                       run_stability=[0.95, 0.7, 0.72])
    assert _kinds(alerts(history)) == [(2, "stability", ""), (2, "stability", "P1")]


def test_a_steady_history_raises_nothing():
    assert alerts(_history([{1: 0.3, 2: 0.5, 3: 0.2}] * 4,
                           run_stability=[0.9] * 4)).empty


def test_a_share_threshold_outside_0_1_is_refused():
    with pytest.raises(SegmentationError, match="fraction"):
        alerts(_history([{1: 1.0}]), share_threshold=5)


def test_trend_and_lookup_by_name_or_number():
    history = _history([{1: 0.4, 2: 0.6}, {1: 0.5, 2: 0.5}])
    assert persona_trend(history, 1)["share"].tolist() == [0.4, 0.5]
    assert find_line(history, "p2") == 2 and find_line(history, "2") == 2
    with pytest.raises(SegmentationError, match="No persona"):
        find_line(history, "Wine Lovers")
