"""The Thompson-sampling simulation against a fixed 50/50 split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.plan.bandit import simulate


@pytest.fixture(scope="module")
def clear():
    return simulate({"A": 0.05, "B": 0.10}, n_visitors=10000, random_state=7)


def test_same_seed_same_run():
    first = simulate({"A": 0.10, "B": 0.12}, n_visitors=2000, random_state=3)
    second = simulate({"A": 0.10, "B": 0.12}, n_visitors=2000, random_state=3)
    pd.testing.assert_frame_equal(first.traffic, second.traffic)
    assert first.summary().as_dict() == second.summary().as_dict()
    other = simulate({"A": 0.10, "B": 0.12}, n_visitors=2000, random_state=4)
    assert not first.traffic.equals(other.traffic)


def test_bandit_avoids_the_clearly_worse_variant(clear):
    assert clear.best == "B" and clear.worse == "A"
    assert clear.bandit_share_worse < 0.20
    assert clear.bandit_shown["A"] + clear.bandit_shown["B"] == 10000
    assert clear.traffic["bandit_share_worse"].iloc[-1] == pytest.approx(
        clear.bandit_share_worse)


def test_fixed_split_sends_about_half(clear):
    assert clear.split_share_worse == pytest.approx(0.5, abs=0.02)
    assert clear.split_shown["A"] == pytest.approx(5000, abs=200)


def test_bandit_regret_not_above_split(clear):
    assert clear.bandit_regret <= clear.split_regret
    shown = clear.traffic["split_variant"].map({"A": 0.05, "B": 0.10})
    assert clear.split_regret == pytest.approx(float(np.sum(0.10 - shown)))


def test_equal_rates_starve_neither_variant():
    shares = [simulate({"A": 0.10, "B": 0.10}, n_visitors=3000, random_state=seed)
              .bandit_share_worse for seed in range(6)]
    assert 0.2 <= float(np.mean(shares)) <= 0.8


def test_summary_states_rates_and_result(clear):
    assert clear.summary().verdict.startswith("Simulation with true rates A 5%, B 10%: the bandit sent ")
    gain = clear.bandit_conversions - clear.split_conversions
    assert f"{clear.bandit_share_worse * 100:.0f}% of visitors to the worse variant" \
        in clear.summary().verdict
    assert f"{abs(gain)} {'more' if gain >= 0 else 'fewer'} conversions." in clear.summary().verdict


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"true_rates": {"A": 0.1}}, "exactly two"),
    ({"true_rates": {"A": 0.1, "B": 1.5}}, "between 0 and 1"),
    ({"n_visitors": 0}, "positive whole number"),
    ({"prior": (0, 1)}, "prior"),
])
def test_bad_settings_are_refused(kwargs, words):
    settings = {"true_rates": {"A": 0.1, "B": 0.2}, **kwargs}
    with pytest.raises(SegmentationError, match=words):
        simulate(**settings)
