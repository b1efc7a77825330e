"""Stability: split-half replication, bootstrap Jaccard, Hungarian matching, segment identity.

Every figure is recomputed independently (scikit-learn's adjusted Rand index,
pandas group means, set-based Jaccard, brute-force assignment) and checked on
data whose answer is known: planted, well-separated customer types that must
replicate, and pure noise that must not.
"""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from segmentation import RunConfig, SegmentationError, read_table, run
from segmentation.cluster.kmeans import N_SPLITS, _fit_kmeans, segment, sweep_k
from segmentation.data.dataset import load_dataset
from segmentation.describe.profiles import profile_segments
from segmentation.prepare.features import prepare
from segmentation.validate.stability import (
    ARI_BANDS,
    JACCARD_BANDS,
    SAME_SEGMENT_RMS,
    _band,
    _best_jaccard,
    _clusterboot,
    _match,
    _resample_jaccard,
    _split_half_table,
    _summarize_jaccard,
    bootstrap_stability,
    data_size_warning,
    match_segments,
    small_segment_check,
    split_half,
)
from tests.helpers import planted_customers, to_tsv_bytes

FAST = settings(max_examples=40, deadline=None)
NOISE_COLUMNS = ("Income", "MntWines", "MntMeatProducts", "MntGoldProds",
                 "NumWebPurchases", "NumStorePurchases")
N_BOOT = 12


def tsv(frame: pd.DataFrame) -> bytes:
    """The table as tab-separated bytes (attrs cleared: pandas 3 chokes on arrays there)."""
    clean = frame.copy()
    clean.attrs = {}
    return to_tsv_bytes(clean)


def load(frame: pd.DataFrame):
    return load_dataset(read_table(tsv(frame), name="table"))


def noise_table(seed: int, n: int = 600) -> pd.DataFrame:
    """Six columns of iid standard normal numbers (shifted so no value is implausible)."""
    rng = np.random.default_rng(seed)
    table = {"ID": [f"N{i:05d}" for i in range(n)]}
    for col in NOISE_COLUMNS:
        table[col] = 1000.0 + rng.standard_normal(n)
    return pd.DataFrame(table)


def expected_jaccard_band(value: float) -> str:
    if value >= 0.85:
        return "highly stable"
    if value >= 0.75:
        return "stable"
    if value >= 0.60:
        return "a pattern, but membership is doubtful"
    return "not to be trusted"


def expected_ari_band(value: float) -> str:
    if value >= 0.80:
        return "the segments replicate well"
    if value >= 0.60:
        return "the segments replicate, with some customers changing sides"
    if value >= 0.40:
        return "the segments only partly replicate"
    return "the segments do not replicate: they are mostly noise"


def halves_of(n: int, random_state: int):
    """The two halves split_half documents: a fixed-seed permutation cut in two."""
    return np.array_split(np.random.default_rng(random_state).permutation(n), 2)


def split_agreement(X: np.ndarray, k: int, seed: int, n_init: int = 10) -> float:
    """One split's agreement, refitted independently: halves by the seed, each fitted by
    scikit-learn, every customer assigned to each half-model's nearest centre."""
    with threadpool_limits(limits=1, user_api="openmp"):
        centers = [KMeans(k, n_init=n_init, random_state=seed).fit(X[h]).cluster_centers_
                   for h in halves_of(len(X), seed)]
    return adjusted_rand_score(*(cdist(X, c).argmin(axis=1) for c in centers))


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted_frame():
    return planted_customers(600, seed=0, separation=4.0)


@pytest.fixture(scope="module")
def planted_fm(planted_frame):
    return prepare(load(planted_frame))


@pytest.fixture(scope="module")
def planted_seg(planted_fm):
    return segment(planted_fm, 3)


@pytest.fixture(scope="module")
def planted_split(planted_fm):
    return split_half(planted_fm, 3)


@pytest.fixture(scope="module")
def noise_fms():
    return {seed: prepare(load(noise_table(seed))) for seed in range(4)}


@pytest.fixture(scope="module")
def planted_boot(planted_fm, planted_seg):
    return bootstrap_stability(planted_fm, planted_seg, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def noise_boot(noise_fms):
    fm = noise_fms[0]
    return bootstrap_stability(fm, segment(fm, 4), n_boot=N_BOOT)


@pytest.fixture(scope="module")
def planted5_profiles(planted_fm):
    seg = segment(planted_fm, 5)
    return seg, profile_segments(planted_fm, seg)


# ---------------------------------------------------------------------------
# Bands
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1.0, 0.9, 0.85, 0.8499, 0.8, 0.75, 0.7499, 0.6, 0.5999,
                                   0.5, 0.0, -0.2])
def test_bands_follow_the_documented_thresholds(value):
    assert _band(value, JACCARD_BANDS) == expected_jaccard_band(value)
    assert _band(value, ARI_BANDS) == expected_ari_band(value)


# ---------------------------------------------------------------------------
# Split-half replication
# ---------------------------------------------------------------------------

def test_noise_table_really_is_noise(noise_fms):
    """The noise matrix is the z-scored random table, nothing clipped or derived."""
    fm = noise_fms[0]
    raw = noise_table(0)[list(NOISE_COLUMNS)].to_numpy(float)
    assert fm.features == NOISE_COLUMNS
    np.testing.assert_allclose(fm.X, (raw - raw.mean(axis=0)) / raw.std(axis=0), atol=1e-9)


def test_planted_types_replicate_across_halves(planted_split):
    assert planted_split.ari > 0.9
    assert planted_split.verdict == "the segments replicate well"
    assert planted_split.verdict == expected_ari_band(planted_split.ari)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [3, 4])
def test_noise_does_not_replicate(noise_fms, seed, k):
    # Across 8 noise tables (K = 2..6, and five split seeds at K = 3) the
    # agreement never exceeded 0.37; at these settings it stays under 0.2.
    result = split_half(noise_fms[seed], k)
    assert result.ari < 0.4
    assert "do not replicate" in result.verdict and "noise" in result.verdict
    assert result.verdict == expected_ari_band(result.ari)


@pytest.mark.parametrize("which", ["planted", "noise"])
def test_ari_is_the_median_of_independently_refit_splits(which, planted_fm, noise_fms):
    fm = planted_fm if which == "planted" else noise_fms[1]
    k, seed = 3, 7
    result = split_half(fm, k, random_state=seed, n_init=4)
    expected = [split_agreement(fm.X, k, s, 4) for s in range(seed, seed + N_SPLITS)]
    agreement = result.agreement
    assert agreement.n_splits == N_SPLITS
    np.testing.assert_allclose(agreement.values, expected, atol=1e-12)
    assert result.ari == pytest.approx(float(np.median(expected)), abs=1e-12)
    assert (agreement.low, agreement.high) == pytest.approx((min(expected), max(expected)))
    # The split shown is the median one, and the verdict reads the median.
    assert expected[agreement.median_seed - seed] == pytest.approx(result.ari, abs=1e-12)
    assert result.verdict == expected_ari_band(result.ari)
    assert agreement.text == (f"median {result.ari:.2f} over {N_SPLITS} random splits, range "
                              f"{min(expected):.2f}–{max(expected):.2f}")


def test_pairs_are_a_permutation_matching_nearest_centres(planted_fm, planted_split):
    k = 3
    a_side = [a for a, _ in planted_split.pairs]
    b_side = [b for _, b in planted_split.pairs]
    assert sorted(a_side) == list(range(k))
    assert sorted(b_side) == list(range(k))
    seed = planted_split.agreement.median_seed
    halves = halves_of(planted_fm.n_customers, seed)
    ca, cb = (_fit_kmeans(planted_fm.X[h], k, seed)[1] for h in halves)
    cost = ((ca[:, None, :] - cb[None, :, :]) ** 2).sum(axis=2)
    best = min(itertools.permutations(range(k)), key=lambda p: cost[range(k), p].sum())
    assert dict(planted_split.pairs) == dict(enumerate(best))


def test_pairs_join_the_same_planted_type(planted_frame, planted_fm, planted_split):
    kind = np.asarray(planted_frame.attrs["planted"])
    seed = planted_split.agreement.median_seed
    halves = halves_of(planted_fm.n_customers, seed)
    labels = [_fit_kmeans(planted_fm.X[h], 3, seed)[0] for h in halves]

    def majority_kind(half, seg):
        return np.bincount(kind[halves[half]][labels[half] == seg]).argmax()

    for a, b in planted_split.pairs:
        assert majority_kind(0, a) == majority_kind(1, b)


def test_differences_and_profiles_match_pandas_group_means(planted_fm, planted_split):
    seed = planted_split.agreement.median_seed
    halves = halves_of(planted_fm.n_customers, seed)
    labels = [_fit_kmeans(planted_fm.X[h], 3, seed)[0] for h in halves]
    numbers = planted_fm.frame.select_dtypes("number")
    means = [numbers.iloc[h].groupby(lab).mean() for h, lab in zip(halves, labels, strict=True)]

    assert planted_split.sizes_a == tuple(np.bincount(labels[0], minlength=3))
    assert planted_split.sizes_b == tuple(np.bincount(labels[1], minlength=3))
    diff = planted_split.differences
    assert list(diff.index) == list(range(3))
    assert list(diff.columns) == list(numbers.columns)
    for pair, (a, b) in enumerate(planted_split.pairs):
        expected = means[1].loc[b] - means[0].loc[a]
        np.testing.assert_allclose(diff.loc[pair].to_numpy(float), expected.to_numpy(float),
                                   rtol=1e-10, atol=1e-9)

    long = planted_split.profiles
    assert set(long.columns) >= {"half", "pair", "segment", "variable", "mean"}
    assert len(long) == 2 * 3 * numbers.shape[1]
    for row in long.itertuples():
        half = 0 if row.half == "A" else 1
        assert row.segment == planted_split.pairs[row.pair][half]
        assert row.mean == pytest.approx(means[half].loc[row.segment, row.variable])


def test_split_half_is_deterministic(planted_fm):
    a, b = split_half(planted_fm, 3, random_state=5), split_half(planted_fm, 3, random_state=5)
    assert a.ari == b.ari and a.agreement.values == b.agreement.values and a.pairs == b.pairs
    pd.testing.assert_frame_equal(a.differences, b.differences)



# ---------------------------------------------------------------------------
# The split-half table (drawn by the Validate page and the report)
# ---------------------------------------------------------------------------

TABLE_COLUMNS = ["pair", "segment_a", "segment_b", "statistic", "variable", "label",
                 "value_a", "value_b", "difference"]


def hand_split(profiles: list[tuple[str, int, int, str, float]]) -> SimpleNamespace:
    """Two matched pairs of a K = 2 split: A0 with B1 and A1 with B0, sizes by hand."""
    return SimpleNamespace(pairs=((0, 1), (1, 0)), sizes_a=(3, 5), sizes_b=(4, 4),
                           profiles=pd.DataFrame(profiles, columns=["half", "pair", "segment",
                                                                    "variable", "mean"]))


def hand_profiles(first: dict[str, str]) -> SimpleNamespace:
    labels = {"inc": "Income", "kids": "Kids at home", "spend": "Total spend"}
    return SimpleNamespace(first=first.get,
                           variables={n: SimpleNamespace(label=v) for n, v in labels.items()})


def test_split_half_table_on_a_hand_case():
    """Customers first, then the key kinds in their fixed order (income before children,
    whatever order the data lists them in); half B never measured kids in pair 0."""
    halves = hand_split([("A", 0, 0, "kids", 1.0), ("A", 0, 0, "inc", 10.0),
                         ("B", 0, 1, "inc", 13.0),
                         ("A", 1, 1, "inc", 20.0), ("A", 1, 1, "kids", 0.0),
                         ("B", 1, 0, "inc", 18.0), ("B", 1, 0, "kids", 0.5)])
    table = _split_half_table(halves, hand_profiles({"children": "kids", "income": "inc"}))
    expected = pd.DataFrame([
        (1, 0, 1, "customers", None, "Customers", 3.0, 4.0, 1.0),
        (1, 0, 1, "mean", "inc", "Income", 10.0, 13.0, 3.0),
        (1, 0, 1, "mean", "kids", "Kids at home", 1.0, np.nan, np.nan),
        (2, 1, 0, "customers", None, "Customers", 5.0, 4.0, -1.0),
        (2, 1, 0, "mean", "inc", "Income", 20.0, 18.0, -2.0),
        (2, 1, 0, "mean", "kids", "Kids at home", 0.0, 0.5, 0.5),
    ], columns=TABLE_COLUMNS)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


def test_split_half_table_without_key_variables_still_lists_every_pair():
    halves = hand_split([("A", 0, 0, "x", 1.0), ("B", 0, 1, "x", 2.0),
                         ("A", 1, 1, "x", 3.0), ("B", 1, 0, "x", 4.0)])
    table = _split_half_table(halves, hand_profiles({}))
    assert list(table.columns) == TABLE_COLUMNS
    assert table["pair"].tolist() == [1, 2] and set(table["statistic"]) == {"customers"}
    assert table[["value_a", "value_b"]].to_numpy().tolist() == [[3, 4], [5, 4]]


def test_split_half_table_matches_pandas_group_means(planted_fm, planted_seg, planted_split):
    """On planted data: the segments' sizes and means in each half, recomputed from the
    documented halves and fits, for income, total spend, recency and children."""
    seed = planted_split.agreement.median_seed
    halves = halves_of(planted_fm.n_customers, seed)
    labels = [_fit_kmeans(planted_fm.X[h], 3, seed)[0] for h in halves]
    numbers = planted_fm.frame.select_dtypes("number")
    means = [numbers.iloc[h].groupby(lab).mean() for h, lab in zip(halves, labels, strict=True)]
    sizes = [np.bincount(lab, minlength=3) for lab in labels]

    table = _split_half_table(planted_split, profile_segments(planted_fm, planted_seg))
    key = ["Income", "total_spend", "Recency", "children"]
    for pair, (a, b) in enumerate(planted_split.pairs):
        rows = table[table["pair"] == pair + 1]
        assert (rows["segment_a"] == a).all() and (rows["segment_b"] == b).all()
        assert rows["statistic"].tolist() == ["customers"] + ["mean"] * len(key)
        assert rows["variable"].tolist()[1:] == key
        assert rows["label"].tolist()[1:] == [planted_fm.variables[v].label for v in key]
        expected_a = [sizes[0][a], *means[0].loc[a, key]]
        expected_b = [sizes[1][b], *means[1].loc[b, key]]
        np.testing.assert_allclose(rows["value_a"], expected_a, rtol=1e-12)
        np.testing.assert_allclose(rows["value_b"], expected_b, rtol=1e-12)
        np.testing.assert_allclose(rows["difference"],
                                   np.subtract(expected_b, expected_a), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------
# Bootstrap (Hennig's clusterboot)
# ---------------------------------------------------------------------------

def test_planted_segments_are_highly_stable(planted_boot):
    summary = planted_boot.per_segment
    assert planted_boot.jaccard.shape == (N_BOOT, 3)
    assert list(summary["segment"]) == [0, 1, 2]
    assert (summary["mean_jaccard"] >= 0.85).all()
    assert (summary["band"] == "highly stable").all()
    assert (summary["dissolved"] == 0).all()


def test_noise_segments_are_not_stable(noise_boot):
    summary = noise_boot.per_segment
    assert summary["mean_jaccard"].min() < 0.75
    assert (summary["band"] != "highly stable").any()


@pytest.mark.parametrize("which", ["planted", "noise"])
def test_summary_is_recomputed_from_the_jaccard_matrix(which, planted_boot, noise_boot):
    boot = planted_boot if which == "planted" else noise_boot
    jac = boot.jaccard
    assert boot.n_boot == jac.shape[0] == N_BOOT
    assert ((jac >= 0) & (jac <= 1)).all()
    summary = boot.per_segment
    np.testing.assert_allclose(summary["mean_jaccard"], jac.mean(axis=0))
    np.testing.assert_array_equal(summary["dissolved"], (jac <= 0.5).sum(axis=0))
    np.testing.assert_array_equal(summary["recovered"], (jac > 0.75).sum(axis=0))
    assert list(summary["band"]) == [expected_jaccard_band(v) for v in summary["mean_jaccard"]]


def test_noise_k5_has_an_untrustworthy_segment(noise_fms):
    fm = noise_fms[2]
    boot = bootstrap_stability(fm, segment(fm, 5), n_boot=10)
    assert boot.per_segment["mean_jaccard"].min() < 0.75
    assert (boot.per_segment["band"] == "not to be trusted").any()


def test_bootstrap_is_deterministic_and_reports_progress(noise_fms):
    fm = noise_fms[3]
    seg = segment(fm, 4, n_init=3)
    calls = []
    first = bootstrap_stability(fm, seg, n_boot=6, random_state=11, n_init=3,
                                progress=lambda done, total: calls.append((done, total)))
    again = bootstrap_stability(fm, seg, n_boot=6, random_state=11, n_init=3)
    other = bootstrap_stability(fm, seg, n_boot=6, random_state=12, n_init=3)
    assert calls == [(i, 6) for i in range(1, 7)]
    np.testing.assert_array_equal(first.jaccard, again.jaccard)
    pd.testing.assert_frame_equal(first.per_segment, again.per_segment)
    assert not np.array_equal(first.jaccard, other.jaccard)


# ---------------------------------------------------------------------------
# clusterboot as Hennig (2007) and fpc define it
# ---------------------------------------------------------------------------

def reference_resample(X, labels, k, draw, seed, n_init):
    """One clusterboot resample, written from the definition with sets: the distinct drawn
    customers are reclustered; each original cluster, restricted to them, keeps its best
    Jaccard with a new cluster (0 when neither has anyone)."""
    present = sorted(set(int(i) for i in draw))
    with threadpool_limits(limits=1, user_api="openmp"):
        new = KMeans(k, n_init=n_init, random_state=seed).fit(X[present]).labels_
    new_clusters = [{c for c, lab in zip(present, new, strict=True) if lab == t}
                    for t in set(new.tolist())]
    out = []
    for s in range(k):
        old = {c for c in present if labels[c] == s}
        out.append(max((len(old & b) / len(old | b) if old | b else 0.0
                        for b in new_clusters), default=0.0))
    return np.array(out)


def three_groups(seed: int = 0):
    """36 customers in three overlapping groups of 12 (so reclustering really varies)."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 1.0, (12, 2)) for c in ((0, 0), (2.5, 0), (1, 2.5))])
    return X, np.repeat([0, 1, 2], 12)


EXPLICIT_DRAWS = [
    list(range(36)),
    [0, 0, 0, 1, 2, 3, 5, 5, 8, 13, 13, 14, 15, 17, 20, 21, 21, 21, 22, 24, 25, 26, 27, 27,
     29, 30, 31, 31, 32, 33, 34, 34, 35, 35, 35, 2],
    [1, 1, 1, 1, 1, 4, 4, 6, 6, 6, 7, 9, 10, 11, 12, 12, 12, 16, 16, 18, 19, 19, 19, 23, 23,
     23, 23, 28, 28, 28, 29, 30, 30, 33, 33, 33],
    [int(i) for i in np.random.default_rng(5).integers(0, 36, 36)],
]


@pytest.mark.parametrize("draw", EXPLICIT_DRAWS)
@pytest.mark.parametrize("seed", [0, 3])
def test_resample_jaccard_equals_the_reference_on_explicit_draws(draw, seed):
    X, truth = three_groups(seed)
    labels = _fit_kmeans(X, 3, 1, 10)[0]
    for original in (labels, truth):
        got = _resample_jaccard(X, original, 3, np.array(draw), random_state=11, n_init=5)
        np.testing.assert_allclose(got, reference_resample(X, original, 3, draw, 11, 5),
                                   atol=1e-12)


def test_customers_drawn_twice_are_clustered_once():
    # 0 and 1 drawn ten times each would pull k-means to {0, 1} | {10, 11, 22, 23}
    # (within-cluster sum of squares 150 against 187 for the other split); each drawn once,
    # the best split is {0, 1, 10, 11} | {22, 23} (101 against 145), which is the original.
    X = np.array([[0.0], [1.0], [10.0], [11.0], [22.0], [23.0]])
    labels = np.array([0, 0, 0, 0, 1, 1])
    draw = np.array([0] * 10 + [1] * 10 + [2, 3, 4, 5])
    np.testing.assert_allclose(_resample_jaccard(X, labels, 2, draw), [1.0, 1.0])
    # Clustering the draw with its repeats finds the other split: Jaccard 2/4 for both.
    weighted = _fit_kmeans(X[draw], 2)[0]
    firsts = np.unique(draw, return_index=True)[1]
    np.testing.assert_allclose(_best_jaccard(labels, weighted[firsts], 2), [0.5, 0.5])


def test_jaccard_is_taken_on_the_customers_in_the_resample():
    # Original segment 0 = {0, 1, 2}, 1 = {3, ..., 7}; the data has {0..3} and {4..7}.
    X = np.array([[0.0], [0.1], [0.2], [0.3], [10.0], [10.1], [10.2], [10.3]])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    # All drawn: 3/4 and 4/5.
    np.testing.assert_allclose(_resample_jaccard(X, labels, 2, np.arange(8)), [0.75, 0.8])
    # 3 not drawn: segment 0 is exactly {0, 1, 2} among those drawn, segment 1 is {4..7}.
    np.testing.assert_allclose(_resample_jaccard(X, labels, 2, np.array([0, 1, 2, 4, 5, 6, 7,
                                                                        7])), [1.0, 1.0])


def test_recovered_is_above_three_quarters_and_dissolved_at_most_a_half():
    jaccard = np.array([[0.75, 0.50, 1.0],
                        [0.76, 0.51, 0.2],
                        [0.90, 0.49, 0.75],
                        [0.60, 0.75, 0.5]])
    summary = _summarize_jaccard(jaccard)
    assert summary["recovered"].tolist() == [2, 0, 1]
    assert summary["dissolved"].tolist() == [0, 2, 2]
    np.testing.assert_allclose(summary["mean_jaccard"], jaccard.mean(axis=0))
    assert summary["segment"].tolist() == [0, 1, 2]


def test_clusterboot_follows_its_documented_draws(planted_fm):
    X = planted_fm.X[:150]
    labels = _fit_kmeans(X, 3, 0, 5)[0]
    boot = _clusterboot(X, labels, 3, n_boot=4, random_state=21, n_init=3)
    rng = np.random.default_rng(21)
    for b in range(4):
        draw = rng.integers(0, len(X), len(X))
        seed = int(rng.integers(2**31))
        np.testing.assert_allclose(boot.jaccard[b],
                                   reference_resample(X, labels, 3, draw, seed, 3), atol=1e-12)


def blobs_and_noise(seed: int):
    """Two tight, far-apart groups of 25 and 120 customers of structureless 5-D noise."""
    rng = np.random.default_rng(seed)
    far, up = np.eye(5)[0] * 10, np.eye(5)[1] * 12
    X = np.concatenate([rng.normal(-far, 0.3, (25, 5)), rng.normal(far, 0.3, (25, 5)),
                        rng.normal(up, 1.0, (120, 5))])
    return X, np.repeat([0, 1, 2], [25, 25, 120])


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.integers(0, 2**16))
def test_real_groups_are_recovered_and_split_noise_is_not(seed):
    X, kind = blobs_and_noise(seed)
    labels = _fit_kmeans(X, 4, 0, 10)[0]
    # K = 4: each tight group is a segment and the noise is cut in two.
    majority = np.array([np.bincount(kind[labels == s], minlength=3).argmax()
                         for s in range(4)])
    assert sorted(majority) == [0, 1, 2, 2]
    n_boot = 20
    summary = _clusterboot(X, labels, 4, n_boot, random_state=seed, n_init=3).per_segment
    real, noise = summary[majority < 2], summary[majority == 2]
    assert (real["recovered"] >= n_boot - 1).all()
    assert (real["mean_jaccard"] >= 0.95).all()
    assert (noise["mean_jaccard"] < real["mean_jaccard"].min()).all()
    assert (noise["mean_jaccard"] <= 0.9).all()
    assert (noise["recovered"] <= n_boot - 2).all()


# ---------------------------------------------------------------------------
# best_jaccard
# ---------------------------------------------------------------------------

def brute_jaccard(original, other, k):
    out = []
    clusters = [set(np.flatnonzero(other == t)) for t in np.unique(other)]
    for s in range(k):
        a = set(np.flatnonzero(original == s))
        scores = [len(a & b) / len(a | b) for b in clusters if a | b]
        out.append(max(scores, default=0.0))
    return np.array(out)


def test_best_jaccard_hand_example():
    original = np.array([0, 0, 0, 1, 1, 2])
    other = np.array([1, 1, 0, 0, 0, 0])
    # Segment 0 = {0,1,2}: with {0,1} 2/3, with {2,3,4,5} 1/6.
    # Segment 1 = {3,4}: with {2,3,4,5} 2/4. Segment 2 = {5}: with {2,3,4,5} 1/4.
    # Segment 3 is absent from the resample: 0.
    np.testing.assert_allclose(_best_jaccard(original, other, 4), [2 / 3, 1 / 2, 1 / 4, 0.0])


@st.composite
def labellings(draw):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(1, 5))
    k_other = draw(st.integers(1, 5))
    original = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    other = draw(st.lists(st.integers(0, k_other - 1), min_size=n, max_size=n))
    perm = draw(st.permutations(range(k_other)))
    return np.array(original, dtype=np.intp), np.array(other, dtype=np.intp), k, perm


@FAST
@given(labellings())
def test_best_jaccard_matches_set_definition_and_ignores_label_numbers(case):
    original, other, k, perm = case
    result = _best_jaccard(original, other, k)
    np.testing.assert_allclose(result, brute_jaccard(original, other, k), atol=1e-12)
    relabelled = np.asarray(perm, dtype=np.intp)[other]
    np.testing.assert_allclose(_best_jaccard(original, relabelled, k), result, atol=1e-12)


# ---------------------------------------------------------------------------
# match (Hungarian)
# ---------------------------------------------------------------------------

def brute_min_cost(cost: np.ndarray) -> float:
    rows, cols = cost.shape
    if rows > cols:
        return brute_min_cost(cost.T)
    return min(sum(cost[r, c] for r, c in enumerate(p))
               for p in itertools.permutations(range(cols), rows))


def check_assignment(cost: np.ndarray) -> None:
    pairs = _match(cost)
    rows, cols = cost.shape
    assert len(pairs) == min(rows, cols)
    assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
    assert all(0 <= r < rows and 0 <= c < cols for r, c in pairs)
    total = sum(cost[r, c] for r, c in pairs)
    assert total == pytest.approx(brute_min_cost(cost), rel=1e-9, abs=1e-9)


costs = st.floats(-50, 100, allow_nan=False, allow_infinity=False)


@FAST
@given(st.integers(1, 6).flatmap(
    lambda n: st.lists(st.lists(costs, min_size=n, max_size=n), min_size=n, max_size=n)))
def test_match_square_equals_brute_force(grid):
    check_assignment(np.array(grid))


@FAST
@given(st.integers(1, 5).flatmap(lambda r: st.integers(r, 6).flatmap(
    lambda c: st.lists(st.lists(costs, min_size=c, max_size=c), min_size=r, max_size=r))))
def test_match_rectangular_equals_brute_force_over_injective_maps(grid):
    cost = np.array(grid)
    check_assignment(cost)
    check_assignment(cost.T)


def test_match_small_example():
    cost = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    # Row 1 cannot have its cheap column 1: 1 + 2 + 2 = 5 beats 0 + 4 + 2 = 6.
    assert _match(cost) == [(0, 1), (1, 0), (2, 2)]


# ---------------------------------------------------------------------------
# match_segments
# ---------------------------------------------------------------------------

def synthetic_profiles(k: int = 4, n_vars: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(0, 1.5, (k, n_vars)), index=range(k),
                        columns=[f"v{j}" for j in range(n_vars)])


def test_identical_profiles_in_another_order_match_exactly(planted5_profiles):
    z = planted5_profiles[1].z
    shuffled = z.sample(frac=1, random_state=3)
    assert list(shuffled.index) != list(z.index)
    m = match_segments(z, shuffled)
    assert m.pairs == {s: s for s in z.index}
    assert all(d == pytest.approx(0, abs=1e-12) for d in m.distances.values())
    assert m.new_unmatched == () and m.vanished == ()


def test_distance_is_rms_gap_over_shared_variables():
    prev = synthetic_profiles()
    cur = prev + 0.3
    cur["only_new"] = 99.0
    m = match_segments(prev.assign(only_old=-99.0), cur)
    assert m.pairs == {s: s for s in prev.index}
    assert all(d == pytest.approx(0.3) for d in m.distances.values())


def test_shift_beyond_threshold_is_a_new_segment_and_the_old_one_vanishes():
    prev = synthetic_profiles()
    cur = prev.copy()
    cur.loc[2] += 0.6  # RMS gap 0.6 > 0.5
    cur.loc[1] += 0.45  # RMS gap 0.45: still the same segment
    m = match_segments(prev, cur)
    assert m.pairs == {0: 0, 1: 1, 3: 3}
    assert m.distances[1] == pytest.approx(0.45)
    assert m.new_unmatched == (2,)
    assert m.vanished == (2,)
    assert SAME_SEGMENT_RMS == 0.5


def test_fewer_new_segments_leave_old_ones_vanished():
    prev = synthetic_profiles(5)
    cur = prev.drop(index=[1, 3]).rename(index={0: 0, 2: 1, 4: 2})
    m = match_segments(prev, cur)
    assert m.pairs == {0: 0, 1: 2, 2: 4}
    assert m.vanished == (1, 3)
    assert m.new_unmatched == ()


def test_more_new_segments_leave_extras_unmatched():
    prev = synthetic_profiles(3)
    extras = synthetic_profiles(2, seed=9) + 10.0
    cur = pd.concat([extras, prev]).set_axis(range(5))
    m = match_segments(prev, cur)
    assert m.pairs == {2: 0, 3: 1, 4: 2}
    assert m.new_unmatched == (0, 1)
    assert m.vanished == ()


@settings(max_examples=20, deadline=None)
@given(st.permutations(range(5)))
def test_relabelled_segmentation_is_matched_back_by_its_permutation(planted_fm,
                                                                    planted5_profiles, perm):
    seg, profiles = planted5_profiles
    perm = np.asarray(perm)
    relabelled = dataclasses.replace(seg, labels=perm[seg.labels])
    m = match_segments(profiles.z, profile_segments(planted_fm, relabelled).z)
    assert m.pairs == {int(perm[s]): s for s in range(5)}
    assert all(d == pytest.approx(0, abs=1e-12) for d in m.distances.values())
    assert m.new_unmatched == () and m.vanished == ()


# ---------------------------------------------------------------------------
# Persona identity across reruns (same customers, rows in another order)
# ---------------------------------------------------------------------------

def labels_by_id(result) -> pd.Series:
    seg = result.segmentation
    return pd.Series(seg.labels, index=seg.customer_ids)


def check_matches_follow_customers(first, second) -> dict[int, int]:
    """Every matched new segment has most of its customers in its matched old segment."""
    old = labels_by_id(first)
    new = labels_by_id(second).reindex(old.index)
    table = pd.crosstab(new, old)
    m = match_segments(first.profiles.z, second.profiles.z)
    assert m.pairs, "nothing matched"
    for new_seg, old_seg in m.pairs.items():
        row = table.loc[new_seg]
        assert row[old_seg] > row.sum() / 2, (new_seg, old_seg, row.to_dict())
    return m.pairs


def test_rerun_on_shuffled_rows_keeps_each_segment(planted_frame):
    config = RunConfig(k=3, k_min=3, k_max=3, n_init=4)
    first = run(tsv(planted_frame), config)
    second = run(tsv(planted_frame.sample(frac=1, random_state=4)), config)
    assert check_matches_follow_customers(first, second) == {0: 0, 1: 1, 2: 2}


@pytest.fixture(scope="module")
def close_spend_runs():
    """K = 5 on three planted types: two segments with nearly equal spend swap numbers."""
    frame = planted_customers(400, seed=2, separation=2.0)
    config = RunConfig(k=5, k_min=5, k_max=5, n_init=4)
    return (run(tsv(frame), config),
            {s: run(tsv(frame.sample(frac=1, random_state=s)), config) for s in (1, 3)})


def test_matching_undoes_a_label_swap_between_reruns(close_spend_runs):
    first, shuffled = close_spend_runs
    second = shuffled[3]
    old = labels_by_id(first)
    new = labels_by_id(second).reindex(old.index)
    majority = pd.crosstab(new, old).idxmax(axis=1).to_dict()
    # The case is only a test of matching if the numbering really changed.
    assert sorted(majority.values()) == list(range(5))
    assert majority != {s: s for s in range(5)}
    pairs = check_matches_follow_customers(first, second)
    assert pairs == majority


def test_matching_follows_customers_when_a_rerun_splits_differently(close_spend_runs):
    first, shuffled = close_spend_runs
    check_matches_follow_customers(first, shuffled[1])


# ---------------------------------------------------------------------------
# Small segments and data size
# ---------------------------------------------------------------------------

def with_labels(seg, sizes):
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return dataclasses.replace(seg, labels=labels, n_clusters=len(sizes))


@pytest.mark.parametrize("sizes, small", [
    ((300, 200, 60, 40), (3,)),   # 50%, 33%, 10% (not under), 6.7%
    ((500, 300, 100, 57, 43), (3, 4)),
    ((400, 300, 300), ()),
    ((90, 910), (0,)),
])
def test_small_segment_check_names_exactly_the_small_segments(planted_seg, sizes, small):
    seg = with_labels(planted_seg, sizes)
    messages = small_segment_check(seg, None, None)
    assert len(messages) == len(small)
    for s, text in zip(small, messages, strict=True):
        assert text.startswith(f"Segment {s} holds ")
    mentioned = " ".join(messages)
    for s in set(range(len(sizes))) - set(small):
        assert f"Segment {s} " not in mentioned


def test_small_segment_check_reports_bootstrap_and_halves(planted_fm, planted_seg,
                                                          planted_split, planted_boot):
    seg = with_labels(planted_seg, (300, 250, 50))
    (text,) = small_segment_check(seg, planted_split, planted_boot)
    row = planted_boot.per_segment.loc[2]
    assert text.startswith("Segment 2 holds 8% of customers")
    assert f"{row['mean_jaccard']:.2f} ({row['band']})" in text
    assert f"dissolving in {row['dissolved']} of {N_BOOT} resamples" in text
    assert "halves" in text


@pytest.fixture(scope="module")
def tiny_group_case():
    """Three planted types plus 12 customers (1.5%) who buy 2000 of fruit and sweets."""
    frame = planted_customers(800, seed=4, separation=4.0)
    frame.attrs = {}
    tiny = frame.iloc[:12].copy()
    tiny["ID"] = [f"T{i:03d}" for i in range(12)]
    tiny["MntFruits"] = 2000.0 + np.arange(12)
    tiny["MntSweetProducts"] = 2000.0 + np.arange(12)
    fm = prepare(load(pd.concat([frame, tiny], ignore_index=True)))
    return fm, segment(fm, 4), split_half(fm, 4)


def test_small_segment_found_in_both_halves_is_said_to_survive(tiny_group_case):
    fm, seg, halves = tiny_group_case
    tiny_ids = pd.Index([f"T{i:03d}" for i in range(12)])
    small = int(np.argmin(seg.shares))
    assert set(seg.customer_ids[seg.labels == small]) == set(tiny_ids)
    assert halves.ari == pytest.approx(1.0)
    # Both halves hold the tiny group as a segment of its own, matched to each other.
    seed = halves.agreement.median_seed
    for h in halves_of(fm.n_customers, seed):
        lab = _fit_kmeans(fm.X[h], 4, seed)[0]
        in_tiny = fm.customer_ids[h].isin(tiny_ids)
        assert len(set(lab[in_tiny])) == 1 and (lab == lab[in_tiny][0]).sum() == in_tiny.sum()
    (text,) = small_segment_check(seg, halves, None)
    assert "appears in both halves" in text


@pytest.mark.parametrize("n", [0, 10, 150, 199])
def test_few_customers_point_to_rfm(n):
    text = data_size_warning(n)
    assert text is not None and "RFM" in text and str(n) in text


@pytest.mark.parametrize("n", [200, 350, 499])
def test_some_customers_get_a_milder_warning(n):
    text = data_size_warning(n)
    assert text is not None and str(n) in text
    assert "RFM" not in text and "unreliable" not in text


@pytest.mark.parametrize("n", [500, 501, 2240, 100_000])
def test_enough_customers_need_no_warning(n):
    assert data_size_warning(n) is None


# ---------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------

@pytest.mark.realdata
def test_real_split_half_at_recommended_k(real_path, record_property):
    fm = prepare(load_dataset(read_table(real_path)))
    k = sweep_k(fm, range(2, 7)).recommended_k
    result = split_half(fm, k)
    record_property("real_recommended_k", k)
    record_property("real_split_half_ari", round(result.ari, 4))
    print(f"real data: K = {k}, split-half ARI {result.agreement.text} ({result.verdict})")
    assert -1.0 <= result.agreement.low <= result.ari <= result.agreement.high <= 1.0
    assert result.verdict == expected_ari_band(result.ari)
    assert sorted(a for a, _ in result.pairs) == sorted(b for _, b in result.pairs) == list(
        range(k))
    assert sum(result.sizes_a) + sum(result.sizes_b) == fm.n_customers


@pytest.mark.parametrize("n_boot", [0, -3])
def test_bootstrap_needs_at_least_one_resample(planted_fm, planted_seg, n_boot):
    with pytest.raises(SegmentationError, match="resamples is not valid"):
        bootstrap_stability(planted_fm, planted_seg, n_boot=n_boot)
