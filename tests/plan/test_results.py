"""A/B campaign results: reading the file, lift per segment, overall and stratified (CMH)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from segmentation.errors import SegmentationError
from segmentation.plan.campaign_results import (
    _mh_risk_difference,
    analyse,
    outcomes_of,
    read_results,
)

SEGMENTS = 4
PER_ARM = 2000


def campaign(control: float, treatment: float, seed: int, per_arm: int = PER_ARM):
    """Results and assignments: SEGMENTS segments, per_arm customers per arm in each."""
    rng = np.random.default_rng(seed)
    ids, arms, clicked, segments = [], [], [], []
    for segment in range(SEGMENTS):
        for arm, rate in (("control", control), ("treatment", treatment)):
            ids += [f"{segment}{arm[0]}{i:05d}" for i in range(per_arm)]
            arms += [arm] * per_arm
            clicked += (rng.random(per_arm) < rate).astype(int).tolist()
            segments += [segment] * per_arm
    results = pd.DataFrame({"customer_id": ids, "arm": arms, "clicked": clicked,
                            "converted": 0})
    assignments = pd.DataFrame({"customer_id": ids, "segment": segments,
                                "persona": [f"Persona {s}" for s in segments]})
    return results, assignments


@pytest.fixture(scope="module")
def lifted():
    results, assignments = campaign(0.10, 0.15, seed=1)
    return results, assignments, analyse(results, assignments)


@pytest.fixture(scope="module")
def flat():
    results, assignments = campaign(0.10, 0.10, seed=1)
    return results, assignments, analyse(results, assignments)


# --- reading --------------------------------------------------------------------------------------

def test_read_results_keeps_ids_as_text_and_normalises_arms():
    data = (b"customer_id,arm,clicked,converted\n007,A,1,0\n0042,b,0,0\n"
            b"'-5x, Control ,1,1\n9,TREATMENT,0,0\n10,0,1,0\n11,1,0,1\n")
    frame = read_results(data)
    assert frame["customer_id"].tolist() == ["007", "0042", "-5x", "9", "10", "11"]
    assert frame["arm"].tolist() == ["control", "treatment", "control", "treatment",
                                     "control", "treatment"]
    assert frame["clicked"].tolist() == [1, 0, 1, 0, 1, 0]
    assert frame["converted"].dtype == np.int64


def test_read_results_with_mapped_columns_and_semicolons(tmp_path):
    path = tmp_path / "campaign.csv"
    path.write_bytes(b"ID;group;click;buy\n01;A;1;0\n02;B;0;1\n")
    frame = read_results(path, columns={"customer_id": "ID", "arm": "group",
                                        "clicked": "click", "converted": "buy"})
    assert list(frame.columns) == ["customer_id", "arm", "clicked", "converted"]
    assert frame["customer_id"].tolist() == ["01", "02"]
    assert frame["converted"].tolist() == [0, 1]


@pytest.mark.parametrize(("data", "words"), [
    (b"customer_id,arm,email\n1,A,a@b.c\n", "no outcome column"),
    (b"customer_id,arm\n1,A\n", "no outcome column"),
    (b"customer_id,arm,clicked,converted\n1,C,1,0\n", "unknown arm 'C'"),
    (b"customer_id,arm,clicked,converted\n1,A,2,0\n", "0 or 1"),
    (b"customer_id,arm,clicked,converted\n1,A,1,yes\n", "0 or 1"),
    (b"customer_id,arm,clicked,converted\n1,A,1,0\n1,B,0,0\n", "more than once"),
    (b"customer_id,arm,clicked,converted\n,A,1,0\n", "without a customer id"),
    (b"", "empty"),
])
def test_read_results_refuses_bad_files(data, words):
    with pytest.raises(SegmentationError, match=words):
        read_results(data)


def test_any_yes_no_column_is_an_outcome(lifted):
    results, assignments, _ = lifted
    data = pd.DataFrame({"customer_id": results["customer_id"], "group": results["arm"],
                         "renewed": results["clicked"].map({1: "yes", 0: "no"}),
                         "email": "x@example.com"}).to_csv(index=False).encode()
    frame = read_results(data, columns={"arm": "group"})
    assert outcomes_of(frame) == ["renewed"]  # the text column is not an outcome
    assert frame["renewed"].tolist() == results["clicked"].tolist()
    by_name = analyse(frame, assignments, outcome="renewed")
    by_click = analyse(results, assignments, outcome="clicked")
    pd.testing.assert_frame_equal(by_name.per_segment, by_click.per_segment)
    assert "'renewed' rate" in by_name.verdict
    with pytest.raises(SegmentationError, match="use one of 'renewed'"):
        analyse(frame, assignments, outcome="converted")


def test_a_file_with_only_clicks_is_analysed(lifted):
    results, assignments, _ = lifted
    data = results[["customer_id", "arm", "clicked"]].to_csv(index=False).encode()
    frame = read_results(data)
    assert outcomes_of(frame) == ["clicked"]
    assert analyse(frame, assignments).per_segment["n_control"].sum() > 0


def test_read_results_refuses_unknown_mapping_key_and_missing_path(tmp_path):
    with pytest.raises(SegmentationError, match="unknown field"):
        read_results(b"a\n1\n", columns={"id": "a"})
    with pytest.raises(SegmentationError, match="Cannot open"):
        read_results(tmp_path / "nope.csv")


# --- per segment ----------------------------------------------------------------------------------

def test_per_segment_numbers_equal_hand_computation(lifted):
    results, assignments, analysis = lifted
    table = analysis.per_segment
    assert table["segment"].tolist() == list(range(SEGMENTS))
    assert table["persona"].tolist() == [f"Persona {s}" for s in range(SEGMENTS)]
    merged = results.merge(assignments, on="customer_id")
    for row in table.itertuples():
        group = merged[merged["segment"] == row.segment]
        t = group[group["arm"] == "treatment"]["clicked"]
        c = group[group["arm"] == "control"]["clicked"]
        assert (row.n_treatment, row.n_control) == (len(t), len(c)) == (PER_ARM, PER_ARM)
        assert row.events_treatment == t.sum() and row.events_control == c.sum()
        assert row.rate_treatment == pytest.approx(t.mean())
        assert row.rate_control == pytest.approx(c.mean())
        assert row.abs_lift == pytest.approx(t.mean() - c.mean())
        assert row.rel_lift == pytest.approx(t.mean() / c.mean() - 1)
        low, high = confint_proportions_2indep(t.sum(), len(t), c.sum(), len(c),
                                               method="newcomb", compare="diff")
        assert (row.abs_lift_low, row.abs_lift_high) == pytest.approx((low, high))
        low, high = confint_proportions_2indep(t.sum(), len(t), c.sum(), len(c),
                                               method="log", compare="ratio")
        assert (row.rel_lift_low, row.rel_lift_high) == pytest.approx((low - 1, high - 1))
        _, p = proportions_ztest([t.sum(), c.sum()], [len(t), len(c)])
        assert row.p_value == pytest.approx(p)


@pytest.mark.parametrize(("correction", "method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_equal_multipletests(flat, correction, method):
    results, assignments, _ = flat
    analysis = analyse(results, assignments, correction=correction)
    expected = multipletests(analysis.per_segment["p_value"], method=method)[1]
    assert analysis.per_segment["p_adjusted"].to_numpy() == pytest.approx(expected)
    none = analyse(results, assignments, correction="none").per_segment
    assert none["p_adjusted"].tolist() == pytest.approx(none["p_value"].tolist())


# --- overall and stratified -----------------------------------------------------------------------

def test_known_effect_is_found(lifted):
    results, _, analysis = lifted
    overall, cmh = analysis.overall, analysis.cmh
    assert overall["n_treatment"] == overall["n_control"] == SEGMENTS * PER_ARM
    assert overall["abs_lift_low"] > 0 and overall["rel_lift_low"] > 0
    assert overall["rel_lift_low"] < 0.5 < overall["rel_lift_high"]
    assert overall["p_value"] < 0.001
    assert cmh["p_value"] < 0.001 and cmh["odds_ratio_low"] > 1
    assert cmh["risk_difference_low"] > 0
    assert analysis.per_segment["significant"].all()
    assert cmh["risk_ratio_low"] > 1 and cmh["p_value"] < 0.05
    assert analysis.verdict.startswith(
        f"Segmented messaging lifted click-through by {(cmh['risk_ratio'] - 1) * 100:.1f}% "
        "within segments (Mantel-Haenszel risk ratio ")
    assert f"Crude lift, pooling all customers and ignoring segments: " \
        f"{overall['rel_lift'] * 100:+.1f}%" in analysis.verdict
    assert "95% CI" in analysis.verdict and "across 4 segment(s)" in analysis.verdict


def test_no_effect_gives_no_reliable_lift(flat):
    _, _, analysis = flat
    assert analysis.cmh["p_value"] > 0.05
    assert analysis.cmh["odds_ratio_low"] < 1 < analysis.cmh["odds_ratio_high"]
    assert analysis.verdict.startswith("No reliable lift: ")
    assert not analysis.per_segment["significant"].any()


def test_cmh_equals_stratified_table(lifted):
    _, _, analysis = lifted
    tables = [np.array([[r.events_treatment, r.n_treatment - r.events_treatment],
                        [r.events_control, r.n_control - r.events_control]])
              for r in analysis.per_segment.itertuples()]
    reference = StratifiedTable(tables)
    assert analysis.cmh["odds_ratio"] == pytest.approx(reference.oddsratio_pooled)
    low, high = reference.oddsratio_pooled_confint()
    assert (analysis.cmh["odds_ratio_low"], analysis.cmh["odds_ratio_high"]) == \
        pytest.approx((low, high))
    assert analysis.cmh["p_value"] == pytest.approx(reference.test_null_odds().pvalue)
    assert analysis.cmh["strata"] == SEGMENTS


def test_mh_risk_difference_weights_and_single_stratum_wald():
    # One stratum: the Mantel-Haenszel risk difference is the plain difference with a Wald CI.
    estimate, low, high, _ = _mh_risk_difference([np.array([[150, 850], [100, 900]])])
    se = np.sqrt(0.15 * 0.85 / 1000 + 0.10 * 0.90 / 1000)
    assert estimate == pytest.approx(0.05)
    assert (low, high) == pytest.approx((0.05 - 1.959964 * se, 0.05 + 1.959964 * se))
    # Two strata: weights n_t * n_c / N.
    tables = [np.array([[30, 70], [10, 90]]), np.array([[20, 380], [40, 560]])]
    w = np.array([100 * 100 / 200, 400 * 600 / 1000])
    d = np.array([0.30 - 0.10, 20 / 400 - 40 / 600])
    assert _mh_risk_difference(tables)[0] == pytest.approx(np.sum(w * d) / w.sum())


def test_customers_without_segment_are_counted_not_dropped(lifted):
    results, assignments, _ = lifted
    extra = pd.DataFrame({"customer_id": ["x1", "x2", "x3"], "arm": ["control", "treatment",
                                                                     "treatment"],
                          "clicked": [1, 1, 0], "converted": 0})
    analysis = analyse(pd.concat([results, extra], ignore_index=True), assignments)
    assert analysis.unassigned == 3 and analysis.overall["unassigned"] == 3
    assert analysis.overall["n_control"] == SEGMENTS * PER_ARM + 1
    assert analysis.overall["n_treatment"] == SEGMENTS * PER_ARM + 2
    assert analysis.per_segment["n_control"].sum() == SEGMENTS * PER_ARM
    assert any("3 customer(s)" in note for note in analysis.notes)


def test_segment_with_one_arm_is_reported_and_skipped():
    results = pd.DataFrame({"customer_id": list("abcdef"),
                            "arm": ["control", "treatment"] * 2 + ["control", "control"],
                            "converted": [0, 1, 1, 1, 0, 1], "clicked": 0})
    assignments = pd.DataFrame({"customer_id": list("abcdef"), "segment": [0, 0, 0, 0, 1, 1]})
    analysis = analyse(results, assignments, outcome="converted")
    row = analysis.per_segment.set_index("segment").loc[1]
    assert row["persona"] == "Segment 1" and np.isnan(row["p_value"])
    assert analysis.cmh["strata"] == 1
    assert any("one arm only" in note for note in analysis.notes)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"outcome": "bought"}, "Unknown outcome"),
    ({"correction": "bonferroni"}, "Unknown correction"),
    ({"alpha": 1.5}, "alpha"),
])
def test_analyse_refuses_bad_settings(flat, kwargs, words):
    results, assignments, _ = flat
    with pytest.raises(SegmentationError, match=words):
        analyse(results, assignments, **kwargs)


@pytest.mark.parametrize("value", [0, 1])
def test_an_outcome_that_never_varies_is_said_so(flat, value):
    results, assignments, _ = flat
    analysis = analyse(results.assign(clicked=value), assignments)
    assert analysis.verdict.startswith("No lift can be measured")
    assert "does not vary" in analysis.verdict
    assert "both arms" not in analysis.verdict
