"""Segment profiles: sizes, means, standardized differences, revenue shares, traits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation import read_table
from segmentation.cluster.kmeans import segment
from segmentation.data.dataset import load_dataset
from segmentation.describe.profiles import profile_segments
from segmentation.prepare.features import PrepConfig, prepare
from tests.helpers import planted_customers, to_tsv_bytes


def load(frame: pd.DataFrame):
    return load_dataset(read_table(to_tsv_bytes(frame), name="table"))


@pytest.fixture(scope="module")
def sample_fm(sample_path):
    return prepare(load_dataset(read_table(sample_path)))


@pytest.fixture(scope="module", params=[3, 5])
def case(request, sample_fm):
    seg = segment(sample_fm, request.param)
    return sample_fm, seg, profile_segments(sample_fm, seg)


def _numeric(fm) -> pd.DataFrame:
    return fm.frame.select_dtypes("number")


def test_sizes_and_shares(case):
    fm, seg, prof = case
    s = prof.sizes
    assert s["segment"].tolist() == list(range(seg.n_clusters))
    assert s["size"].sum() == fm.n_customers
    assert s["share"].sum() == pytest.approx(1.0)
    for j in range(seg.n_clusters):
        assert s.loc[j, "size"] == int((seg.labels == j).sum())
        assert s.loc[j, "share"] == pytest.approx((seg.labels == j).mean())
    assert prof.n_segments == seg.n_clusters


def test_means_and_medians_per_segment(case):
    fm, seg, prof = case
    values = _numeric(fm).to_numpy(float)
    columns = list(_numeric(fm).columns)
    assert list(prof.means.columns) == columns
    for j in range(seg.n_clusters):
        rows = values[seg.labels == j]
        np.testing.assert_allclose(prof.means.loc[j].to_numpy(float), rows.mean(axis=0),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(prof.medians.loc[j].to_numpy(float),
                                   np.median(rows, axis=0), rtol=1e-10, atol=1e-12)


def test_means_equal_a_pandas_groupby(case):
    fm, seg, prof = case
    frame = fm.frame[["Income", "total_spend", "Recency", "share_MntWines"]]
    expected = frame.groupby(np.asarray(seg.labels)).agg("mean")
    pd.testing.assert_frame_equal(prof.means[frame.columns], expected, check_names=False,
                                  check_index_type=False, rtol=1e-10)


def test_z_is_the_standardized_difference(case):
    fm, seg, prof = case
    values = _numeric(fm).to_numpy(float)
    mu = values.mean(axis=0)
    sd = values.std(axis=0)  # population sd, ddof = 0
    np.testing.assert_allclose(prof.population_mean.to_numpy(float), mu, rtol=1e-10)
    np.testing.assert_allclose(prof.population_std.to_numpy(float), sd, rtol=1e-10)
    for j in range(seg.n_clusters):
        expected = (values[seg.labels == j].mean(axis=0) - mu) / sd
        np.testing.assert_allclose(prof.z.loc[j].to_numpy(float), expected, rtol=1e-9,
                                   atol=1e-12)
    # the size-weighted standardized differences cancel out
    weighted = (prof.z.mul(prof.sizes["share"].to_numpy(), axis=0)).sum()
    np.testing.assert_allclose(weighted.to_numpy(float), 0.0, atol=1e-9)


def test_revenue_share(case):
    fm, seg, prof = case
    spend = fm.frame["total_spend"].to_numpy(float)
    expected = [spend[seg.labels == j].sum() / spend.sum() for j in range(seg.n_clusters)]
    np.testing.assert_allclose(prof.sizes["revenue_share"], expected, rtol=1e-12)
    assert prof.sizes["revenue_share"].sum() == pytest.approx(1.0)
    # segment 0 spends most per customer, so its revenue share beats its headcount share
    row = prof.sizes.loc[0]
    assert row["revenue_share"] > row["share"]


def test_traits_are_the_largest_differences(case):
    fm, seg, prof = case
    for j in range(seg.n_clusters):
        traits = prof.traits[j]
        assert 1 <= len(traits) <= 5
        sizes = [abs(t.z) for t in traits]
        assert sizes == sorted(sizes, reverse=True)
        for t in traits:
            assert t.z == pytest.approx(prof.z.loc[j, t.variable])
            assert t.mean == pytest.approx(prof.means.loc[j, t.variable])
            assert t.population_mean == pytest.approx(prof.population_mean[t.variable])
            direction = "above" if t.z > 0 else "below"
            assert t.text == f"{t.label} {abs(t.z):.1f} sd {direction} average"
        # nothing left out is further from average than the weakest trait
        z = prof.z.loc[j, [t.variable for t in traits]]
        kinds = {"spend_share", "spend", "income", "age", "recency", "total_spend"}
        others = [n for n, v in prof.variables.items() if v.kind in kinds
                  and n not in z.index]
        assert all(abs(prof.z.loc[j, n]) <= sizes[-1] + 1e-12 for n in others)


def test_table_has_one_wide_row_per_segment(case):
    fm, seg, prof = case
    table = prof.table()
    assert len(table) == seg.n_clusters
    assert {"segment", "size", "share", "revenue_share", "mean_Income",
            "median_total_spend"} <= set(table.columns)
    np.testing.assert_allclose(table["mean_Income"], prof.means["Income"])


def test_kind_lookup(case):
    _, _, prof = case
    assert prof.first("income") == "Income"
    assert prof.kind("spend", "wine") == ["MntWines"]
    assert set(prof.kind("spend_share")) == {f"share_{c}" for c in (
        "MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts",
        "MntGoldProds")}
    assert prof.first("no such kind") is None


def test_profile_without_total_spend_has_no_revenue_share():
    frame = planted_customers(90, seed=4)[["ID", "Income", "Recency", "MntWines",
                                           "NumWebPurchases"]]
    fm = prepare(load(frame))
    assert "total_spend" not in fm.frame
    seg = segment(fm, 3)
    prof = profile_segments(fm, seg)
    assert prof.sizes["revenue_share"].isna().all()
    assert prof.sizes["size"].sum() == 90


def test_constant_variable_has_no_z_and_no_trait():
    frame = planted_customers(90, seed=6)
    frame["Year_Birth"] = 1970
    frame.loc[0, "Year_Birth"] = 1890  # clipped to 44 like everyone else
    fm = prepare(load(frame), PrepConfig(features=("Income", "MntWines", "MntGoldProds")))
    assert (fm.frame["age"] == 44).all()
    seg = segment(fm, 3)
    prof = profile_segments(fm, seg)
    assert prof.population_std["age"] == 0
    assert prof.z["age"].isna().all()
    assert all(t.variable != "age" for traits in prof.traits.values() for t in traits)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 60), k=st.integers(2, 5), seed=st.integers(0, 10_000),
       missing=st.floats(0.0, 0.5))
def test_segment_means_and_medians_equal_pandas_with_missing_values(n, k, seed, missing):
    from segmentation.describe.profiles import _segment_means_medians

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 5, n).astype(float),
                          "flag": rng.random(n) < 0.3})
    frame.loc[rng.random(n) < missing, "a"] = np.nan
    means, medians = _segment_means_medians(frame, ["a", "b", "flag"], labels, k)
    grouped = frame.astype(float).groupby(labels)
    for got, want in ((means, grouped.mean()), (medians, grouped.median())):
        want = want.reindex(range(k))
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-12)
