"""Clustering: metrics against scikit-learn and scipy, K selection, determinism, planted data."""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)
from threadpoolctl import threadpool_limits

from segmentation import SegmentationError, read_table
from segmentation.cluster import kmeans
from segmentation.cluster.kmeans import (
    N_SPLITS,
    REPLICATES,
    _agreement_text,
    _find_knee,
    _fit_kmeans,
    _order_labels,
    _recommend_k,
    _silhouette_from_sums,
    quality_warnings,
    segment,
    split_half_agreement,
    sweep_k,
)
from segmentation.data.dataset import load_dataset
from segmentation.prepare.features import prepare
from tests.helpers import planted_customers, to_tsv_bytes

FAST = settings(max_examples=40, deadline=None)


@contextlib.contextmanager
def _block_size(rows: int):
    """Silhouette distances computed ``rows`` rows at a time, to reach several blocks."""
    saved = kmeans._BLOCK
    kmeans._BLOCK = rows
    try:
        yield
    finally:
        kmeans._BLOCK = saved


def load(frame: pd.DataFrame):
    return load_dataset(read_table(to_tsv_bytes(frame), name="planted"))


@pytest.fixture(scope="module")
def sample_fm(sample_path):
    return prepare(load_dataset(read_table(sample_path)))


@pytest.fixture(scope="module")
def sample_sweep(sample_fm):
    return sweep_k(sample_fm, range(2, 7))


@pytest.fixture(scope="module")
def planted_frame():
    return planted_customers(600, seed=0)


@pytest.fixture(scope="module")
def planted_fm(planted_frame):
    return prepare(load(planted_frame))


@pytest.fixture(scope="module")
def planted_seg(planted_fm):
    return segment(planted_fm, 3)


# ---------------------------------------------------------------------------
# Distances and silhouettes against independent implementations
# ---------------------------------------------------------------------------

@st.composite
def points_and_labels(draw):
    """Small point sets on a coarse grid (ties and duplicates happen) with 2..n-1 labels."""
    n = draw(st.integers(3, 24))
    d = draw(st.integers(1, 3))
    grid = draw(st.lists(st.lists(st.integers(-6, 6), min_size=d, max_size=d),
                         min_size=n, max_size=n))
    X = np.asarray(grid, dtype=float) / 4.0
    k_max = draw(st.integers(2, n - 1))
    labels = np.asarray(draw(st.lists(st.integers(0, k_max - 1), min_size=n, max_size=n)))
    n_labels = np.unique(labels).size
    assume(2 <= n_labels <= n - 1)
    return X, labels


@FAST
@given(points_and_labels(), st.sampled_from([1024, 7, 3]))
def test_silhouette_values_equal_sklearn(data, block):
    X, labels = data
    expected = silhouette_samples(X, labels)
    with _block_size(block):  # several row blocks, not only one
        (got,) = kmeans._silhouette_values(X, [labels])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    onehot = np.eye(int(labels.max()) + 1)[labels]
    np.testing.assert_allclose(_silhouette_from_sums(cdist(X, X) @ onehot, labels), expected,
                               rtol=1e-9, atol=1e-12)


def test_silhouette_singletons_and_missing_label_numbers():
    X = np.array([[0.0], [0.1], [0.2], [5.0], [9.0], [9.3]])
    labels = np.array([0, 0, 0, 2, 4, 4])  # 1 and 3 unused, 2 is a singleton
    (s,) = kmeans._silhouette_values(X, [labels])
    np.testing.assert_allclose(s, silhouette_samples(X, labels), atol=1e-12)
    assert s[3] == 0.0
    # hand check for the first point: a = mean(0.1, 0.2), b = nearest other cluster (the
    # singleton at 5.0)
    a, b = 0.15, 5.0
    assert s[0] == pytest.approx((b - a) / b)


@FAST
@given(st.integers(2, 30), st.integers(1, 6), st.floats(0.01, 100), st.integers(0, 2**32 - 1),
       st.sampled_from([1024, 7, 3]))
def test_block_sums_equal_summed_cdist(n, d, scale, seed, block):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, scale, (n, d))
    X[n // 2] = X[0]  # an exact duplicate
    H = np.eye(3)[rng.integers(0, 3, n)]
    pairs = [(a, b) for a in range(0, n, block) for b in range(a, n, block)]
    with _block_size(block):
        got = kmeans._block_sums(X, np.einsum("ij,ij->i", X, X), H, pairs)
    np.testing.assert_allclose(got, cdist(X, X) @ H, rtol=1e-7, atol=1e-7 * scale * n)


def test_block_sums_on_a_hand_case():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    H = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    got = kmeans._block_sums(X, np.einsum("ij,ij->i", X, X), H, [(0, 0)])
    # distances 0-1: 5, 0-2: 10, 1-2: 5
    np.testing.assert_allclose(got, [[0, 15], [5, 5], [10, 5]], atol=1e-12)


# ---------------------------------------------------------------------------
# The K sweep
# ---------------------------------------------------------------------------

def test_sweep_metrics_equal_sklearn(sample_fm, sample_sweep):
    m = sample_sweep.metrics
    assert m["k"].tolist() == [2, 3, 4, 5, 6]
    assert sample_sweep.silhouette_sample_size is None  # 2240 customers: exact
    X = sample_fm.X
    for k in range(2, 7):
        labels, _, inertia = _fit_kmeans(X, k, sample_sweep.random_state, sample_sweep.n_init)
        row = sample_sweep.row(k)
        assert row["silhouette"] == pytest.approx(silhouette_score(X, labels), abs=1e-9)
        assert row["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels),
                                                         rel=1e-9)
        assert row["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9)
        assert row["inertia"] == pytest.approx(inertia, rel=1e-12)
        assert row["min_share"] == pytest.approx(np.bincount(labels).min() / len(labels))


def test_sweep_inertia_is_the_sum_of_squared_distances(sample_fm, sample_sweep):
    X = sample_fm.X
    labels, centers, _ = _fit_kmeans(X, 4)
    expected = ((X - centers[labels]) ** 2).sum()
    assert sample_sweep.row(4)["inertia"] == pytest.approx(expected, rel=1e-6)
    assert sample_sweep.metrics["inertia"].is_monotonic_decreasing


def test_sweep_recommendation_is_one_of_the_ks(sample_sweep):
    assert sample_sweep.recommended_k in sample_sweep.metrics["k"].tolist()
    assert f"K = {sample_sweep.recommended_k}" in sample_sweep.reason
    again = _recommend_k(sample_sweep.metrics, sample_sweep.knee_k)
    assert again == (sample_sweep.recommended_k, sample_sweep.reason)
    assert sample_sweep.knee_k == _find_knee(sample_sweep.metrics["k"],
                                            sample_sweep.metrics["inertia"])


def test_sweep_accepts_a_plain_matrix(sample_fm, sample_sweep):
    plain = sweep_k(np.asarray(sample_fm.X), [3])
    assert plain.row(3)["silhouette"] == pytest.approx(sample_sweep.row(3)["silhouette"])


@pytest.fixture(scope="module")
def big_planted():
    frame = planted_customers(6000, seed=11, separation=2.0)
    return prepare(load(frame))


def test_sampled_silhouette_is_close_to_the_exact_one(big_planted):
    X = big_planted.X
    sweep = sweep_k(big_planted, [3], n_init=2, silhouette_sample_size=2000)
    assert sweep.silhouette_sample_size == 2000
    labels, _, _ = _fit_kmeans(X, 3, sweep.random_state, 2)
    # In 64 MB chunks, not scikit-learn's default of one 6,000 x 6,000 block: first touching
    # those 288 MB cost seconds on a virtual machine, for the same exact figure.
    with sklearn.config_context(working_memory=64):
        exact = silhouette_score(X, labels)
    assert abs(sweep.row(3)["silhouette"] - exact) <= 0.02
    # the other metrics still use every customer
    assert sweep.row(3)["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels))
    assert sweep.row(3)["min_share"] == pytest.approx(np.bincount(labels).min() / len(X))


def test_segment_on_a_sample_has_silhouettes_for_the_sample_only(big_planted):
    seg = segment(big_planted, 3, n_init=2, silhouette_sample_size=2000)
    assert seg.silhouette_sample_size == 2000
    assert np.isfinite(seg.silhouette_values).sum() == 2000
    assert seg.silhouette == pytest.approx(np.nanmean(seg.silhouette_values))


def test_too_few_customers_for_the_largest_k():
    X = np.random.default_rng(0).normal(size=(9, 2))
    with pytest.raises(SegmentationError, match="too few"):
        sweep_k(X, range(2, 6))
    sweep_k(X, range(2, 5), n_init=1)  # 9 customers are enough for 4 segments


@pytest.mark.parametrize("ks", [[1, 2, 3], [2, 11], [0], [], [10, 12]])
def test_k_outside_two_to_ten_is_an_error(ks):
    X = np.random.default_rng(1).normal(size=(60, 2))
    with pytest.raises(SegmentationError):
        sweep_k(X, ks)


@pytest.mark.parametrize("k", [1, 11])
def test_segment_rejects_k_outside_two_to_ten(planted_fm, k):
    with pytest.raises(SegmentationError):
        segment(planted_fm, k)


def test_segment_rejects_too_many_segments_for_the_customers(planted_fm):
    few = planted_customers(15, seed=2)
    fm = prepare(load(few))
    with pytest.raises(SegmentationError, match="too few"):
        segment(fm, 10)


# ---------------------------------------------------------------------------
# The knee of the inertia curve
# ---------------------------------------------------------------------------

def kneed_knee(ks, inertia):
    # Imported here: kneed loads matplotlib (a second of every test run's collection).
    from kneed import KneeLocator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kneed warns when it finds no knee
        knee = KneeLocator(list(ks), list(inertia), curve="convex", direction="decreasing").knee
    return None if knee is None else int(knee)


def test_find_knee_hand_case():
    ks = [2, 3, 4, 5, 6]
    inertia = [100.0, 40.0, 20.0, 12.0, 10.0]
    # scaled: x = 0, .25, .5, .75, 1; y = 1, .333, .111, .022, 0; the gap 1 - x - y is
    # largest (0.417) at K = 3
    assert _find_knee(ks, inertia) == 3
    assert kneed_knee(ks, inertia) == 3


def test_find_knee_needs_three_points_and_a_bend():
    assert _find_knee([2, 3], [10.0, 5.0]) is None
    assert _find_knee([2, 3, 4, 5], [40.0, 30.0, 20.0, 10.0]) is None  # straight line
    assert _find_knee([2, 3, 4], [5.0, 5.0, 5.0]) is None


@st.composite
def convex_decreasing(draw):
    """Inertia-like curves: positive drops that shrink strictly from each K to the next."""
    n = draw(st.integers(3, 9))
    start = draw(st.integers(1, 3))
    ratios = draw(st.lists(st.floats(0.05, 0.9), min_size=n - 2, max_size=n - 2))
    first = draw(st.floats(1.0, 1e5))
    drops = [first]
    for r in ratios:
        drops.append(drops[-1] * r)
    floor = draw(st.floats(0.0, 1e5))
    inertia = floor + np.concatenate([np.cumsum(drops[::-1])[::-1], [0.0]])
    ks = list(range(start, start + n))
    return ks, inertia


@FAST
@given(convex_decreasing())
def test_find_knee_agrees_with_kneed_on_convex_curves(curve):
    ks, inertia = curve
    assert np.all(np.diff(inertia) < 0) and np.all(np.diff(inertia, 2) > 0)
    # Both "no knee" (a curve that bends too little) and the knee itself must agree.
    assert _find_knee(ks, inertia) == kneed_knee(ks, inertia)


@pytest.mark.parametrize("inertia", [
    [17535.02, 15400.92, 14422.42, 13640.01, 13060.92],  # the real export's K = 2..6 sweep
    [100.0, 80.0, 62.0, 46.0, 32.0],
])
def test_find_knee_agrees_with_kneed_on_gently_bending_curves(inertia):
    ks = [2, 3, 4, 5, 6]
    assert np.all(np.diff(inertia, 2) > 0)  # strictly convex, decreasing
    assert _find_knee(ks, inertia) == kneed_knee(ks, inertia)


def test_find_knee_agrees_with_kneed_on_a_tie():
    ks = [2, 3, 4, 5, 6]
    inertia = [120.0, 108.0, 103.0, 101.0, 100.0]  # gaps 0, .35, .35, .2, 0
    assert np.all(np.diff(inertia, 2) > 0)
    assert kneed_knee(ks, inertia) == 4
    assert _find_knee(ks, inertia) == kneed_knee(ks, inertia)


# ---------------------------------------------------------------------------
# recommend_k on hand-made sweeps
# ---------------------------------------------------------------------------

def metrics(rows):
    """rows: (k, silhouette, min_share)."""
    return pd.DataFrame([
        {"k": k, "inertia": 1000.0 / k, "silhouette": s, "calinski_harabasz": 100.0,
         "davies_bouldin": 1.0, "min_share": share}
        for k, s, share in rows
    ])


def test_recommend_prefers_three_to_five_when_nearly_as_good():
    m = metrics([(2, 0.34, 0.45), (3, 0.25, 0.25), (4, 0.20, 0.20), (5, 0.18, 0.15)])
    k, reason = _recommend_k(m)
    assert k == 3
    assert "K = 3" in reason and "K = 2" in reason
    assert reason.endswith(".")


def test_recommend_two_when_the_preferred_range_is_clearly_worse():
    m = metrics([(2, 0.60, 0.45), (3, 0.20, 0.25), (4, 0.18, 0.20), (5, 0.15, 0.15)])
    k, reason = _recommend_k(m)
    assert k == 2
    assert "K = 2" in reason
    assert "3 to 5" in reason and "clearly worse" in reason


def test_recommend_within_five_hundredths_is_nearly_as_good():
    # 0.12 is not two-thirds of 0.16 but within 0.05 of it
    m = metrics([(2, 0.16, 0.45), (3, 0.12, 0.30), (4, 0.05, 0.20)])
    assert _recommend_k(m)[0] == 3
    m = metrics([(2, 0.16, 0.45), (3, 0.10, 0.30), (4, 0.05, 0.20)])
    assert _recommend_k(m)[0] == 2


def test_recommend_avoids_a_small_segment_when_another_near_k_exists():
    m = metrics([(2, 0.40, 0.45), (3, 0.39, 0.05), (4, 0.36, 0.20), (5, 0.30, 0.12)])
    k, reason = _recommend_k(m)
    assert k == 4
    assert "K = 4" in reason


def test_recommend_reason_says_why_a_better_k_was_passed_over():
    m = metrics([(2, 0.30, 0.45), (3, 0.40, 0.05), (4, 0.38, 0.20)])
    k, reason = _recommend_k(m)
    assert k == 4
    # K = 3 is itself in the preferred range; it lost for its 5% segment, so the reason
    # should say that instead of "3 to 5 segments are easier to act on".
    assert "10%" in reason
    assert "K = 3 scores higher (0.40), but 3 to 5 segments are easier" not in reason


def test_recommend_keeps_a_small_segment_when_every_near_k_has_one():
    m = metrics([(2, 0.40, 0.45), (3, 0.39, 0.05), (4, 0.36, 0.08), (5, 0.10, 0.30)])
    k, reason = _recommend_k(m)
    assert k == 3
    assert "under 10%" in reason


def test_recommend_takes_the_elbow_when_its_silhouette_is_close():
    m = metrics([(2, 0.30, 0.45), (3, 0.29, 0.30), (4, 0.28, 0.20), (5, 0.20, 0.15)])
    assert _recommend_k(m)[0] == 3
    k, reason = _recommend_k(m, knee_k=4)
    assert k == 4
    assert "elbow" in reason and "K = 4" in reason
    # an elbow with a clearly lower silhouette does not win
    assert _recommend_k(m, knee_k=5)[0] == 3


def test_recommend_reason_is_a_sentence_naming_k():
    for rows in ([(2, 0.5, 0.5), (3, 0.1, 0.3)], [(3, 0.3, 0.3), (4, 0.31, 0.2)],
                 [(2, 0.2, 0.5), (6, 0.5, 0.02)]):
        k, reason = _recommend_k(metrics(rows))
        assert reason.strip() and reason[0].isupper() and reason.endswith(".")
        assert f"K = {k}" in reason


# ---------------------------------------------------------------------------
# quality_warnings
# ---------------------------------------------------------------------------

def test_quality_warnings_flag_each_weakness():
    assert quality_warnings(0.45, [0.5, 0.3, 0.2], 1000) == ()
    weak = quality_warnings(0.29, [0.5, 0.3, 0.2], 1000)
    assert len(weak) == 1 and "0.3" in weak[0]
    small = quality_warnings(0.45, [0.55, 0.36, 0.09], 1000)
    assert len(small) == 1 and "segment 2" in small[0].lower() and "10%" in small[0]
    few = quality_warnings(0.45, [0.5, 0.5], 199)
    assert len(few) == 1 and "199" in few[0]
    assert len(quality_warnings(0.1, [0.95, 0.05], 50)) == 3


def test_quality_warnings_boundaries_are_not_flagged():
    assert quality_warnings(0.3, [0.5, 0.4, 0.1], 200) == ()
    assert quality_warnings(float("nan"), [0.5, 0.5], 500) == ()


# ---------------------------------------------------------------------------
# segment(): determinism, ordering, planted types
# ---------------------------------------------------------------------------

def test_same_seed_same_assignments(sample_fm):
    a = segment(sample_fm, 4, random_state=7)
    b = segment(sample_fm, 4, random_state=7)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centers, b.centers)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_segment_zero_spends_most(sample_fm, k):
    seg = segment(sample_fm, k)
    spend = sample_fm.frame["total_spend"].to_numpy()
    means = [spend[seg.labels == j].mean() for j in range(k)]
    assert means == sorted(means, reverse=True)
    assert seg.sizes.sum() == sample_fm.n_customers
    assert set(np.unique(seg.labels)) == set(range(k))


def test_segment_silhouettes_and_distances(sample_fm):
    seg = segment(sample_fm, 4)
    X = sample_fm.X
    np.testing.assert_allclose(seg.silhouette_values, silhouette_samples(X, seg.labels),
                               atol=1e-9)
    assert seg.silhouette == pytest.approx(silhouette_score(X, seg.labels), abs=1e-9)
    np.testing.assert_allclose(seg.distances, np.linalg.norm(X - seg.centers[seg.labels], axis=1))
    assert seg.inertia == pytest.approx((seg.distances ** 2).sum(), rel=1e-6)
    # centres are where their customers are
    for j in range(4):
        np.testing.assert_allclose(seg.centers[j], X[seg.labels == j].mean(axis=0), atol=1e-6)


@FAST
@given(st.integers(2, 6), st.integers(0, 2**32 - 1), st.booleans())
def test_order_labels_ignores_kmeans_numbering(k, seed, with_key):
    rng = np.random.default_rng(seed)
    n = 40
    labels = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    # distinct centres, as k-means gives: two equal centres of equal size could not be told
    # apart by anything but k-means' numbering
    cells = rng.choice(7 ** 3, size=k, replace=False)
    centers = np.stack([cells // 49, cells // 7 % 7, cells % 7], axis=1).astype(float) - 3
    key = rng.integers(0, 4, n).astype(float) if with_key else None
    perm = rng.permutation(k)
    relabelled = perm[labels]
    moved = np.empty_like(centers)
    moved[perm] = centers
    a_labels, a_centers = _order_labels(labels, centers, key)
    b_labels, b_centers = _order_labels(relabelled, moved, key)
    np.testing.assert_array_equal(a_labels, b_labels)
    np.testing.assert_array_equal(a_centers, b_centers)
    # the same grouping of customers, renumbered
    assert adjusted_rand_score(labels, a_labels) == 1.0
    if with_key:
        means = [key[a_labels == j].mean() for j in range(k)]
        assert means == sorted(means, reverse=True)


def test_order_labels_ties_go_to_the_larger_segment():
    labels = np.array([0, 1, 1, 1, 2, 2])
    centers = np.array([[0.0], [1.0], [2.0]])
    key = np.array([5.0, 5.0, 5.0, 5.0, 9.0, 9.0])
    new, new_centers = _order_labels(labels, centers, key)
    # segment with key 9 first, then the tie on 5 goes to the three-customer segment
    np.testing.assert_array_equal(new, [2, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(new_centers.ravel(), [2.0, 1.0, 0.0])


def test_planted_types_are_recovered(planted_frame, planted_seg):
    truth = planted_frame.attrs["planted"]
    ari = adjusted_rand_score(truth, planted_seg.labels)
    assert ari == 1.0 or ari > 0.95
    # the big wine-and-meat spenders (type 0) are segment 0
    assert np.bincount(planted_seg.labels[truth == 0]).argmax() == 0


def test_shuffled_rows_give_the_same_segments(planted_frame, planted_fm, planted_seg):
    shuffled = planted_frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    fm = prepare(load(shuffled))
    assert list(fm.customer_ids) != list(planted_fm.customer_ids)
    seg = segment(fm, 3)
    before = pd.Series(planted_seg.labels, index=planted_fm.customer_ids)
    after = pd.Series(seg.labels, index=fm.customer_ids)
    pd.testing.assert_series_equal(after.reindex(before.index), before, check_names=False)


def test_different_seeds_agree_on_planted_data(planted_fm, planted_seg):
    other = segment(planted_fm, 3, random_state=123)
    np.testing.assert_array_equal(other.labels, planted_seg.labels)


# ---------------------------------------------------------------------------
# Split-half agreement over several seeded splits
# ---------------------------------------------------------------------------

def independent_agreements(X: np.ndarray, k: int, random_state: int, n_init: int,
                           n_splits: int) -> list[float]:
    """Each split as documented, refitted with scikit-learn: split i is seeded random_state + i,
    its halves are a permutation cut in two, each half-model labels every row by its nearest
    centre, and the two labelings are compared by the adjusted Rand index."""
    out = []
    for seed in range(random_state, random_state + n_splits):
        halves = np.array_split(np.random.default_rng(seed).permutation(len(X)), 2)
        with threadpool_limits(limits=1, user_api="openmp"):
            centers = [KMeans(k, n_init=n_init, random_state=seed).fit(X[h]).cluster_centers_
                       for h in halves]
        a, b = (cdist(X, c).argmin(axis=1) for c in centers)
        out.append(adjusted_rand_score(a, b))
    return out


@pytest.fixture(scope="module")
def uniform_cube():
    """240 customers spread uniformly over a cube: no segments to find, yet at K = 2 the
    first split (seed 42) has halves that agree 0.87, far above the cut-off."""
    X = np.random.default_rng(27).uniform(size=(240, 3))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, sweep_k(X, range(2, 7), n_init=4, stability=True)


@pytest.mark.parametrize("k", [3, 4])
def test_agreement_is_the_median_of_independently_refit_seeded_splits(planted_fm, k):
    X = planted_fm.X
    # Noise on planted types so splits disagree and the median is not just 1.0 everywhere.
    X = X + np.random.default_rng(1).normal(0, 1.5, X.shape)
    result = split_half_agreement(X, k, random_state=9, n_init=3)
    expected = independent_agreements(X, k, 9, 3, N_SPLITS)
    assert N_SPLITS % 2 == 1 and len(result.values) == N_SPLITS
    np.testing.assert_allclose(result.values, expected, atol=1e-12)
    assert result.median == pytest.approx(float(np.median(expected)), abs=1e-12)
    assert (result.low, result.high) == pytest.approx((min(expected), max(expected)))
    assert result.seeds == tuple(range(9, 9 + N_SPLITS))
    assert result.values[result.seeds.index(result.median_seed)] == result.median
    assert result.rows is None


def test_agreement_labels_by_true_distance_far_from_the_origin():
    """Three separate groups a billion units from the origin (unscaled money, say): each
    half-model must label by the actual distance. Expanding |x - c|^2 as |x|^2 - 2x.c + |c|^2
    loses the gaps between the groups to rounding there, and the agreement fell to about 0."""
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 1, (60, 2)), rng.normal(6, 1, (60, 2)),
              rng.normal((0, 12), 1, (60, 2))] + 1e9
    result = split_half_agreement(X, 3, random_state=42, n_init=4, n_splits=3)
    np.testing.assert_allclose(result.values, independent_agreements(X, 3, 42, 4, 3),
                               atol=1e-12)
    assert result.median == 1.0


def test_agreement_is_deterministic_for_a_seed(planted_fm):
    X = planted_fm.X + np.random.default_rng(2).normal(0, 1.5, planted_fm.X.shape)
    first = split_half_agreement(X, 4, random_state=5, n_init=2)
    again = split_half_agreement(X, 4, random_state=5, n_init=2)
    other = split_half_agreement(X, 4, random_state=50, n_init=2)
    assert first.values == again.values
    assert first.values != other.values


def test_agreement_above_the_sample_size_uses_a_fixed_sample(planted_fm):
    X = planted_fm.X + np.random.default_rng(4).normal(0, 1.0, planted_fm.X.shape)
    result = split_half_agreement(X, 3, random_state=8, n_init=2, n_splits=3,
                                  sample_size=200)
    assert result.rows is not None and len(result.rows) == 200
    assert len(np.unique(result.rows)) == 200
    expected = independent_agreements(X[result.rows], 3, 8, 2, 3)
    np.testing.assert_allclose(result.values, expected, atol=1e-12)


@pytest.mark.parametrize("n_splits", [0, -1])
def test_agreement_needs_a_split(planted_fm, n_splits):
    with pytest.raises(SegmentationError, match="splits is not valid"):
        split_half_agreement(planted_fm.X, 3, n_splits=n_splits)


def test_sweep_reports_median_and_range_of_the_splits(uniform_cube):
    X, sweep = uniform_cube
    for row in sweep.metrics.itertuples(index=False):
        expected = independent_agreements(X, int(row.k), 42, 4, N_SPLITS)
        assert row.stability == pytest.approx(np.median(expected), abs=1e-12)
        assert row.stability_min == pytest.approx(min(expected), abs=1e-12)
        assert row.stability_max == pytest.approx(max(expected), abs=1e-12)


def test_a_lucky_split_does_not_make_noise_replicate(uniform_cube):
    X, sweep = uniform_cube
    first_splits = [independent_agreements(X, k, 42, 4, 1)[0] for k in sweep.metrics["k"]]
    # One split alone (what the sweep used to read) passes the cut-off at K = 2 ...
    assert first_splits[0] >= REPLICATES
    k2 = sweep.row(2)
    # ... but the median of the splits does not, at K = 2 or at any K.
    assert k2["stability"] < REPLICATES <= k2["stability_max"]
    assert (sweep.metrics["stability"] < REPLICATES).all()
    assert "no K replicates" in sweep.reason
    assert "median split-half agreement under 0.60" in sweep.reason
    assert f"median {sweep.row(sweep.recommended_k)['stability']:.2f} over {N_SPLITS}" \
        in sweep.reason
    # Read from the first split alone, K = 2 would have been said to replicate and chosen.
    one_split = sweep.metrics.drop(columns=["stability_min", "stability_max"]).assign(
        stability=first_splits)
    k_one, reason_one = _recommend_k(one_split, sweep.knee_k)
    assert k_one == 2 and "no K replicates" not in reason_one


def with_agreement(rows):
    """rows: (k, silhouette, min_share, median agreement, lowest, highest)."""
    return metrics([r[:3] for r in rows]).assign(
        stability=[r[3] for r in rows], stability_min=[r[4] for r in rows],
        stability_max=[r[5] for r in rows])


def test_recommendation_applies_the_cut_off_to_the_median():
    # K = 3 has the better silhouette and one split at 0.95, but its median is 0.55;
    # K = 4's median passes although its worst split is 0.40.
    m = with_agreement([(2, 0.20, 0.45, 0.90, 0.85, 0.95), (3, 0.40, 0.25, 0.55, 0.30, 0.95),
                        (4, 0.38, 0.20, 0.75, 0.40, 0.80)])
    k, reason = _recommend_k(m)
    assert k == 4
    assert "passed over K = 3" in reason and "median agreement under 0.60" in reason
    assert "its split-half agreement is median 0.75 over 7 random splits, range 0.40–0.80" \
        in reason


def test_agreement_text_names_median_splits_and_range():
    row = {"stability": 0.8249, "stability_min": 0.571, "stability_max": 0.9651}
    assert _agreement_text(row) == (f"median 0.82 over {N_SPLITS} random splits, "
                                   "range 0.57–0.97")


@pytest.mark.realdata
@pytest.mark.slow
def test_real_file_k4_agreement_spread_is_reported(real_path, record_property):
    fm = prepare(load_dataset(read_table(real_path)))
    sweep = sweep_k(fm, range(2, 7), stability=True)
    row = sweep.row(4)
    expected = independent_agreements(fm.X, 4, 42, 10, N_SPLITS)
    record_property("real_k4_split_half", [round(v, 3) for v in expected])
    print(f"real data K = 4: {_agreement_text(row)}")
    assert row["stability"] == pytest.approx(np.median(expected), abs=1e-12)
    assert (row["stability_min"], row["stability_max"]) == pytest.approx(
        (min(expected), max(expected)), abs=1e-12)
    # The splits really do disagree on this file, which is why one split is not enough.
    assert row["stability_max"] - row["stability_min"] > 0.05


def test_the_sweep_passes_over_a_k_that_leaves_a_segment_of_one_percent():
    # Three even groups and ten customers far away: K = 4 has the best silhouette by
    # isolating the ten. The sweep must record each K's largest and smallest share so
    # the actionable-K rule can pass it over (it never saw the largest share before).
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.6, (330, 2)) for c in [(0, 0), (6, 0), (0, 6)]]
                  + [rng.normal((20, 20), 0.1, (10, 2))])
    sweep = sweep_k(X, range(2, 7), 42, 10, stability=False)
    m = sweep.metrics.set_index("k")
    shares = [np.bincount(KMeans(k, n_init=10, random_state=42).fit(X).labels_) / len(X)
              for k in m.index]
    assert m["max_share"].tolist() == pytest.approx([s.max() for s in shares])
    assert m.loc[4, "silhouette"] > m.loc[3, "silhouette"]
    assert sweep.recommended_k == 3
    assert "K = 4 was passed over: one segment holds 1.0% of customers" in sweep.reason


def test_when_every_k_leaves_a_tiny_segment_the_reason_says_so_once():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal((0, 0), 1.0, (990, 2)), rng.normal((30, 30), 0.1, (10, 2))])
    sweep = sweep_k(X, range(2, 7), 42, 10, stability=False)
    assert "segments are not actionable as they stand" in sweep.reason
    assert "was passed over" not in sweep.reason


@pytest.mark.parametrize("shape", ["planted", "uniform", "noisy"])
def test_the_split_half_check_adds_each_ks_agreement_and_recommends_again(planted_fm,
                                                                          uniform_cube, shape):
    """A sweep with the check is the sweep without it, plus each K's agreement from
    split_half_agreement (checked against independent refits elsewhere), with K
    recommended by the same rule on the figures with agreement."""
    X = {"planted": planted_fm.X, "uniform": uniform_cube[0],
         "noisy": planted_fm.X + np.random.default_rng(3).normal(0, 2.0, planted_fm.X.shape)}[
        shape]
    first = sweep_k(X, range(2, 7), n_init=4)
    assert "stability" not in first.metrics
    agreements = [split_half_agreement(X, k, n_init=4) for k in range(2, 7)]
    expected = first.metrics.assign(stability=[a.median for a in agreements],
                                    stability_min=[a.low for a in agreements],
                                    stability_max=[a.high for a in agreements])
    whole = sweep_k(X, range(2, 7), n_init=4, stability=True)
    pd.testing.assert_frame_equal(whole.metrics, expected)
    assert (whole.recommended_k, whole.reason) == kmeans._recommend_k(expected, first.knee_k)
    assert whole.knee_k == first.knee_k
    assert "split-half agreement" in whole.reason and "split-half" not in first.reason
    calls = []
    checked = kmeans.add_stability(first, X,
                                   progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 5) for i in range(1, 6)]
    pd.testing.assert_frame_equal(checked.metrics, whole.metrics)
    assert (checked.recommended_k, checked.reason) == (whole.recommended_k, whole.reason)
    assert checked.fits is first.fits  # the check adds columns; the fits are lent, not copied


def _counting_fits(monkeypatch) -> list[int]:
    """Records the K of every k-means fit from here on."""
    calls, real = [], kmeans._fit_kmeans

    def counted(X, k, *args, **kwargs):
        calls.append(k)
        return real(X, k, *args, **kwargs)

    monkeypatch.setattr(kmeans, "_fit_kmeans", counted)
    return calls


@pytest.mark.parametrize("rows", [None, 25_000])
def test_the_segmentation_at_a_swept_k_reuses_the_sweeps_fit(planted_fm, monkeypatch, rows):
    """The same labels, centres, inertia and silhouettes as fitting that K again, without the
    fit; above the fit sample (25,000 customers) as well, where fits are refined in float32."""
    fm = planted_fm
    if rows is not None:
        pick = np.random.default_rng(5).integers(0, fm.X.shape[0], rows)
        jitter = np.random.default_rng(6).normal(0, 0.05, (rows, fm.X.shape[1]))
        fm = replace(fm, X=fm.X[pick] + jitter,
                     frame=fm.frame.iloc[pick].reset_index(drop=True))
    sweep = sweep_k(fm, range(2, 6), random_state=3, n_init=4)
    refit = {k: segment(fm, k, random_state=3, n_init=4) for k in (2, 4, 5)}
    calls = _counting_fits(monkeypatch)
    for k, expected in refit.items():
        reused = segment(fm, k, random_state=3, n_init=4, sweep=sweep)
        np.testing.assert_array_equal(reused.labels, expected.labels)
        np.testing.assert_array_equal(reused.centers, expected.centers)
        np.testing.assert_array_equal(reused.silhouette_values, expected.silhouette_values)
        assert reused.inertia == expected.inertia
    assert calls == []
    # Other settings, a K the sweep did not try, or other customers of the same shape are
    # fitted as before.
    segment(fm, 3, random_state=4, n_init=4, sweep=sweep)
    segment(fm, 3, random_state=3, n_init=2, sweep=sweep)
    segment(fm, 6, random_state=3, n_init=4, sweep=sweep)
    other = replace(fm, X=fm.X[::-1].copy())
    segment(other, 2, random_state=3, n_init=4, sweep=sweep)
    assert calls == [3, 3, 6, 2]


def test_a_run_fits_its_chosen_k_once(sample_path, monkeypatch):
    from segmentation import RunConfig, run

    calls = _counting_fits(monkeypatch)
    result = run(sample_path, RunConfig(stability=False))
    assert sorted(calls) == [2, 3, 4, 5, 6]  # the sweep's five, and no sixth
    assert result.segmentation.labels.size == result.features.X.shape[0]
