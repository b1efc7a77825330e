"""Campaign test planning: sample sizes, per-segment plans, stratified arms, balance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from segmentation.errors import SegmentationError
from segmentation.plan.abtest import (
    _treatment_count,
    achieved_power,
    assign_arms,
    balance_table,
    plan_tests,
    sample_size_per_arm,
    sample_sizes,
)
from tests.helpers import assert_actionable


def textbook_n(p1: float, lift: float, alpha: float, power: float) -> float:
    """Normal-approximation two-proportion sample size per arm (pooled variance under H0)."""
    p2 = p1 * (1 + lift)
    pbar = (p1 + p2) / 2
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    top = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return top ** 2 / (p2 - p1) ** 2


def cohen_h_n(p1: float, lift: float, alpha: float, power: float) -> float:
    """Per-arm size from Cohen's h: n = 2 ((z_{1-a/2} + z_{1-b}) / h)^2."""
    p2 = p1 * (1 + lift)
    h = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))
    return 2 * ((norm.ppf(1 - alpha / 2) + norm.ppf(power)) / h) ** 2


def test_sample_size_by_hand_ten_percent_baseline():
    # p1 = 0.10, p2 = 0.115, z = 1.95996 and 0.84162: the textbook formula gives 6692.6.
    assert textbook_n(0.10, 0.15, 0.05, 0.8) == pytest.approx(6692.6, abs=0.1)
    # Cohen's h = 0.048505, so 2 * (2.80158 / 0.048505)^2 = 6686.2.
    assert cohen_h_n(0.10, 0.15, 0.05, 0.8) == pytest.approx(6686.2, abs=0.1)
    assert sample_size_per_arm(0.10) == 6687


@pytest.mark.parametrize("baseline, lift, alpha, power", [
    (0.10, 0.15, 0.05, 0.8), (0.05, 0.3, 0.05, 0.9), (0.33, 0.15, 0.0167, 0.8),
    (0.5, 0.2, 0.01, 0.8), (0.02, 1.0, 0.1, 0.7), (0.8, 0.1, 0.05, 0.8),
])
def test_sample_size_matches_both_references(baseline, lift, alpha, power):
    n = sample_size_per_arm(baseline, lift, alpha, power)
    h_ref = cohen_h_n(baseline, lift, alpha, power)
    textbook = textbook_n(baseline, lift, alpha, power)
    assert isinstance(n, int)
    assert abs(n - h_ref) <= 1
    assert abs(math.ceil(textbook) - textbook) <= 1
    assert abs(n - textbook) / textbook < 0.05


def test_sample_size_moves_the_right_way():
    base = sample_size_per_arm(0.1)
    assert sample_size_per_arm(0.1, relative_lift=0.3) < base
    assert sample_size_per_arm(0.1, alpha=0.01) > base
    assert sample_size_per_arm(0.1, power=0.9) > base


@pytest.mark.parametrize("kwargs", [
    {"baseline": 0}, {"baseline": 1}, {"baseline": -0.1}, {"baseline": 0.1, "relative_lift": 0},
    {"baseline": 0.9, "relative_lift": 0.2}, {"baseline": 0.1, "alpha": 0},
    {"baseline": 0.1, "alpha": 1.5}, {"baseline": 0.1, "power": 1},
    {"baseline": float("nan")}, {"baseline": 0.1, "relative_lift": True},
])
def test_sample_size_rejects_bad_inputs(kwargs):
    with pytest.raises(SegmentationError) as err:
        sample_size_per_arm(**kwargs)
    assert_actionable(str(err.value))


def test_plan_holm_uses_bonferroni_level():
    sizes = {0: 40_000, 1: 500, 2: 150}
    rates = {0: 0.1, 1: 0.2, 2: 0.3}
    plan = plan_tests(sizes, rates, correction="holm").set_index("segment")
    assert plan["per_test_alpha"].eq(0.05 / 3).all()
    assert plan.loc[0, "needed_per_arm"] == sample_size_per_arm(0.1, 0.15, 0.05 / 3, 0.8)
    assert plan.loc[0, "available_per_arm"] == 20_000
    assert plan.loc[0, "big_enough"] and plan.loc[0, "advice"] == "big enough"
    assert not plan.loc[1, "big_enough"]
    short = plan.loc[1, "needed_per_arm"] - 250
    assert plan.loc[1, "advice"] == (
        "merge with a similar segment or run the campaign for longer: "
        f"needs {short:,} more customers per arm")
    assert plan.loc[1, "rule_of_thumb_ok"] and not plan.loc[2, "rule_of_thumb_ok"]


@pytest.mark.parametrize("correction", ["bh", "none"])
def test_plan_bh_and_none_use_alpha(correction):
    plan = plan_tests({0: 1000, 1: 2000}, {0: 0.1, 1: 0.2}, correction=correction)
    assert plan["per_test_alpha"].eq(0.05).all()
    assert plan.loc[0, "needed_per_arm"] == sample_size_per_arm(0.1)
    holm = plan_tests({0: 1000, 1: 2000}, {0: 0.1, 1: 0.2}, correction="holm")
    assert (holm["needed_per_arm"] > plan["needed_per_arm"]).all()


def test_plan_uneven_split_counts_the_smaller_arm():
    plan = plan_tests({0: 1001}, {0: 0.2}, split=0.3)
    assert plan.loc[0, "available_per_arm"] == 300


@pytest.mark.parametrize("args, kwargs", [
    (({0: 100}, {0: 0.1}), {"correction": "sidak"}),
    (({0: 100}, {1: 0.1}), {}),
    (({0: 100}, {0: 0.0}), {}),
    (({0: 100}, {0: 0.1}), {"split": 1.0}),
    (({0: -5}, {0: 0.1}), {}),
    (({}, {}), {}),
])
def test_plan_rejects_bad_inputs(args, kwargs):
    with pytest.raises(SegmentationError) as err:
        plan_tests(*args, **kwargs)
    assert_actionable(str(err.value))


def test_plan_on_sample(sample_result):
    from segmentation.plan.value import response_rates

    rates = response_rates(sample_result)
    sizes = dict(zip(rates["segment"], rates["n"], strict=True))
    plan = plan_tests(sizes, dict(zip(rates["segment"], rates["rate"], strict=True)))
    assert len(plan) == sample_result.chosen_k
    assert (plan["available_per_arm"] == [n // 2 for n in sizes.values()]).all()


def test_arms_are_stratified_and_exact():
    ids = [f"C{i}" for i in range(101)]
    segments = [0] * 50 + [1] * 37 + [2] * 14
    arms = assign_arms(ids, segments, split=0.5)
    assert arms["customer_id"].tolist() == ids
    assert set(arms["arm"]) == {"control", "treatment"}
    counts = arms[arms["arm"] == "treatment"].groupby("segment").size()
    for s, n in {0: 50, 1: 37, 2: 14}.items():
        assert counts[s] == round(n * 0.5)
    uneven = assign_arms(ids, segments, split=0.3)
    counts = uneven[uneven["arm"] == "treatment"].groupby("segment").size()
    for s, n in {0: 50, 1: 37, 2: 14}.items():
        assert counts[s] == round(n * 0.3)


def test_arms_are_seeded():
    ids = list(range(500))
    segments = np.arange(500) % 4
    a = assign_arms(ids, segments, random_state=7)
    b = assign_arms(ids, segments, random_state=7)
    c = assign_arms(ids, segments, random_state=8)
    assert a.equals(b)
    assert not a["arm"].equals(c["arm"])


def test_arms_do_not_depend_on_input_order():
    # Documented: customers are sorted by identifier within a segment before shuffling.
    rng = np.random.default_rng(0)
    ids = np.array([f"C{i:04d}" for i in range(300)])
    segments = rng.integers(0, 3, 300)
    order = rng.permutation(300)
    a = assign_arms(ids, segments, random_state=3).set_index("customer_id")
    b = assign_arms(ids[order], segments[order], random_state=3).set_index("customer_id")
    assert a.loc[ids, "arm"].tolist() == b.loc[ids, "arm"].tolist()


def test_small_segments_are_never_wholly_one_arm():
    assert _treatment_count(3, 0.1) == 1
    assert _treatment_count(3, 0.9) == 2
    assert _treatment_count(1, 0.5) in (0, 1)
    arms = assign_arms(["a", "b"], [0, 0], split=0.1)
    assert sorted(arms["arm"]) == ["control", "treatment"]


@pytest.mark.parametrize("args", [(["a", "a"], [0, 1]), (["a", "b"], [0])])
def test_assign_rejects_bad_inputs(args):
    with pytest.raises(SegmentationError) as err:
        assign_arms(*args)
    assert_actionable(str(err.value))


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 60), min_size=1, max_size=6),
       split=st.sampled_from([0.5, 0.3, 0.2, 0.75]), seed=st.integers(0, 2**31 - 1))
def test_arms_partition_customers(sizes, split, seed):
    segments = np.repeat(np.arange(len(sizes)), sizes)
    np.random.default_rng(seed).shuffle(segments)
    ids = [f"id{i}" for i in range(segments.size)]
    arms = assign_arms(ids, segments, split=split, random_state=seed)
    assert sorted(arms["customer_id"]) == sorted(ids)
    assert arms["customer_id"].is_unique
    assert set(arms["arm"]) <= {"control", "treatment"}
    assert (arms["segment"].to_numpy() == segments).all()
    for s, n in enumerate(sizes):
        treated = int(((arms["segment"] == s) & (arms["arm"] == "treatment")).sum())
        assert treated == _treatment_count(n, split)
        if split == 0.5:
            assert treated == round(n * split)
        if n >= 2:
            assert 0 < treated < n


def test_balance_by_hand():
    arms = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": [0, 0, 0, 0],
                         "arm": ["control", "control", "treatment", "treatment"]})
    values = pd.DataFrame({"x": [1.0, 3.0, 2.0, 6.0]}, index=["a", "b", "c", "d"])
    table = balance_table(arms, values)
    row = table.iloc[0]
    assert (row["mean_control"], row["mean_treatment"]) == (2.0, 4.0)
    # Variances 2 and 8, pooled sd sqrt(5): SMD = 2 / sqrt(5).
    assert row["smd"] == pytest.approx(2 / math.sqrt(5))
    assert (row["n_control"], row["n_treatment"]) == (2, 2)


def test_balance_on_sample(sample_result):
    seg = sample_result.segmentation
    arms = assign_arms(seg.customer_ids, seg.labels, random_state=42)
    columns = ["Income", "total_spend", "Recency"]
    table = balance_table(arms, sample_result.features.frame, columns)
    sizes = arms.groupby("segment").size()
    big = sizes[sizes >= 200].index
    assert len(big) > 0
    checked = table[table["segment"].isin(big)]
    assert len(checked) == len(big) * len(columns)
    assert checked["smd"].abs().lt(0.2).all(), checked


def test_an_uneven_split_is_planned_with_its_allocation_ratio():
    # 7,000 customers split 20/80: 1,400 treated against 5,600 controls. Baseline 29%, +15%.
    p1, p2, alpha, power = 0.29, 0.29 * 1.15, 0.05, 0.8
    h = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    # Var(h) = 1/n_t + 1/n_c with n_c = 4 n_t: n_t = (1 + 1/4) (z / h)^2, against 2 (z / h)^2
    # for each of two equal arms.
    treated = 1.25 * (z / h) ** 2
    equal = 2 * (z / h) ** 2
    se = math.sqrt(1 / 1400 + 1 / 5600)
    reached = norm.cdf(h / se - norm.ppf(1 - alpha / 2)) + norm.cdf(-h / se - norm.ppf(1 - alpha / 2))
    plan = plan_tests({0: 7000}, {0: p1}, relative_lift=0.15, split=0.2).iloc[0]
    assert (plan["available_treatment"], plan["available_control"]) == (1400, 5600)
    assert plan["needed_treatment"] == math.ceil(treated)
    assert plan["needed_control"] == math.ceil(4 * treated)
    assert plan["needed_per_arm"] == plan["needed_treatment"] < 1400
    assert plan["power"] == pytest.approx(reached, abs=1e-6)
    assert 0.85 < plan["power"] < 0.9
    assert plan["big_enough"] and plan["advice"] == "big enough"
    # The equal-arm requirement would have asked for more than the 1,400 treated on hand.
    assert sample_size_per_arm(p1) == math.ceil(equal) > 1400


def test_a_short_uneven_plan_says_what_each_arm_lacks():
    plan = plan_tests({0: 7000}, {0: 0.2}, split=0.2).iloc[0]
    treated, control = sample_sizes(0.2, 0.15, 0.05, 0.8, split=0.2)
    assert (plan["needed_treatment"], plan["needed_control"]) == (treated, control)
    assert not plan["big_enough"] and plan["power"] < 0.8
    assert plan["advice"].endswith(
        f"needs {treated - 1400:,} more treated and {control - 5600:,} more control customers")


@settings(max_examples=40, deadline=None)
@given(baseline=st.floats(0.02, 0.6), lift=st.floats(0.05, 0.5), split=st.floats(0.1, 0.9))
def test_needed_arms_reach_the_power_and_one_fewer_does_not(baseline, lift, split):
    treated, control = sample_sizes(baseline, lift, 0.05, 0.8, split=split)
    assert achieved_power(baseline, lift, 0.05, treated, control) >= 0.8 - 1e-9
    ratio = (1 - split) / split
    shorter = treated - 1
    assert achieved_power(baseline, lift, 0.05, shorter, shorter * ratio) < 0.8
    # The split's mirror image swaps the arms.
    mirrored = sample_sizes(baseline, lift, 0.05, 0.8, split=1 - split)
    assert abs(mirrored[0] - control) <= 1 and abs(mirrored[1] - treated) <= 1


@pytest.mark.parametrize("baseline", [5e-324, 1e-300, 1e-30])
def test_a_vanishing_baseline_gets_one_sentence(baseline):
    # statsmodels' solver returned nan here, and int(nan) raised a bare ValueError.
    with pytest.raises(SegmentationError, match="too small a difference to size a test"):
        plan_tests({0: 1000}, {0: baseline})


@settings(max_examples=200, deadline=None)
@given(baseline=st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True),
       lift=st.floats(min_value=1e-6, max_value=3))
def test_any_open_unit_baseline_gives_a_plan_or_one_sentence(baseline, lift):
    try:
        needed_treatment, needed_control = sample_sizes(baseline, lift)
    except SegmentationError as error:
        assert "\n" not in str(error)
    else:
        assert needed_treatment >= 1 and needed_control >= 1
