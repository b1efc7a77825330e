"""The campaign verdict: Mantel-Haenszel estimates with their intervals, crude lift beside them."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.proportion import confint_proportions_2indep

from segmentation.plan.campaign_results import _mh_risk_difference, _mh_risk_ratio, analyse

Z95 = 1.959963984540054


def customers(segment: int, arm: str, n: int, events: int) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"{segment}{arm[0]}{i}" for i in range(n)],
                         "arm": arm, "segment": segment,
                         "converted": [1] * events + [0] * (n - events)})


@pytest.fixture(scope="module")
def simpson():
    """Conversion up 20% (relative) in both segments, treatment mostly in the low segment.

    Segment 0 converts 30% without and 36% with segmented messaging; segment 1, 5% and 6%.
    Segment 0 has 1,000 treated and 9,000 controls, segment 1 the reverse, so pooled the
    treated convert 9.0% and the controls 27.5%: a crude lift of 0.09 / 0.275 - 1 = -67.3%.
    """
    frame = pd.concat([customers(0, "treatment", 1000, 360), customers(0, "control", 9000, 2700),
                       customers(1, "treatment", 9000, 540), customers(1, "control", 1000, 50)],
                      ignore_index=True)
    results = frame[["customer_id", "arm", "converted"]]
    return analyse(results, frame[["customer_id", "segment"]], outcome="converted")


def quoted_interval(sentence: str, name: str) -> tuple[float, float, float]:
    found = re.search(rf"{name} ([-+\d.]+)[^,;]*, 95% CI ([-+\d.]+) to ([-+\d.]+)", sentence)
    assert found, sentence
    return tuple(float(x) for x in found.groups())


def test_simpson_case_reports_the_stratified_lift(simpson):
    cmh, overall, verdict = simpson.cmh, simpson.overall, simpson.verdict
    # By hand: every segment has a risk ratio of exactly 1.2, so the Mantel-Haenszel one is 1.2;
    # the weights n_t * n_c / N are 900 in both segments, so the risk difference is
    # (0.06 + 0.01) / 2 = 0.035.
    assert cmh["risk_ratio"] == pytest.approx(1.2)
    assert cmh["risk_difference"] == pytest.approx(0.035)
    assert overall["rel_lift"] == pytest.approx(0.09 / 0.275 - 1)
    assert cmh["p_value"] < 0.001
    assert cmh["risk_ratio_low"] > 1 and cmh["risk_difference_low"] > 0
    main, crude = verdict.split(" Crude lift")
    assert main.startswith("Segmented messaging lifted conversion by 20.0% within segments")
    rr, low, high = quoted_interval(main, "risk ratio")
    assert (rr, low, high) == pytest.approx(
        (cmh["risk_ratio"], cmh["risk_ratio_low"], cmh["risk_ratio_high"]), abs=0.005)
    assert 1 < low < rr < high
    rd, low, high = quoted_interval(main, "difference")
    assert 0 < low < rd < high and rd == pytest.approx(3.5)
    assert "p < 0.001" in main and "-67.3%" not in main
    # The crude figure stands beside, labelled, with its own interval and the warning.
    assert ", pooling all customers and ignoring segments: -67.3%" in crude
    assert "opposite direction" in crude


def test_simpson_case_agrees_with_statsmodels(simpson):
    tables = [np.array([[360, 640], [2700, 6300]]), np.array([[540, 8460], [50, 950]])]
    reference = StratifiedTable(tables)
    assert simpson.cmh["risk_ratio"] == pytest.approx(reference.riskratio_pooled)
    assert simpson.cmh["odds_ratio"] == pytest.approx(reference.oddsratio_pooled)
    assert simpson.cmh["p_value"] == pytest.approx(reference.test_null_odds().pvalue)
    assert simpson.cmh["rel_lift"] == pytest.approx(reference.riskratio_pooled - 1)


def test_mh_estimates_by_hand_two_strata():
    tables = [np.array([[30, 70], [10, 90]]), np.array([[20, 380], [40, 560]])]
    # Risk ratio: sum(a n_c / N) = 30*100/200 + 20*600/1000 = 27, sum(c n_t / N) = 5 + 16 = 21.
    # Var(log RR) = [(100*100*40 - 30*10*200)/200^2 + (400*600*60 - 20*40*1000)/1000^2]
    #             / (27 * 21) = (8.5 + 13.6) / 567.
    rr, low, high, p = _mh_risk_ratio(tables)
    se = math.sqrt(22.1 / 567)
    assert rr == pytest.approx(9 / 7)
    assert (low, high) == pytest.approx((9 / 7 * math.exp(-Z95 * se), 9 / 7 * math.exp(Z95 * se)))
    assert (low, high) == pytest.approx((0.87316, 1.89318), abs=1e-5)
    # Risk difference: weights 50 and 240; (3000 - 1000)/200 + (12000 - 16000)/1000 = 6; 6/290.
    # Sato: P = -5 and 23.2, Q = 8.5 and 13.2, so Var = (6/290 * 18.2 + 21.7) / 290^2.
    rd, low, high, p_rd = _mh_risk_difference(tables)
    se = math.sqrt((6 / 290 * 18.2 + 21.7) / 290**2)
    assert rd == pytest.approx(6 / 290)
    assert (low, high) == pytest.approx((6 / 290 - Z95 * se, 6 / 290 + Z95 * se))
    assert (low, high) == pytest.approx((-0.011066, 0.052445), abs=1e-6)
    assert p_rd > 0.05 and p > 0.05


def test_one_stratum_reduces_to_the_two_proportion_intervals():
    table = [np.array([[150, 850], [100, 900]])]
    rr, low, high, _ = _mh_risk_ratio(table)
    expected = confint_proportions_2indep(150, 1000, 100, 1000, method="log", compare="ratio")
    assert rr == pytest.approx(1.5)
    assert (low, high) == pytest.approx(tuple(float(x) for x in expected))
    _, low, high, _ = _mh_risk_difference(table)
    expected = confint_proportions_2indep(150, 1000, 100, 1000, method="wald", compare="diff")
    assert (low, high) == pytest.approx(tuple(float(x) for x in expected))


def test_intervals_cover_the_true_effect_in_many_small_segments():
    # Twelve segments of 30 customers per arm, a common risk ratio of 1.5: the intervals
    # are meant for sparse strata too, so about 95% of them must contain the truth.
    rng = np.random.default_rng(7)
    control = np.linspace(0.1, 0.4, 12)
    treated = control * 1.5
    rd_true = np.sum(30 * 30 / 60 * (treated - control)) / np.sum(np.full(12, 15.0))
    covered_rr = covered_rd = 0
    reps = 800
    for _ in range(reps):
        a, c = rng.binomial(30, treated), rng.binomial(30, control)
        tables = [np.array([[x, 30 - x], [y, 30 - y]]) for x, y in zip(a, c, strict=True)]
        _, low, high, _ = _mh_risk_ratio(tables)
        covered_rr += low <= 1.5 <= high
        _, low, high, _ = _mh_risk_difference(tables)
        covered_rd += low <= rd_true <= high
    assert 0.93 <= covered_rr / reps <= 0.97
    assert 0.93 <= covered_rd / reps <= 0.97


tables_strategy = st.lists(
    st.tuples(st.integers(5, 200), st.integers(5, 200), st.floats(0.02, 0.6),
              st.floats(0.02, 0.6)),
    min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(strata=tables_strategy, seed=st.integers(0, 2**16))
def test_verdict_direction_intervals_and_p_value_agree(strata, seed):
    rng = np.random.default_rng(seed)
    frames = []
    for s, (n_t, n_c, p_t, p_c) in enumerate(strata):
        frames += [customers(s, "treatment", n_t, int(rng.binomial(n_t, p_t))),
                   customers(s, "control", n_c, int(rng.binomial(n_c, p_c)))]
    frame = pd.concat(frames, ignore_index=True)
    analysis = analyse(frame[["customer_id", "arm", "converted"]],
                       frame[["customer_id", "segment"]], outcome="converted")
    cmh, verdict = analysis.cmh, analysis.verdict
    if verdict.startswith("No lift can be measured") or not math.isfinite(cmh["risk_ratio_p"]):
        return
    # The CMH statistic, the MH risk ratio, risk difference and odds ratio share one sign.
    score = sum((t[0, 0] * t[1].sum() - t[1, 0] * t[0].sum()) / t.sum()
                for t in (np.array([[r.events_treatment, r.n_treatment - r.events_treatment],
                                    [r.events_control, r.n_control - r.events_control]])
                          for r in analysis.per_segment.itertuples()))
    signs = {np.sign(round(score, 9)), np.sign(round(cmh["risk_difference"], 12)),
             np.sign(round(math.log(cmh["risk_ratio"]), 12))}
    assert len(signs) == 1
    # Each interval excludes the null exactly when its own (Wald) test rejects.
    rr_excludes = cmh["risk_ratio_low"] > 1 or cmh["risk_ratio_high"] < 1
    assert rr_excludes == (cmh["risk_ratio_p"] < 0.05)
    rd_excludes = cmh["risk_difference_low"] > 0 or cmh["risk_difference_high"] < 0
    assert rd_excludes == (cmh["risk_difference_p"] < 0.05)
    # The verdict claims a lift only when the CMH test and both intervals say so, in the
    # estimates' direction, and calls it unreliable only when none does.
    if verdict.startswith("Segmented messaging"):
        assert cmh["p_value"] < 0.05 and rr_excludes and rd_excludes
        assert ("lifted" in verdict) == (cmh["risk_difference"] > 0)
    elif verdict.startswith("No reliable lift"):
        assert cmh["p_value"] >= 0.05 and not rr_excludes and not rd_excludes
    else:
        assert verdict.startswith("Borderline")
    assert "Crude lift, pooling all customers and ignoring segments" in verdict
