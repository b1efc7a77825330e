"""Segment value (revenue, CLV, budget cap) and campaign response rates."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from segmentation.errors import SegmentationError
from segmentation.plan.value import (
    ValueAssumptions,
    clv_multiplier,
    response_rates,
    segment_value,
    spend_window,
)
from tests.helpers import assert_actionable


def fake_result(frame: pd.DataFrame, labels, personas=None, spend=()):
    """The parts of a SegmentationResult the value functions read; ``spend`` names spend columns."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1

    def first(kind, detail=None):
        return {"total_spend": "total_spend", "tenure": "tenure_days",
                "campaigns_accepted": "campaigns_accepted"}.get(kind)

    return SimpleNamespace(
        features=SimpleNamespace(frame=frame),
        segmentation=SimpleNamespace(labels=labels, n_clusters=k),
        profiles=SimpleNamespace(first=first, kind=lambda kind: list(spend) if kind == "spend"
                                 else []),
        personas=tuple(SimpleNamespace(segment=s, name=n) for s, n in (personas or {}).items()),
    )


@pytest.fixture
def small():
    # Segment 0: two customers spending 100 and 300; segment 1: one spending 600. The spend
    # comes from Kaggle-style Mnt* columns, documented as the last two years. Tenure goes up
    # to 3 years and must not set the window.
    frame = pd.DataFrame({"total_spend": [100.0, 300.0, 600.0],
                          "tenure_days": [1095.75, 100.0, 365.25]})
    return fake_result(frame, [0, 0, 1], {0: "Savers", 1: "Spenders"},
                       spend=("MntWines", "MntFruits"))


def test_clv_arithmetic_by_hand(small):
    table = segment_value(small).set_index("segment")
    assert table.loc[0, "persona"] == "Savers"
    assert table.loc[0, "customers"] == 2
    assert table.loc[0, "revenue"] == 400.0
    assert table["window_years"].tolist() == [2.0, 2.0]
    # 400 / 2 customers / 2 years = 100 a year; margin 30% = 30; retention 0.8 and discount
    # 0.1 give 1 + 0.8/1.1 + (0.8/1.1)^2 + ... = 1.1 / 0.3 years, so CLV = 30 * 1.1 / 0.3 = 110,
    # and the cap is 20% of it: 22.
    assert table.loc[0, "avg_annual_spend"] == pytest.approx(100.0)
    assert table.loc[0, "annual_margin"] == pytest.approx(30.0)
    assert table.loc[0, "clv"] == pytest.approx(110.0)
    assert table.loc[0, "budget_cap"] == pytest.approx(22.0)
    # 600 / 1 / 2 = 300 a year; margin 90; CLV 330; cap 66.
    assert table.loc[1, "clv"] == pytest.approx(330.0)
    assert table.loc[1, "budget_cap"] == pytest.approx(66.0)
    assert table.loc[0, "share_customers"] == pytest.approx(2 / 3)
    assert table.loc[1, "share_revenue"] == pytest.approx(0.6)


def test_per_segment_overrides_and_names(small):
    table = segment_value(small, names={1: "Big Spenders"}, margin_rate=0.5, discount_rate=0.0,
                          per_segment={1: {"retention": 0.5, "budget_fraction": 0.1}})
    table = table.set_index("segment")
    assert table.loc[1, "persona"] == "Big Spenders"
    # Segment 0 keeps the defaults given: margin 50 a year, 1 / (1 - 0.8) = 5 years: 250, cap 50.
    assert table.loc[0, "clv"] == pytest.approx(250.0)
    assert table.loc[0, "budget_cap"] == pytest.approx(50.0)
    # Segment 1: margin 150 a year, 1 / (1 - 0.5) = 2 years: 300, cap 30.
    assert table.loc[1, "retention"] == 0.5
    assert table.loc[1, "clv"] == pytest.approx(300.0)
    assert table.loc[1, "budget_cap"] == pytest.approx(30.0)


def test_spend_window_is_what_the_file_documents_and_editable(small):
    assert spend_window(small) == 2.0 and spend_window(small, "MntWines") == 2.0
    frame = pd.DataFrame({"total_spend": [50.0, 150.0], "tenure_days": [10.0, 900.0]})
    other = fake_result(frame, [0, 0], spend=("wine_spend",))
    assert spend_window(other) == 1.0  # a year's spend unless the file says otherwise
    table = segment_value(other)
    assert table.loc[0, "window_years"] == 1.0
    assert table.loc[0, "avg_annual_spend"] == pytest.approx(100.0)
    assert table.loc[0, "persona"] == "Segment 0"
    table = segment_value(small, window_years=4.0).set_index("segment")
    assert table.loc[0, "avg_annual_spend"] == pytest.approx(50.0)
    assert table.loc[0, "clv"] == pytest.approx(55.0)


@pytest.mark.parametrize("kwargs", [
    {"retention": 1.5}, {"margin_rate": 0}, {"budget_fraction": -0.1},
    {"discount_rate": 2.0}, {"retention": 1.0, "discount_rate": 0.0},
    {"window_years": 0}, {"window_years": float("nan")},
    {"per_segment": {5: {"retention": 0.5}}}, {"per_segment": {0: {"discount": 0.1}}},
    {"per_segment": {0: {"retention": float("nan")}}},
])
def test_bad_settings_are_one_actionable_sentence(small, kwargs):
    with pytest.raises(SegmentationError) as err:
        segment_value(small, **kwargs)
    assert_actionable(str(err.value))


def test_assumptions_defaults():
    assert ValueAssumptions() == ValueAssumptions(0.3, 0.8, 0.1, 0.2)


@settings(max_examples=80, deadline=None)
@given(margin=st.floats(0.01, 0.95), retention=st.floats(0.05, 0.95),
       discount=st.floats(0.0, 0.5), step=st.floats(0.01, 0.04))
def test_clv_follows_the_discounted_retention_sum(margin, retention, discount, step):
    frame = pd.DataFrame({"total_spend": [1000.0]})
    result = fake_result(frame, [0])

    def clv(m, r, d):
        return float(segment_value(result, margin_rate=m, retention=r, discount_rate=d,
                                   window_years=1.0)["clv"].iloc[0])

    value = clv(margin, retention, discount)
    # The closed form is the sum of margin * r^t / (1 + d)^t over the years t = 0, 1, 2 ...
    terms = (retention / (1 + discount)) ** np.arange(5000)
    assert value == pytest.approx(1000 * margin * terms.sum(), rel=1e-9)
    assert value == pytest.approx(1000 * margin * (1 + discount) / (1 + discount - retention))
    assert clv(margin, retention + step, discount) > value
    assert clv(margin + step, retention, discount) > value
    assert clv(margin, retention, discount + step) < value
    assert clv_multiplier(retention, discount) >= 1


def test_sample_shares_and_revenue(sample_result):
    table = segment_value(sample_result)
    frame = sample_result.features.frame
    assert len(table) == sample_result.chosen_k
    assert table["share_customers"].sum() == pytest.approx(1.0)
    assert table["share_revenue"].sum() == pytest.approx(1.0)
    assert table["revenue"].sum() == pytest.approx(frame["total_spend"].sum())
    assert table["customers"].sum() == len(frame)
    # The sample has the Kaggle export's Mnt* columns: two years of spend.
    assert table["window_years"].eq(2.0).all()
    assert table["persona"].tolist() == [p.name for p in sample_result.personas]
    np.testing.assert_allclose(table["clv"], table["avg_annual_spend"] * 0.3 * 1.1 / 0.3)
    np.testing.assert_allclose(table["budget_cap"], table["clv"] * 0.2)


def wilson_by_hand(k: int, n: int, confidence: float) -> tuple[float, float]:
    z = norm.ppf(1 - (1 - confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_by_hand_ten_of_a_hundred():
    low, high = wilson_by_hand(10, 100, 0.95)
    assert low == pytest.approx(0.0552, abs=1e-4)
    assert high == pytest.approx(0.1744, abs=1e-4)


def test_response_rates_constructed_case():
    # Segment 0: 10 of 100 responded; segment 1: 3 of 20; one unknown response left out.
    response = [1] * 10 + [0] * 90 + [1] * 3 + [0] * 17 + [np.nan]
    labels = [0] * 100 + [1] * 21
    frame = pd.DataFrame({"Response": response, "campaigns_accepted": 0.0})
    table = response_rates(fake_result(frame, labels), confidence=0.95).set_index("segment")
    assert table.attrs["column"] == "Response"
    assert table.loc[0, "n"] == 100 and table.loc[0, "responders"] == 10
    assert table.loc[1, "n"] == 20 and table.loc[1, "responders"] == 3
    assert table.loc[0, "rate"] == pytest.approx(0.1)
    assert table.loc[0, "ci_low"] == pytest.approx(0.0552, abs=1e-4)
    assert table.loc[0, "ci_high"] == pytest.approx(0.1744, abs=1e-4)
    for s, (k, n) in {0: (10, 100), 1: (3, 20)}.items():
        expected = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (table.loc[s, "ci_low"], table.loc[s, "ci_high"]) == pytest.approx(expected)
        assert (table.loc[s, "ci_low"], table.loc[s, "ci_high"]) == pytest.approx(
            wilson_by_hand(k, n, 0.95))
    narrow = response_rates(fake_result(frame, labels), confidence=0.8).set_index("segment")
    assert narrow.loc[0, "ci_low"] > table.loc[0, "ci_low"]
    assert narrow.loc[0, "ci_high"] < table.loc[0, "ci_high"]


def test_response_falls_back_to_campaigns_accepted_then_accepted_columns():
    frame = pd.DataFrame({"campaigns_accepted": [0.0, 2.0, 1.0, 0.0]})
    table = response_rates(fake_result(frame, [0, 0, 1, 1]))
    assert table.attrs["column"] == "campaigns_accepted"
    assert table["responders"].tolist() == [1, 1]
    frame = pd.DataFrame({"AcceptedCmp1": [0, 1, 0, 0], "AcceptedCmp2": [0, 1, 0, 1]})
    table = response_rates(fake_result(frame, [0, 0, 1, 1]))
    assert table["responders"].tolist() == [1, 1]
    table = response_rates(fake_result(frame, [0, 0, 1, 1]), column="AcceptedCmp1")
    assert table["responders"].tolist() == [1, 0]


def test_no_campaign_column_gives_empty_frame_with_reason():
    frame = pd.DataFrame({"total_spend": [1.0, 2.0]})
    table = response_rates(fake_result(frame, [0, 1]))
    assert table.empty
    assert "no campaign response column" in table.attrs["reason"]


@pytest.mark.parametrize("kwargs", [{"column": "Nope"}, {"confidence": 1.2}])
def test_response_rate_errors(kwargs):
    frame = pd.DataFrame({"Response": [0, 1]})
    with pytest.raises(SegmentationError) as err:
        response_rates(fake_result(frame, [0, 1]), **kwargs)
    assert_actionable(str(err.value))


def test_sample_response_rates(sample_result):
    assert sample_result.profiles.kind("campaign")
    table = response_rates(sample_result)
    frame = sample_result.features.frame
    assert table["n"].sum() == len(frame)
    assert table["responders"].sum() == int(frame["Response"].sum())
    assert ((table["ci_low"] <= table["rate"]) & (table["rate"] <= table["ci_high"])).all()
    assert table["ci_low"].ge(0).all() and table["ci_high"].le(1).all()
