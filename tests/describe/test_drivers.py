"""What drives the segments: eta squared, middle-50% range overlap, the income-split warning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from segmentation import RunConfig, run
from segmentation.config import CONSTANT_SPREAD, SPLIT_ETA2
from segmentation.describe.drivers import (
    DRIVER_COLUMNS,
    eta_squared,
    iqr_overlap,
    run_drivers,
    segment_drivers,
    split_warning,
)
from segmentation.export.outputs import summary_dict
from tests.helpers import to_tsv_bytes
from tests.helpers.drivers import drivers_customers
from tests.helpers.logs import order_log
from tests.helpers.logs import to_bytes as log_bytes

K3 = RunConfig(k=3, k_min=2, k_max=3, stability=False)


def _run(planted: str):
    frame = drivers_customers(planted=planted)
    return frame, run(to_tsv_bytes(frame), K3, name=f"{planted}.tsv")


@pytest.fixture(scope="module")
def income_split():
    return _run("income")


@pytest.fixture(scope="module")
def behaviour_groups():
    return _run("behaviour")


# --- eta squared against independent references ------------------------------------------------

def test_eta_squared_is_the_r2_of_ols_on_segment_dummies():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 300)
    y = rng.normal(size=300) + 0.8 * labels
    dummies = pd.get_dummies(labels, drop_first=True).to_numpy(float)
    r2 = OLS(y, add_constant(dummies)).fit().rsquared
    assert eta_squared(y, labels) == pytest.approx(r2, rel=1e-10)


def test_eta_squared_matches_scipy_one_way_anova():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 200)
    y = rng.gamma(2.0, 3.0, 200) + labels
    groups = [y[labels == g] for g in range(3)]
    f = stats.f_oneway(*groups).statistic
    df_between, df_within = 2, len(y) - 3
    # F = (SSB / dfb) / (SSW / dfw)  ->  eta2 = F dfb / (F dfb + dfw)
    assert eta_squared(y, labels) == pytest.approx(f * df_between / (f * df_between + df_within))


def test_eta_squared_of_a_category_pools_its_indicators():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 240)
    levels = np.where(rng.random(240) < 0.3 + 0.2 * labels, "a",
                      np.where(rng.random(240) < 0.5, "b", "c"))
    onehot = pd.get_dummies(levels).to_numpy(float)
    dummies = add_constant(pd.get_dummies(labels, drop_first=True).to_numpy(float))
    between = total = 0.0
    for column in onehot.T:
        fit = OLS(column, dummies).fit()
        between += fit.ess
        total += fit.centered_tss
    assert eta_squared(onehot, labels) == pytest.approx(between / total)


def test_eta_squared_ignores_missing_values_and_a_constant_is_nan():
    assert eta_squared([1.0, np.nan, 1.0, 3.0, 3.0], [0, 0, 0, 1, 1]) == 1.0
    assert np.isnan(eta_squared([2.0, 2.0, 2.0], [0, 1, 1]))


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(arrays(float, st.integers(6, 60), elements=finite), st.integers(0, 2**31),
       st.floats(0.01, 1e3), st.floats(-1e5, 1e5))
def test_eta_squared_is_a_share_invariant_to_affine_maps(y, seed, scale, shift):
    labels = np.random.default_rng(seed).integers(0, 3, len(y))

    def constant(v):  # its spread is lost in floating point beside its size
        return np.sqrt(np.mean((v - v.mean()) ** 2)) <= CONSTANT_SPREAD * np.abs(v).max()

    eta = eta_squared(y, labels)
    assert np.isnan(eta) == constant(y)
    if np.isnan(eta):
        return
    assert 0.0 <= eta <= 1.0
    # Scaling alone never changes the verdict; a shift can drown a tiny spread.
    assert eta_squared(y * scale, labels) == pytest.approx(eta, abs=1e-7)
    assert eta_squared(-y, labels) == pytest.approx(eta, abs=1e-7)
    mapped = y * scale + shift
    if constant(mapped):
        assert np.isnan(eta_squared(mapped, labels))
    else:
        assert eta_squared(mapped, labels) == pytest.approx(eta, abs=1e-7)


def test_a_tiny_spread_is_measured_in_any_unit():
    # One customer differs, in a unit where the difference is 1.9e-6: the same figure as in
    # a unit where it is 6.1e-5 (an absolute cut-off called the first constant).
    y = np.array([6.103515625e-05, 0, 0, 0, 0, 0])
    labels = np.array([0, 1, 1, 2, 2, 2])
    assert eta_squared(y, labels) == pytest.approx(1.0)
    assert eta_squared(y * 0.03125, labels) == pytest.approx(1.0)
    assert np.isnan(eta_squared(np.full(6, 7.5), labels))
    assert np.isnan(eta_squared(1e9 + np.r_[0, 0, 0, 0, 0, 1e-6], labels))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 20), min_size=2, max_size=6, unique=True),
       st.lists(st.integers(1, 30), min_size=6, max_size=6))
def test_eta_squared_is_one_when_constant_within_and_different_between(values, sizes):
    y = np.repeat(np.asarray(values, float), sizes[:len(values)])
    labels = np.repeat(np.arange(len(values)), sizes[:len(values)])
    assert eta_squared(y, labels) == pytest.approx(1.0)


# --- middle-50% overlap, by hand ---------------------------------------------------------------

def test_iqr_overlap_by_hand():
    # Segment 0's IQR is [1.75, 3.25] and segment 1's [11.75, 13.25]: apart.
    assert iqr_overlap([1, 2, 3, 4, 11, 12, 13, 14], [0] * 4 + [1] * 4) == 0.0
    # [1.75, 3.25] against [2.75, 4.25]: they share 0.5 of a 1.5 width.
    assert iqr_overlap([1, 2, 3, 4, 2, 3, 4, 5], [0] * 4 + [1] * 4) == pytest.approx(1 / 3)
    # A segment whose middle half is one value inside the other's range: full overlap.
    assert iqr_overlap([5, 5, 5, 5, 1, 3, 7, 9], [0] * 4 + [1] * 4) == 1.0
    # The largest over all pairs counts.
    y = [1, 2, 3, 4, 2, 3, 4, 5, 20, 21, 22, 23]
    assert iqr_overlap(y, [0] * 4 + [1] * 4 + [2] * 4) == pytest.approx(1 / 3)


# --- the run's drivers and the warning ---------------------------------------------------------

def test_drivers_cover_clustered_and_profiled_variables(income_split):
    _, result = income_split
    drivers = segment_drivers(result.features, result.segmentation.labels)
    assert tuple(drivers.columns) == DRIVER_COLUMNS
    clustered = set(drivers.loc[drivers["clustered"], "variable"])
    assert clustered == set(result.features.features)
    assert {"total_spend", "share_MntWines"} <= set(drivers.loc[~drivers["clustered"],
                                                                "variable"])
    eta = drivers["eta2"].dropna()
    assert eta.between(0, 1).all() and eta.is_monotonic_decreasing
    income = drivers.set_index("variable").loc["Income"]
    assert income["role"] == "demographic"
    assert income["eta2"] == pytest.approx(
        eta_squared(result.features.frame["Income"], result.segmentation.labels))
    behaviour = drivers[drivers["role"] == "behaviour"]
    assert behaviour["iqr_overlap"].isna().all()  # ranges are compared for levels only


def test_income_alone_separating_groups_fires_the_warning_naming_income(income_split):
    _, result = income_split
    warning = split_warning(result.features, result.segmentation.labels)
    assert warning is not None and warning.variable == "Income"
    assert warning.eta2 >= SPLIT_ETA2
    assert warning.message.startswith("The segments are largely an Income split")
    assert f"{warning.eta2:.0%}" in warning.message
    lows = sorted(lo for lo, _ in warning.ranges.values())
    highs = sorted(hi for _, hi in warning.ranges.values())
    assert all(h < lo for h, lo in zip(highs[:-1], lows[1:], strict=True))  # disjoint
    assert warning.strata == "Income:3"


def test_no_warning_with_behaviour_structure_and_random_income(behaviour_groups):
    _, result = behaviour_groups
    drivers = segment_drivers(result.features, result.segmentation.labels)
    assert drivers.set_index("variable").loc["Income", "eta2"] < 0.05
    assert split_warning(result.features, result.segmentation.labels, drivers) is None


def test_summary_json_carries_drivers_and_the_warning(income_split, behaviour_groups):
    _, result = income_split
    summary = json.loads(json.dumps(summary_dict(result), allow_nan=False))
    assert summary["drivers_warning"].startswith("The segments are largely an Income split")
    records = {r["variable"]: r for r in summary["drivers"]}
    assert set(records["Income"]) == set(DRIVER_COLUMNS)
    assert records["Income"]["iqrs_disjoint"] is True
    assert records["share_MntWines"]["iqr_overlap"] is None
    assert summary_dict(behaviour_groups[1])["drivers_warning"] is None


def test_the_real_file_is_an_income_split_by_default(real_result):
    warning = split_warning(real_result.features, real_result.segmentation.labels)
    assert warning is not None and warning.variable == "Income"
    assert "do not overlap" in warning.message


def test_an_order_logs_totals_count_as_spend_not_as_money_levels():
    result = run(log_bytes(order_log(400)), K3, name="orders.csv")
    drivers, warning = run_drivers(result)
    roles = drivers.set_index("variable")["role"]
    assert set(result.dataset.log.log_features) <= set(roles.index)
    assert all(roles[f] in {"spend", "other"} for f in result.dataset.log.log_features)
    assert roles["net_spend"] == "spend" and roles["avg_order_value"] == "money"
    # The planted groups differ in rhythm and mix: no money level is what they are.
    assert warning is None
