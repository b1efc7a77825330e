"""explore.py's figures against independent computations on the same customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_samples

from segmentation.cluster.kmeans import segment
from segmentation.describe import explore


@pytest.fixture(scope="module")
def result(sample_result):
    return sample_result


@pytest.fixture(scope="module")
def names(result):
    return {p.segment: p.name for p in result.personas}


@pytest.fixture(scope="module")
def labels(result) -> np.ndarray:
    return result.segmentation.labels


def kinds(result, kind: str) -> list[str]:
    return [n for n, v in result.features.variables.items() if v.kind == kind]


@pytest.mark.parametrize("variable", ["Income", "total_spend", "Recency"])
def test_spread_matches_numpy_percentiles_per_segment(result, names, labels, variable):
    frame = explore.spread(result.features, result.segmentation, names, variable)
    values = result.features.frame[variable].to_numpy(float)
    assert frame["segment"].tolist() == list(range(result.segmentation.n_clusters))
    for row in frame.itertuples():
        v = values[labels == row.segment]
        assert row.persona == names[row.segment]
        assert row.n == v.size
        expected = np.percentile(v, [5, 25, 50, 75, 95])
        assert [row.p05, row.q1, row.median, row.q3, row.p95] == pytest.approx(expected)
        assert row.mean == pytest.approx(v.mean())
        assert row.p05 <= row.q1 <= row.median <= row.q3 <= row.p95


@pytest.mark.parametrize("which", [None, 0, 1, 2])
def test_spend_correlation_matches_corrcoef_on_the_segments_rows(result, labels, which):
    spend = kinds(result, "spend")
    frame = explore.spend_correlation(result.features, result.segmentation, which)
    rows = result.features.frame[spend].to_numpy(float)
    if which is not None:
        rows = rows[labels == which]
    expected = np.corrcoef(rows, rowvar=False)
    assert len(frame) == len(spend) ** 2  # every ordered pair, diagonal included
    assert list(zip(frame["var_a"], frame["var_b"], strict=True)) == [
        (a, b) for a in spend for b in spend]
    np.testing.assert_allclose(frame["r"].to_numpy(), expected.ravel(), atol=1e-12)
    label = {n: result.features.variables[n].label for n in spend}
    assert frame["label_a"].tolist() == frame["var_a"].map(label).tolist()
    assert frame["label_b"].tolist() == frame["var_b"].map(label).tolist()


def test_segment_correlations_differ_from_everyones(result):
    everyone = explore.spend_correlation(result.features)["r"].to_numpy()
    one = explore.spend_correlation(result.features, result.segmentation, 2)["r"].to_numpy()
    assert np.abs(everyone - one).max() > 0.05


def test_channel_mix_shares_are_each_segments_split_of_its_purchases(result, names, labels):
    frame = explore.channel_mix(result.profiles, names)
    channels = kinds(result, "channel")
    data = result.features.frame
    sums = data[channels].groupby(labels).sum()
    expected_share = sums.div(sums.sum(axis=1), axis=0)
    buying = frame.loc[frame["kind"] == "channel"]
    assert buying.groupby("segment")["share"].sum().to_numpy() == pytest.approx(
        np.ones(result.segmentation.n_clusters))
    for row in buying.itertuples():
        assert row.share == pytest.approx(expected_share.loc[row.segment, row.variable])
    for row in frame.itertuples():
        assert row.mean == pytest.approx(data.loc[labels == row.segment, row.variable].mean())
        assert row.persona == names[row.segment]
    others = frame.loc[frame["kind"] != "channel"]
    assert set(others["kind"]) == {"deals", "web_visits"}
    assert others["share"].isna().all()
    assert frame.groupby("segment").size().tolist() == [5] * result.segmentation.n_clusters


def test_segment_value_shares_and_spend_from_the_customers(result, names, labels):
    frame = explore.segment_value(result.profiles, names)
    spend = result.features.frame["total_spend"].to_numpy(float)
    k = result.segmentation.n_clusters
    revenue = np.bincount(labels, weights=spend, minlength=k)
    counts = np.bincount(labels, minlength=k)
    assert frame["value_share"].sum() == pytest.approx(1.0)
    assert frame["customer_share"].sum() == pytest.approx(1.0)
    for row in frame.itertuples():
        s = row.segment
        assert row.persona == names[s]
        assert row.size == counts[s]
        assert row.customer_share == pytest.approx(counts[s] / counts.sum())
        assert row.value_share == pytest.approx(revenue[s] / revenue.sum())
        assert row.avg_value == pytest.approx(spend[labels == s].mean())
    assert frame["avg_value"].is_monotonic_decreasing
    # the share of revenue is the profiles' own
    summary = result.profiles.sizes.set_index("segment")["revenue_share"]
    assert frame.set_index("segment")["value_share"].to_dict() == pytest.approx(
        summary.to_dict())


def test_segment_value_ranks_by_any_money_column(result, names, labels):
    variable = next(v for v in explore.value_variables(result.profiles) if v != "total_spend")
    frame = explore.segment_value(result.profiles, names, variable)
    values = result.features.frame[variable].to_numpy(float)
    for row in frame.itertuples():
        assert row.avg_value == pytest.approx(values[labels == row.segment].mean())
    assert set(frame["variable"]) == {variable}


def test_cheat_sheet_columns_come_only_from_what_the_file_has(result):
    sheet = explore.cheat_sheet(result.profiles, result.personas)
    columns = explore.cheat_sheet_columns(result.profiles, sheet)
    assert list(columns) == list(sheet.columns)
    assert not sheet.drop(columns=["preferred_channel"], errors="ignore").isna().any().any()
    for variable in result.features.features:
        shown = {"Income": "avg_income", "Recency": "avg_recency", "MntWines": "avg_wine",
                 "MntMeatProducts": "avg_meat"}.get(variable, f"avg_{variable}")
        assert shown in sheet.columns, variable


def test_profile_z_is_the_standardized_difference_from_everyone(result, names, labels):
    frame = explore.profile_z(result.profiles, names)
    data = result.features.frame
    assert pd.unique(frame["variable"]).tolist() == list(result.features.features)
    for row in frame.itertuples():
        column = data[row.variable].to_numpy(float)
        mine = column[labels == row.segment]
        assert row.mean == pytest.approx(mine.mean())
        assert row.z == pytest.approx((mine.mean() - column.mean()) / column.std())
        assert row.label == result.features.variables[row.variable].label


def test_profile_z_for_chosen_variables_keeps_their_order(result, names):
    chosen = ["Recency", "Income", "total_spend"]
    frame = explore.profile_z(result.profiles, names, chosen)
    assert pd.unique(frame["variable"]).tolist() == chosen
    assert len(frame) == len(chosen) * result.segmentation.n_clusters


def test_pca_map_explained_variance_matches_sklearn_and_eigenvalues(result, names, labels):
    fm = result.features
    frame, explained = explore.pca_map(fm, result.segmentation, names)
    reference = PCA(n_components=2).fit(fm.X)
    assert explained == pytest.approx(tuple(reference.explained_variance_ratio_))
    centred = fm.X - fm.X.mean(axis=0)
    eigen = np.linalg.eigvalsh(np.cov(centred, rowvar=False))[::-1]
    assert explained == pytest.approx(tuple(eigen[:2] / eigen.sum()))
    # The coordinates carry exactly that variance, in uncorrelated components.
    total = centred.var(axis=0).sum()
    assert frame["pc1"].var(ddof=0) / total == pytest.approx(explained[0])
    assert frame["pc2"].var(ddof=0) / total == pytest.approx(explained[1])
    assert abs(np.corrcoef(frame["pc1"], frame["pc2"])[0, 1]) < 1e-8
    assert frame["customer_id"].tolist() == fm.customer_ids.astype(str).tolist()
    assert frame["segment"].tolist() == labels.tolist()
    assert frame["persona"].tolist() == [names[s] for s in labels]


def test_pca_map_samples_above_max_points_keeping_each_customers_segment(result, names):
    fm, seg = result.features, result.segmentation
    frame, _ = explore.pca_map(fm, seg, names, max_points=300)
    assert len(frame) == 300 and frame["customer_id"].is_unique
    segment_of = pd.Series(seg.labels, index=fm.customer_ids.astype(str))
    assert (segment_of.loc[frame["customer_id"]].to_numpy() == frame["segment"].to_numpy()).all()
    again, _ = explore.pca_map(fm, seg, names, max_points=300)
    pd.testing.assert_frame_equal(frame, again)  # fixed seed: the same sample every time


def test_customer_values_are_the_prepared_values(result, names, labels):
    frame = explore.customer_values(result.features, result.segmentation, names, "Income")
    np.testing.assert_array_equal(frame["value"], result.features.frame["Income"].to_numpy(float))
    assert frame["segment"].tolist() == labels.tolist()
    assert frame["customer_id"].tolist() == result.features.customer_ids.astype(str).tolist()


def test_silhouette_frame_is_sorted_within_segment_and_matches_sklearn(result, names):
    seg = result.segmentation
    frame = explore.silhouette_frame(seg, names)
    assert len(frame) == len(seg.labels)
    assert frame["segment"].is_monotonic_increasing
    for _, rows in frame.groupby("segment"):
        assert rows["silhouette"].is_monotonic_decreasing
    assert frame["rank"].tolist() == list(range(len(frame)))
    reference = pd.Series(silhouette_samples(result.features.X, seg.labels),
                          index=seg.customer_ids.astype(str))
    np.testing.assert_allclose(frame["silhouette"],
                               reference.loc[frame["customer_id"]].to_numpy(), atol=1e-9)
    assert frame["silhouette"].mean() == pytest.approx(seg.silhouette)
    assert frame["persona"].tolist() == [names[s] for s in frame["segment"]]


def test_silhouette_frame_leaves_out_customers_outside_the_sample(result, names):
    seg = segment(result.features, result.chosen_k, silhouette_sample_size=300)
    frame = explore.silhouette_frame(seg, names)
    assert len(frame) == 300
    assert frame["silhouette"].notna().all()
    assert frame["rank"].tolist() == list(range(300))
    measured = pd.Series(seg.silhouette_values, index=seg.customer_ids.astype(str)).dropna()
    assert set(frame["customer_id"]) == set(measured.index)


# --- order logs -------------------------------------------------------------------------------

def test_rfm_grid_by_hand():
    rfm = pd.DataFrame({"rfm_cell": ["Lost", "Champions", "Lost", "At risk"]})
    grid = explore.rfm_grid(rfm, np.array([0, 1, 1, 1]), {0: "A", 1: "B"})
    assert grid["cell"].unique().tolist() == ["Champions", "At risk", "Lost"]  # grid order
    by = grid.set_index(["persona", "cell"])["customers"]
    assert by[("A", "Lost")] == 1 and by[("A", "Champions")] == 0
    assert by[("B", "Lost")] == 1 and by[("B", "Champions")] == 1 and by[("B", "At risk")] == 1
    assert grid.groupby("persona")["share"].sum().round(12).tolist() == [1.0, 1.0]


@pytest.fixture(scope="module")
def log_result():
    from segmentation import RunConfig, run
    from tests.helpers.logs import order_log, to_bytes

    # The counts and shares below add up whatever K is chosen, so the sweep's split-half
    # agreement, which only weighs in on that choice, is left out.
    return run(to_bytes(order_log(n_customers=200, seed=3)), RunConfig(stability=False),
               name="orders.csv")


def test_rfm_grid_counts_every_customer_of_a_log(log_result):
    from segmentation.cluster.rfm import crosstab, rfm_of

    names = {p.segment: p.name for p in log_result.personas}
    rfm = rfm_of(log_result)
    grid = explore.rfm_grid(rfm, log_result.segmentation.labels, names)
    assert grid["customers"].sum() == 200
    wide = crosstab(rfm, log_result.segmentation.labels, names)
    for row in grid.itertuples(index=False):
        assert wide.loc[row.cell, row.persona] == row.customers


def test_share_mix_of_a_log_adds_up_per_persona(log_result):
    names = {p.segment: p.name for p in log_result.personas}
    groups = explore.log_share_variables(log_result.dataset.log)
    assert [title for title, _, _ in groups] == ["Spend by product category",
                                                 "Orders by channel"]
    for _, _, variables in groups:
        mix = explore.share_mix(log_result.profiles, names, variables)
        assert mix.groupby("segment")["share"].sum().round(6).tolist() == [1.0] * len(names)
        assert ":" not in "".join(mix["level"])


def test_a_customer_file_has_no_log_shares(result):
    assert result.dataset.log is None
