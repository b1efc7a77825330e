"""Lifetime figures: the RFM summary, the BG/NBD + Gamma-Gamma fit, the per-segment table.

The fitted figures are compared with PyMC-Marketing's own calls on the same
summary; one fit is shared by the module (the first one compiles PyTensor
code, later ones reuse the compile cache).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.plan.lifetime import (
    CUSTOMER_COLUMNS,
    MIN_CUSTOMERS,
    SEGMENT_COLUMNS,
    Lifetime,
    fit_lifetime,
    lifetime_by_segment,
    rfm_summary,
)
from tests.helpers import assert_actionable

pytestmark = pytest.mark.slow  # PyMC-Marketing compiles and fits its models

START = pd.Timestamp("2023-01-01")
REFERENCE = pd.Timestamp("2024-12-31")
SPAN_DAYS = (REFERENCE - START).days  # 730


def synthetic_orders(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A BG/NBD-like order history, plus a few probe customers with known shapes.

    Each customer starts on a random day, buys at a personal Poisson rate and
    may drop out after every purchase; order values scatter around a personal
    mean. Some therefore buy once, some often, some stop early. The probes:
    ``late`` and ``recent`` both have 3 repeat purchases in a 730-day window
    but the last one on day 90 versus day 700; ``f1`` ... ``f6`` bought on the
    first day and last bought on the reference date, with 1 to 6 repeats.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        first = float(rng.integers(0, SPAN_DAYS - 60))
        rate = rng.gamma(shape=1.0, scale=1 / 30)  # orders per day, mean one a month
        dropout = rng.beta(1.0, 5.0)  # chance of leaving after each purchase
        mean_value = rng.gamma(4.0, 15.0)
        days, t = [first], first
        while rng.random() >= dropout:
            t += rng.exponential(1 / rate)
            if t > SPAN_DAYS:
                break
            days.append(t)
        values = rng.gamma(6.0, mean_value / 6.0, size=len(days))
        rows += [(f"c{c:04d}", START + pd.Timedelta(days=d), round(v, 2))
                 for d, v in zip(days, values, strict=True)]
    probes = {"late": [0, 30, 60, 90], "recent": [0, 30, 60, 700]}
    probes |= {f"f{k}": [*np.linspace(0, SPAN_DAYS - 1, k, dtype=int).tolist(), SPAN_DAYS]
               for k in range(1, 7)}
    for cid, days in probes.items():
        rows += [(cid, START + pd.Timedelta(days=d), 50.0) for d in days]
    return pd.DataFrame(rows, columns=["customer_id", "date", "value"])


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return synthetic_orders()


@pytest.fixture(scope="module")
def summary(orders) -> pd.DataFrame:
    return rfm_summary(orders, REFERENCE)


@pytest.fixture(scope="module")
def lifetime(summary) -> Lifetime:
    return fit_lifetime(summary)


# ---------------------------------------------------------------- rfm_summary

def test_rfm_summary_hand_computed():
    orders = pd.DataFrame({
        "customer_id": [7, 7, 7, 7, 3, 5, 5, 5],
        "date": pd.to_datetime([
            "2024-01-01 09:00", "2024-01-11 10:00", "2024-01-11 18:30", "2024-02-10 00:00",
            "2024-03-01 12:00", "2024-02-20 08:15", "2024-03-31 23:59", "2024-04-15 10:00"]),  # the last one is late
        "value": [10.0, 20.0, 5.0, 45.0, 99.0, 8.0, 12.0, 1000.0],
    })
    expected = pd.DataFrame(
        {"frequency": [0.0, 1.0, 2.0], "recency": [0.0, 40.0, 40.0], "T": [30.0, 40.0, 90.0],
         # customer 7: repeat days 2024-01-11 (20 + 5) and 2024-02-10 (45)
         "monetary_value": [0.0, 12.0, 35.0]},
        index=pd.Index([3, 5, 7], name="customer_id"))
    pd.testing.assert_frame_equal(rfm_summary(orders, "2024-03-31"), expected, check_exact=True)


@pytest.mark.slow
def test_rfm_summary_equals_pymc_marketing(orders, summary):
    from pymc_marketing.clv.utils import rfm_summary as reference_summary

    theirs = reference_summary(orders, "customer_id", "date", monetary_value_col="value",
                               observation_period_end=REFERENCE).set_index("customer_id")
    pd.testing.assert_frame_equal(summary, theirs, check_exact=True)
    assert (summary["frequency"] == 0).sum() > 50, "the history should have one-time buyers"
    assert (summary["frequency"] >= 3).sum() > 50, "the history should have frequent buyers"


def test_rfm_summary_ignores_row_order_and_leaves_input_alone(orders, summary):
    shuffled = orders.sample(frac=1.0, random_state=1)
    before = shuffled.copy()
    pd.testing.assert_frame_equal(rfm_summary(shuffled, REFERENCE), summary, check_exact=True)
    pd.testing.assert_frame_equal(shuffled, before)


def test_rfm_summary_reference_defaults_to_last_order(orders):
    assert rfm_summary(orders, None).equals(rfm_summary(orders, orders["date"].max()))


@pytest.mark.parametrize("change, reference", [
    (lambda o: o.drop(columns="value"), REFERENCE),
    (lambda o: o.assign(date=o["date"].astype(str)), REFERENCE),
    (lambda o: o.assign(value=o["value"].where(o.index != 3)), REFERENCE),
    (lambda o: o, "2020-01-01"),
    (lambda o: o, "not a date"),
])
def test_rfm_summary_errors_are_one_sentence(orders, change, reference):
    with pytest.raises(SegmentationError) as info:
        rfm_summary(change(orders), reference)
    assert_actionable(str(info.value))


# ---------------------------------------------------------------- fit_lifetime

@pytest.mark.slow
def test_fit_equals_pymc_marketing(summary, lifetime):
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    data = summary.reset_index()
    bg = BetaGeoModel()
    bg.fit(data[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False)
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    gg = GammaGammaModel()
    gg.fit(repeat[["customer_id", "frequency", "monetary_value"]], method="map",
           progressbar=False)

    orders = bg.expected_purchases(data, future_t=365).isel(chain=0, draw=0).to_series()
    alive = bg.expected_probability_alive(data).isel(chain=0, draw=0).to_series()
    spend = pd.Series(float(gg.expected_new_customer_spend().item()), index=summary.index)
    spend[repeat["customer_id"]] = (gg.expected_customer_spend(repeat)
                                    .isel(chain=0, draw=0).to_series()[repeat["customer_id"]])
    ours = lifetime.per_customer
    assert list(ours.columns) == CUSTOMER_COLUMNS
    assert ours.index.equals(summary.index)
    np.testing.assert_allclose(ours["expected_orders_12m"], orders[summary.index], rtol=1e-6)
    np.testing.assert_allclose(ours["p_alive"], alive[summary.index], rtol=1e-6)
    np.testing.assert_allclose(ours["expected_order_value"], spend, rtol=1e-6)
    np.testing.assert_allclose(ours["expected_value_12m"], orders[summary.index] * spend,
                               rtol=1e-6)
    for name in ("r", "alpha", "a", "b"):
        np.testing.assert_allclose(lifetime.params[name], bg.fit_result[name].item(), rtol=1e-6)
    for name in ("p", "q", "v"):
        np.testing.assert_allclose(lifetime.params[name], gg.fit_result[name].item(), rtol=1e-6)


def test_fit_figures_are_plausible(summary, lifetime):
    figures = lifetime.per_customer
    assert figures["p_alive"].between(0.0, 1.0).all()
    assert (figures["expected_orders_12m"] >= 0).all()
    assert (figures["expected_order_value"] > 0).all()
    # a repeat buyer who went quiet long ago, against one who just bought again
    assert figures.loc["late", "p_alive"] < 0.5 * figures.loc["recent", "p_alive"]
    assert figures.loc["late", "expected_orders_12m"] < figures.loc["recent",
                                                                    "expected_orders_12m"]
    # bought on the reference date (recency == T): more repeats, more expected orders
    probes = [f"f{k}" for k in range(1, 7)]
    assert (summary.loc[probes, "recency"] == summary.loc[probes, "T"]).all()
    assert figures.loc[probes, "expected_orders_12m"].is_monotonic_increasing
    assert figures.loc[probes, "expected_orders_12m"].diff().dropna().gt(0).all()
    one_time = summary["frequency"] == 0
    assert (figures.loc[one_time, "p_alive"] == 1.0).all()  # BG/NBD: no repeat, no dropout yet
    assert figures.loc[one_time, "expected_order_value"].nunique() == 1


def test_fit_reports_what_it_did(summary, lifetime):
    assert lifetime.horizon_days == 365
    assert lifetime.fit_seconds > 0
    assert set(lifetime.params) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert all(np.isfinite(v) and v > 0 for v in lifetime.params.values())
    assert lifetime.notes[0] == f"Fitted on all {len(summary):,} customers."
    assert any("population mean order value" in note for note in lifetime.notes)


def test_fit_on_a_sample_predicts_everyone(summary, lifetime):
    sampled = fit_lifetime(summary, sample_size=300, random_state=0)
    assert sampled.per_customer.index.equals(summary.index)
    assert sampled.notes[0].startswith(f"Fitted on a random sample of 300 of the {len(summary)}")
    assert sampled.per_customer["p_alive"].between(0.0, 1.0).all()
    # a sample of three quarters of the customers lands close to the full fit
    np.testing.assert_allclose(sampled.per_customer["expected_orders_12m"].sum(),
                               lifetime.per_customer["expected_orders_12m"].sum(), rtol=0.25)


def test_fit_leaves_summary_alone(summary):
    before = summary.copy()
    with pytest.raises(SegmentationError):
        fit_lifetime(summary.iloc[:10])
    pd.testing.assert_frame_equal(summary, before)


def test_too_few_customers(summary):
    with pytest.raises(SegmentationError, match="too few to fit a lifetime model") as info:
        fit_lifetime(summary.iloc[:MIN_CUSTOMERS - 1])
    assert_actionable(str(info.value))


def test_too_few_repeat_customers(summary):
    few = pd.concat([summary[summary["frequency"] == 0],
                     summary[summary["monetary_value"] > 0].iloc[:19]])
    assert len(few) >= MIN_CUSTOMERS
    with pytest.raises(SegmentationError, match="too few repeat customers") as info:
        fit_lifetime(few)
    assert_actionable(str(info.value))
    assert f"only 19 of the {len(few)} customers" in str(info.value)


@pytest.mark.parametrize("change, kwargs", [
    (lambda s: s.drop(columns="T"), {}),
    (lambda s: s.assign(recency=s["T"] + 1), {}),
    (lambda s: s.assign(frequency=s["frequency"] + 0.5), {}),
    (lambda s: s.assign(monetary_value=np.nan), {}),
    (lambda s: s, {"horizon_days": 0}),
    (lambda s: s, {"horizon_days": 365.0}),
    (lambda s: s, {"sample_size": 10}),
])
def test_fit_input_errors_are_one_sentence(summary, change, kwargs):
    with pytest.raises(SegmentationError) as info:
        fit_lifetime(change(summary), **kwargs)
    assert_actionable(str(info.value))


# ---------------------------------------------------------------- lifetime_by_segment

def _hand_lifetime() -> Lifetime:
    per_customer = pd.DataFrame(
        {"expected_orders_12m": [1.0, 3.0, 2.0, 4.0],
         "p_alive": [0.5, 0.9, 0.2, 0.6],
         "expected_order_value": [10.0, 10.0, 5.0, 25.0],
         "expected_value_12m": [10.0, 30.0, 10.0, 100.0]},
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    return Lifetime(per_customer=per_customer, horizon_days=365, fit_seconds=0.0, notes=(),
                    params={})


def test_lifetime_by_segment_hand_computed():
    # "d" has no label, "z" has no lifetime figure: both are left out
    labels = pd.Series({"a": 1, "b": 1, "c": 0, "z": 0})
    table = lifetime_by_segment(_hand_lifetime(), labels)
    expected = pd.DataFrame({
        "segment": [0, 1], "customers": [1, 2], "mean_expected_orders_12m": [2.0, 2.0],
        "mean_p_alive": [0.2, 0.7], "total_expected_value_12m": [10.0, 40.0],
        "mean_expected_value_12m": [10.0, 20.0], "share_expected_value": [0.2, 0.8]})
    assert list(table.columns) == SEGMENT_COLUMNS
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


def test_lifetime_by_segment_on_a_fit(lifetime):
    ids = lifetime.per_customer.index
    labels = pd.Series(np.arange(len(ids)) % 3, index=ids)
    table = lifetime_by_segment(lifetime, labels)
    assert table["customers"].sum() == len(ids)
    np.testing.assert_allclose(table["total_expected_value_12m"].sum(),
                               lifetime.per_customer["expected_value_12m"].sum())
    np.testing.assert_allclose(table["share_expected_value"].sum(), 1.0)


def test_lifetime_by_segment_without_overlap():
    with pytest.raises(SegmentationError) as info:
        lifetime_by_segment(_hand_lifetime(), pd.Series({"x": 0, "y": 1}))
    assert_actionable(str(info.value))
