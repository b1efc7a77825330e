"""What the faster K sweep must keep: every restart, exact figures, the caller's threads.

The sweep runs every fit and every distance product on one thread and computes the
silhouette's distances once per pair of row blocks. None of that may change a figure:
each K's inertia is still the best of ``n_init`` k-means++ restarts (scikit-learn's own
``KMeans`` is the reference), and the silhouette still equals scikit-learn's.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from threadpoolctl import threadpool_info, threadpool_limits

from segmentation.cluster import kmeans
from segmentation.cluster.kmeans import _mean_silhouettes, split_half_agreement, sweep_k


def _planted(seed: int, centers: int) -> np.ndarray:
    X, _ = make_blobs(n_samples=300, n_features=4, centers=centers, cluster_std=1.5,
                      random_state=seed)
    return X


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_seed=st.integers(0, 10_000), fit_seed=st.integers(0, 10_000),
       centers=st.integers(2, 5), n_init=st.sampled_from([1, 3, 10]))
def test_sweep_figures_are_the_full_restarts_figures(data_seed, fit_seed, centers, n_init):
    X = _planted(data_seed, centers)
    sweep = sweep_k(X, range(2, 6), random_state=fit_seed, n_init=n_init)
    best = {}
    for k in range(2, 6):
        with threadpool_limits(limits=1, user_api="openmp"):
            km = KMeans(k, n_init=n_init, random_state=fit_seed).fit(X)
        row = sweep.row(k)
        assert row["inertia"] == pytest.approx(km.inertia_, rel=1e-9)
        assert row["silhouette"] == pytest.approx(silhouette_score(X, km.labels_), abs=1e-9)
        best[k] = km.inertia_
    # An inertia curve that is not the best of every restart can move the elbow.
    assert sweep.knee_k == kmeans._find_knee(list(best), list(best.values()))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), rows=st.integers(6, 40), block=st.integers(1, 17))
def test_block_pairs_silhouette_equals_sklearn(seed, rows, block, monkeypatch):
    # The patch is undone inside each example. Small blocks make every case a grid of diagonal and off-diagonal block pairs,
    # including a ragged last block.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    labelings = [lab for lab in (rng.integers(0, k, rows) for k in (2, 3, 4))
                 if np.unique(lab).size > 1]
    with monkeypatch.context() as patch:
        patch.setattr(kmeans, "_BLOCK", block)
        got = _mean_silhouettes(X, labelings)
    for value, lab in zip(got, labelings, strict=True):
        assert value == pytest.approx(silhouette_score(X, lab), abs=1e-12)


def test_sweep_leaves_the_callers_thread_settings_alone():
    before = {(p["internal_api"], p["filepath"]): p["num_threads"] for p in threadpool_info()}
    sweep_k(_planted(0, 3), range(2, 4), n_init=2)
    after = {(p["internal_api"], p["filepath"]): p["num_threads"] for p in threadpool_info()}
    assert after == before


@settings(max_examples=4, deadline=None)
@given(data_seed=st.integers(0, 10_000), seed=st.integers(0, 10_000))
def test_split_half_agreement_equals_independent_scikit_learn_fits(data_seed, seed):
    X = _planted(data_seed, 4)
    got = split_half_agreement(X, 4, random_state=seed, n_init=3, n_splits=4)
    want = []
    for split_seed in range(seed, seed + 4):
        halves = np.array_split(np.random.default_rng(split_seed).permutation(len(X)), 2)
        with threadpool_limits(limits=1, user_api="openmp"):
            a, b = (KMeans(4, n_init=3, random_state=split_seed).fit(X[h]) for h in halves)
        want.append(adjusted_rand_score(a.predict(X), b.predict(X)))
    assert got.values == pytest.approx(want, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(8, 200), k=st.integers(2, 6),
       shared_norms=st.booleans())
def test_ch_db_equal_sklearn(seed, rows, k, shared_norms):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4)) * rng.uniform(0.1, 10.0, size=4)
    labels = rng.integers(0, k, rows)
    if np.unique(labels).size < 2:
        return
    labels = np.unique(labels, return_inverse=True)[1]
    k = int(labels.max()) + 1
    xx = np.einsum("ij,ij->i", X, X) if shared_norms else None
    ch, db = kmeans._ch_db_scores(X, labels, k, xx)
    assert ch == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-9)
    assert db == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9)
