"""K-means segmentation and the choice of K.

One fitted k-means per K, with a fixed seed and several k-means++ restarts,
so a rerun on the same input gives the same assignments. Labels are put in
a fixed order (highest total spend first) so segment 0 is always the same
kind of customer for the same input and settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import ThreadpoolController

from segmentation.config import (
    ASSIGN_BUDGET,
    DEFAULT_K_RANGE,
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    FEW_CUSTOMERS,
    FIT_SAMPLE_SIZE,
    MAX_DOMINANT_SHARE,
    MAX_K,
    MIN_ACTIONABLE_SHARE,
    N_SPLITS,
    NEARLY_AS_GOOD,
    NEARLY_AS_GOOD_RATIO,
    PREFERRED_K,
    REPLICATES,
    SILHOUETTE_SAMPLE_SIZE,
    SMALL_SEGMENT_SHARE,
    SPLIT_SAMPLE_SIZE,
    SWEEP_THREADS,
    WEAK_SILHOUETTE,
)
from segmentation.errors import SegmentationError
from segmentation.prepare.features import FeatureMatrix
from segmentation.summary import Summary


@dataclass(frozen=True)
class KSweep:
    """Quality figures for each K and the recommended one.

    Attributes
    ----------
    metrics : DataFrame
        One row per K: ``k``, ``inertia``, ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``min_share``; with the
        split-half check also ``stability`` (median agreement over
        ``N_SPLITS`` splits), ``stability_min`` and ``stability_max``.
    recommended_k : int
    reason : str
        Why that K, in words a user reads.
    knee_k : int or None
        The elbow of the inertia curve.
    silhouette_sample_size : int or None
        None when silhouettes are exact (computed on every customer).
    fits : dict or None
        Each K's k-means fit, as ``_fit_kmeans`` returned it (labels stored as
        int8), so the segmentation at a K of the sweep and the split tree reuse
        it instead of fitting the same K again (:meth:`fit_of`).
    """

    metrics: pd.DataFrame
    recommended_k: int
    reason: str
    knee_k: int | None
    silhouette_sample_size: int | None
    random_state: int
    n_init: int
    fits: dict[int, tuple[np.ndarray, np.ndarray, float]] | None = field(
        default=None, repr=False, compare=False)
    fitted_on: tuple | None = field(default=None, repr=False, compare=False)

    def fit_of(self, k: int, X: np.ndarray, random_state: int,
               n_init: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The sweep's fit at ``k`` (labels, centres, inertia) if it made one on ``X`` with
        these settings, else None.

        It is then what ``_fit_kmeans(X, k, random_state, n_init)`` returns: that is the
        call that made it. ``X`` is recognised by its shape and a sum over spaced rows.
        """
        if self.fits is None or k not in self.fits or (random_state, n_init) != (
                self.random_state, self.n_init) or _rows_key(X) != self.fitted_on:
            return None
        labels, centers, inertia = self.fits[k]
        return labels.astype(np.intp), centers.copy(), inertia

    def row(self, k: int) -> pd.Series:
        return self.metrics.set_index("k").loc[k]

    def summary(self) -> Summary:
        """The recommended K, why, and every K's figures.

        Returns
        -------
        Summary
            ``verdict`` is :attr:`reason`; ``table`` is :attr:`metrics`, one row per K.
        """
        ks = self.metrics["k"]
        notes = []
        if self.knee_k is not None:
            notes.append(f"The elbow of the inertia curve is at K = {self.knee_k}.")
        if self.silhouette_sample_size:
            notes.append(f"Silhouettes estimated on a fixed sample of "
                         f"{self.silhouette_sample_size:,} customers.")
        return Summary(
            title=f"Choice of K: K = {ks.min()} to {ks.max()}, seed {self.random_state}, "
                  f"{self.n_init} k-means++ restarts per K",
            verdict=self.reason, table=self.metrics, notes=tuple(notes))


@dataclass(frozen=True)
class Segmentation:
    """Customers assigned to ``n_clusters`` segments.

    Attributes
    ----------
    labels : ndarray of int
        Segment of each customer, 0 = highest average total spend.
    centers : ndarray of shape (n_clusters, n_features)
        Segment centres in the scaled feature space.
    silhouette_values : ndarray
        Each customer's silhouette; NaN for customers outside the sample when
        the data is larger than the silhouette sample.
    distances : ndarray
        Each customer's distance to their segment centre (scaled space).
    """

    labels: np.ndarray
    centers: np.ndarray
    n_clusters: int
    inertia: float
    silhouette: float
    silhouette_values: np.ndarray
    silhouette_sample_size: int | None
    distances: np.ndarray
    customer_ids: pd.Index
    random_state: int
    n_init: int

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.n_clusters)

    @property
    def shares(self) -> np.ndarray:
        return self.sizes / self.sizes.sum()


def _check_k(n_customers: int, k_values) -> list[int]:
    ks = sorted({int(k) for k in k_values})
    if not ks or ks[0] < 2 or ks[-1] > MAX_K:
        raise SegmentationError(
            f"The number of segments must be between 2 and {MAX_K}; got {ks}: choose K in that range."
        )
    if n_customers < ks[-1] * 2:
        raise SegmentationError(
            f"Only {n_customers} usable customers, too few for {ks[-1]} segments: "
            "lower the largest K or upload more customers."
        )
    return ks


_THREADS: list[ThreadpoolController] = []


def _one_thread():
    """A context in which OpenMP and BLAS each run on one thread.

    A second thread spin-waits for work that, at these sizes, is over before
    it helps: on a busy machine (a shared app server always is) the sweep's
    distance products ran three times slower with two BLAS threads than with
    one. The controller is built once, on first use (after scikit-learn has
    loaded its OpenMP runtime): building it scans every loaded library, which
    cost more than a small fit.
    """
    if not _THREADS:
        _THREADS.append(ThreadpoolController())
    return _THREADS[0].limit(limits=1)


def _in_parallel(fn, jobs: list) -> list:
    """``fn(*job)`` for every job, on up to ``SWEEP_THREADS`` threads; results in job order.

    Each job must be independent and seeded, so the results are the same as
    in a plain loop whatever the threads' timing. BLAS is held to one thread
    here, in the caller's thread, before any worker starts: its thread count
    is one setting for the whole process, and workers each limiting and
    restoring it in turn could leave it changed. OpenMP's count is per
    thread, so each fit sets its own (:func:`_fit_kmeans`).
    """
    workers = min(SWEEP_THREADS, os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return [fn(*job) for job in jobs]
    with _one_thread(), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: fn(*job), jobs))


def _fit_kmeans(
    X: np.ndarray,
    n_clusters: int,
    random_state: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
    fit_sample_size: int = FIT_SAMPLE_SIZE,
    X32: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """k-means++ with ``n_init`` seeded restarts; returns labels, centres, inertia.

    Assumes validated input. On more than ``fit_sample_size`` rows the
    restarts run on a fixed-seed sample and the best centres are refined by
    Lloyd iterations on all rows in float32 (``X32``, if the caller already
    has that copy), which halves the memory traffic.

    k-means runs on one OpenMP thread: a second thread spin-waits and slows
    every fit when the machine is busy (a shared app server always is), and a
    fixed thread count keeps results the same on every machine.
    """
    n = X.shape[0]
    with _one_thread():
        if n <= fit_sample_size:
            km = KMeans(n_clusters, n_init=n_init, random_state=random_state).fit(X)
        else:
            rng = np.random.default_rng(random_state)
            idx = np.sort(rng.choice(n, fit_sample_size, replace=False))
            if X32 is None:
                X32 = np.ascontiguousarray(X, dtype=np.float32)
            seed = KMeans(n_clusters, n_init=n_init, random_state=random_state).fit(X32[idx])
            km = KMeans(n_clusters, init=seed.cluster_centers_, n_init=1,
                        random_state=random_state).fit(X32)
    return km.labels_.astype(np.intp), km.cluster_centers_.astype(float), float(km.inertia_)


def _order_labels(labels: np.ndarray, centers: np.ndarray, key: np.ndarray | None):
    """Renumber segments by descending mean of ``key`` (e.g. total spend).

    Without a key, by descending sum of the centre's coordinates. Ties go to
    the larger segment, then to the centre's coordinates, so the order never
    depends on k-means' arbitrary numbering.
    """
    k = centers.shape[0]
    sizes = np.bincount(labels, minlength=k)
    if key is not None:
        sums = np.bincount(labels, weights=key, minlength=k)
        means = sums / np.maximum(sizes, 1)
    else:
        means = centers.sum(axis=1)
    order = sorted(range(k), key=lambda j: (-means[j], -sizes[j], tuple(centers[j])))
    remap = np.empty(k, dtype=np.intp)
    remap[order] = np.arange(k)
    return remap[labels], centers[order]


def assign(fm: FeatureMatrix | np.ndarray, centers: np.ndarray,
           budget: int = ASSIGN_BUDGET) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre for every row; returns labels and Euclidean distances.

    The one nearest-centre rule: a saved model scores new customers with it
    (:func:`segmentation.cluster.model.score`) and each half-model of
    :func:`split_half_agreement` labels the customers with it.

    Parameters
    ----------
    fm : FeatureMatrix or ndarray of shape (n_rows, n_features)
        Rows in the centres' scaled space.
    centers : ndarray of shape (n_centers, n_features)
    budget : int
        Most numbers held at once for one chunk of rows (rows x centres x features);
        memory stays bounded for any number of rows.

    Examples
    --------
    >>> assign(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [3.0, 0.0]]))
    (array([0, 1]), array([0., 4.]))
    """
    X = np.asarray(getattr(fm, "X", fm), dtype=float)
    centers = np.asarray(centers, dtype=float)
    n, per_row = len(X), max(1, centers.shape[0] * centers.shape[1])
    step = max(1, budget // per_row)
    labels = np.empty(n, dtype=np.intp)
    distances = np.empty(n, dtype=float)
    for start in range(0, n, step):
        # The plain difference, not |x|^2 - 2x.c + |c|^2: no cancellation, so the same
        # labels and distances as comparing each row with each centre.
        d2 = ((X[start:start + step, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        best = d2.argmin(axis=1)
        labels[start:start + step] = best
        distances[start:start + step] = np.sqrt(d2[np.arange(len(best)), best])
    return labels, distances


def split_halves(X: np.ndarray, n_clusters: int, random_state: int = DEFAULT_SEED,
                 n_init: int = DEFAULT_N_INIT):
    """One seeded random split of the rows into two halves, each clustered on its own.

    Assumes validated input. The halves are ``np.array_split`` of
    ``np.random.default_rng(random_state).permutation(len(X))``, and both
    halves are fitted by :func:`_fit_kmeans` with the same ``random_state``.

    Returns
    -------
    halves : list of two ndarrays
        Row indices of half A and half B.
    fits : list of two (labels, centers, inertia)
    """
    halves = np.array_split(np.random.default_rng(random_state).permutation(len(X)), 2)
    return halves, [_fit_kmeans(X[h], n_clusters, random_state, n_init) for h in halves]


@dataclass(frozen=True)
class SplitAgreement:
    """Split-half agreement of one K over several seeded random splits.

    Attributes
    ----------
    values : tuple of float
        Adjusted Rand index of each split, in seed order.
    seeds : tuple of int
        The seed of each split (``random_state + i`` for split ``i``).
    rows : ndarray or None
        The customers the splits were drawn from, when a sample of them
        (above ``SPLIT_SAMPLE_SIZE``); None when all of them.
    """

    values: tuple[float, ...]
    seeds: tuple[int, ...]
    rows: np.ndarray | None

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    @property
    def low(self) -> float:
        return float(min(self.values))

    @property
    def high(self) -> float:
        return float(max(self.values))

    @property
    def n_splits(self) -> int:
        return len(self.values)

    @property
    def text(self) -> str:
        """E.g. "median 0.82 over 7 random splits, range 0.57–0.97"."""
        return _agreement_text({"stability": self.median, "stability_min": self.low,
                               "stability_max": self.high}, self.n_splits)

    @property
    def median_seed(self) -> int:
        """Seed of the split whose agreement is the median (the lower one of two middles)."""
        order = np.argsort(self.values, kind="stable")
        return self.seeds[int(order[(len(order) - 1) // 2])]


def split_half_agreement(X: np.ndarray, n_clusters: int, random_state: int = DEFAULT_SEED,
                         n_init: int = DEFAULT_N_INIT, n_splits: int = N_SPLITS,
                         sample_size: int = SPLIT_SAMPLE_SIZE) -> SplitAgreement:
    """Agreement of two independently clustered random halves, over ``n_splits`` splits.

    Split ``i`` is :func:`split_halves` with seed ``random_state + i``. Each
    half-model assigns every customer to its nearest centre, and the
    agreement of the two assignments is the adjusted Rand index. Above
    ``sample_size`` customers the splits are drawn from a fixed-seed sample
    of that many (the silhouette's sample rule) and agreement is measured on
    the sample.

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
    n_clusters : int
    random_state : int
    n_init : int
        k-means++ restarts of each half's fit.
    n_splits : int
        At least 1. The median over the splits is the figure to read, and the
        one the recommendation of K applies its cut-off to.
    sample_size : int

    Returns
    -------
    SplitAgreement

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 2)), np.full((20, 2), 9.0)] + np.arange(40)[:, None] % 3
    >>> split_half_agreement(X, 2, n_splits=3).median
    1.0
    """
    if n_splits < 1:
        raise SegmentationError(f"{n_splits} splits is not valid: use 1 or more "
                                f"({N_SPLITS} is usual).")
    rows = _silhouette_sample(len(X), sample_size, random_state)
    Xs = X if rows is None else X[rows]
    seeds = tuple(random_state + i for i in range(n_splits))
    # One after another, not on threads: see SWEEP_THREADS.
    values = [_halves_agreement(Xs, n_clusters, seed, n_init) for seed in seeds]
    return SplitAgreement(values=tuple(values), seeds=seeds, rows=rows)


def _halves_agreement(X: np.ndarray, n_clusters: int, seed: int, n_init: int) -> float:
    """Adjusted Rand index of one split's two half-models labelling every row of ``X``."""
    _, ((_, centers_a, _), (_, centers_b, _)) = split_halves(X, n_clusters, seed, n_init)
    return float(adjusted_rand_score(assign(X, centers_a)[0], assign(X, centers_b)[0]))


_BLOCK = 1024


def _mean_silhouettes(X: np.ndarray, label_sets: list[np.ndarray]) -> list[float]:
    """Mean silhouette of several labelings of the same rows, in one pass.

    Distances are computed a block of rows against a block of rows at a time
    (never the whole n × n matrix) and summed per segment for every labeling
    at once, with one product against the stacked one-hot labels. Distances
    are symmetric, so each pair of blocks is computed once and serves both
    (half the distance work of a row block against all rows); the pairs are
    shared among ``SWEEP_THREADS`` threads (:func:`_block_sums`). Equal to
    scikit-learn's ``silhouette_samples`` on each labeling.
    """
    out = []
    for lab, values in zip(label_sets, _silhouette_values(X, label_sets), strict=True):
        out.append(np.nan if np.unique(lab).size < 2 else float(values.mean()))
    return out


def _silhouette_values(X: np.ndarray, label_sets: list[np.ndarray]) -> list[np.ndarray]:
    """Every row's silhouette under each labeling, from block sums (see :func:`_mean_silhouettes`).

    Never holds the n × n distance matrix: at the 4,000-customer sample that is 128 MB.
    """
    X = np.asarray(X, dtype=float)
    m = X.shape[0]
    ks = [int(lab.max()) + 1 for lab in label_sets]
    offsets = np.cumsum([0, *ks])
    H = np.zeros((m, offsets[-1]))
    for lab, off in zip(label_sets, offsets[:-1], strict=True):
        H[np.arange(m), off + lab] = 1.0
    sq = np.einsum("ij,ij->i", X, X)
    pairs = [(a, b) for a in range(0, m, _BLOCK) for b in range(a, m, _BLOCK)]
    shares = [pairs[i::SWEEP_THREADS] for i in range(SWEEP_THREADS)]
    sums = sum(_in_parallel(lambda share: _block_sums(X, sq, H, share), [(p,) for p in shares]))
    return [_silhouette_from_sums(sums[:, off:off + k], lab)
            for lab, k, off in zip(label_sets, ks, offsets[:-1], strict=True)]


def _block_sums(X: np.ndarray, sq: np.ndarray, H: np.ndarray, pairs) -> np.ndarray:
    """Each row's summed distances to every column group of ``H``, over some block pairs.

    ``pairs`` are (a, b) row-block starts with a <= b; each block of distances
    is computed once and added to both blocks' rows. Summing the results over
    every such pair gives ``D @ H`` for the full distance matrix ``D``.
    """
    sums = np.zeros_like(H)
    for a, b in pairs:
        rows_a, rows_b = slice(a, a + _BLOCK), slice(b, b + _BLOCK)
        block = sq[rows_a, None] + sq[None, rows_b] - 2.0 * (X[rows_a] @ X[rows_b].T)
        np.maximum(block, 0.0, out=block)
        np.sqrt(block, out=block)
        if a == b:
            np.fill_diagonal(block, 0.0)
        sums[rows_a] += block @ H[rows_b]
        if a != b:
            sums[rows_b] += block.T @ H[rows_a]
    return sums


def _silhouette_from_sums(sums: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-sample silhouettes from each sample's summed distances to every segment."""
    k = sums.shape[1]
    rows = np.arange(len(labels))
    counts = np.bincount(labels, minlength=k).astype(float)
    own = counts[labels]
    a = sums[rows, labels] / np.maximum(own - 1, 1)
    means = sums / np.maximum(counts, 1)
    means[rows, labels] = np.inf
    means[:, counts == 0] = np.inf
    b = means.min(axis=1)
    denom = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(denom > 0, (b - a) / denom, 0.0)
    return np.where(own > 1, s, 0.0)


def _ch_db_scores(X: np.ndarray, labels: np.ndarray, k: int,
                  xx: np.ndarray | None = None) -> tuple[float, float]:
    """Calinski–Harabasz and Davies–Bouldin as scikit-learn defines them.

    Computed from per-segment sums and one n × k product instead of copying
    each segment out, which is what makes them affordable on a million rows.
    ``xx``, each row's squared norm, may be passed in by a caller scoring
    several labelings of the same rows.
    """
    n = X.shape[0]
    counts = np.bincount(labels, minlength=k).astype(float)
    centers = np.stack([np.bincount(labels, weights=col, minlength=k) for col in X.T], axis=1)
    centers /= np.maximum(counts, 1)[:, None]
    if xx is None:
        xx = np.einsum("ij,ij->i", X, X)
    # Each row's product with its own centre, picked from the n × k products: no n × d
    # copy of every row's centre.
    own = np.take_along_axis(X @ centers.T, labels[:, None], axis=1)[:, 0]
    d2 = np.maximum(xx - 2.0 * own + np.einsum("ij,ij->i", centers, centers)[labels], 0.0)
    within = float(d2.sum())
    between = float((counts * ((centers - X.mean(axis=0)) ** 2).sum(axis=1)).sum())
    ch = 1.0 if within == 0 else between * (n - k) / (within * (k - 1.0))
    scatter = np.bincount(labels, weights=np.sqrt(d2), minlength=k) / np.maximum(counts, 1)
    gaps = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(scatter, 0) or np.allclose(gaps, 0):
        return float(ch), 0.0
    gaps[gaps == 0] = np.inf
    db = float(np.mean(np.max((scatter[:, None] + scatter[None, :]) / gaps, axis=1)))
    return float(ch), db


def _silhouette_sample(n: int, sample_size: int, random_state: int) -> np.ndarray | None:
    if n <= sample_size:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, sample_size, replace=False))


def _find_knee(ks, inertia, sensitivity: float = 1.0) -> int | None:
    """The elbow of a decreasing inertia curve, by the Kneedle rule, or None.

    Both axes are scaled to [0, 1]; the elbow is the K farthest below the
    chord joining the first and last points (the later K on a tie). As in
    Kneedle, it counts only if that gap exceeds ``sensitivity`` times the
    mean step between Ks: a gently bending curve has no elbow, and saying
    it has one would make the reason for K claim more than the data shows.
    """
    ks = np.asarray(ks, dtype=float)
    y = np.asarray(inertia, dtype=float)
    if len(ks) < 3 or y[0] == y[-1]:
        return None
    x_n = (ks - ks[0]) / (ks[-1] - ks[0])
    y_n = (y - y[-1]) / (y[0] - y[-1])
    gap = 1.0 - x_n - y_n
    best = len(gap) - 1 - int(np.argmax(gap[::-1]))
    threshold = sensitivity * float(np.mean(np.diff(x_n)))
    return int(ks[best]) if gap[best] > threshold else None


def sweep_k(
    fm: FeatureMatrix | np.ndarray,
    k_values=range(DEFAULT_K_RANGE[0], DEFAULT_K_RANGE[1] + 1),
    random_state: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
    silhouette_sample_size: int = SILHOUETTE_SAMPLE_SIZE,
    stability: bool = False,
) -> KSweep:
    """Fit k-means for each K and measure it; recommend a K with a reason.

    Parameters
    ----------
    fm : FeatureMatrix or ndarray
        The prepared customers (or a scaled matrix).
    k_values : iterable of int
        Between 2 and 10.
    random_state : int
    n_init : int
        k-means++ restarts per K.
    silhouette_sample_size : int
        Silhouettes are exact up to this many customers, estimated on a
        fixed-seed sample above it.
    stability : bool
        Also measure split-half agreement per K over ``N_SPLITS`` seeded
        splits (:func:`split_half_agreement`, two extra fits per split):
        columns ``stability`` (the median), ``stability_min`` and
        ``stability_max``. The recommendation then passes over Ks whose
        median agreement is under ``REPLICATES``.

    Returns
    -------
    KSweep
    """
    X = fm.X if isinstance(fm, FeatureMatrix) else np.asarray(fm, dtype=float)
    ks = _check_k(X.shape[0], k_values)
    n = X.shape[0]
    # One float32 copy for every K's refinement on large data, not one per K.
    X32 = np.ascontiguousarray(X, dtype=np.float32) if n > FIT_SAMPLE_SIZE else None
    with _one_thread():
        fits = _in_parallel(lambda k: _fit_kmeans(X, k, random_state, n_init, X32=X32),
                            [(k,) for k in ks])
        X32 = None  # every K is fitted: free the copy before the silhouettes
        idx = _silhouette_sample(n, silhouette_sample_size, random_state)
        silhouettes = _mean_silhouettes(X if idx is None else X[idx],
                                       [labels if idx is None else labels[idx]
                                        for labels, _, _ in fits])
        rows = _sweep_rows(X, ks, fits, silhouettes)
    metrics = pd.DataFrame(rows)
    knee = _find_knee(metrics["k"], metrics["inertia"])
    k_best, reason = _recommend_k(metrics, knee)
    swept = KSweep(metrics=metrics, recommended_k=k_best, reason=reason, knee_k=knee,
                   silhouette_sample_size=None if idx is None else len(idx),
                   random_state=random_state, n_init=n_init,
                   fits={k: (labels.astype(np.int8), centers, inertia)
                         for k, (labels, centers, inertia) in zip(ks, fits, strict=True)},
                   fitted_on=_rows_key(X))
    return add_stability(swept, X) if stability else swept


def _rows_key(X: np.ndarray) -> tuple:
    """A cheap mark of the customers a sweep was fitted on, in their order: their shape and
    a position-weighted sum of about a thousand spaced rows (microseconds at a million)."""
    rows = X[::max(1, X.shape[0] // 1024)].sum(axis=1)
    return X.shape, float(rows @ np.arange(1.0, rows.size + 1.0))


def add_stability(sweep: KSweep, fm: FeatureMatrix | np.ndarray,
                  progress: Callable[[int, int], None] | None = None) -> KSweep:
    """The sweep with each K's split-half agreement, and K recommended again with it.

    ``sweep_k(..., stability=True)`` is ``add_stability(sweep_k(...), X)``:
    the columns the check adds and the recommendation it changes are made in
    this one place. A caller that shows the sweep's own figures while the
    check runs (the app's K panel) takes the two steps itself. ``fm`` must be
    the customers the sweep was fitted on. ``progress(done, total)`` is
    called after each K.

    Returns
    -------
    KSweep
        With the columns ``stability`` (the median over ``N_SPLITS``
        splits), ``stability_min`` and ``stability_max``; the recommended K
        passes over Ks whose median agreement is under ``REPLICATES``.
    """
    X = fm.X if isinstance(fm, FeatureMatrix) else np.asarray(fm, dtype=float)
    ks = sweep.metrics["k"].tolist()
    agreements = []
    with _one_thread():
        for k in ks:
            agreements.append(split_half_agreement(X, int(k), sweep.random_state, sweep.n_init))
            if progress is not None:
                progress(len(agreements), len(ks))
    metrics = sweep.metrics.assign(stability=[a.median for a in agreements],
                                   stability_min=[a.low for a in agreements],
                                   stability_max=[a.high for a in agreements])
    k_best, reason = _recommend_k(metrics, sweep.knee_k)
    return replace(sweep, metrics=metrics, recommended_k=k_best, reason=reason)


def _sweep_rows(X, ks, fits, silhouettes) -> list[dict]:
    """One row of figures per K for :func:`sweep_k`."""
    n = X.shape[0]
    xx = np.einsum("ij,ij->i", X, X)
    rows = []
    for k, (labels, _, inertia), sil in zip(ks, fits, silhouettes, strict=True):
        ch, db = _ch_db_scores(X, labels, k, xx)
        rows.append({
            "k": k,
            "inertia": inertia,
            "silhouette": sil,
            "calinski_harabasz": ch,
            "davies_bouldin": db,
            "min_share": float(np.bincount(labels, minlength=k).min() / n),
            # With min_share, what the recommendation's actionable-K rule reads.
            "max_share": float(np.bincount(labels, minlength=k).max() / n),
        })
    return rows


def _recommend_k(metrics: pd.DataFrame, knee_k: int | None = None,
                preferred: tuple[int, int] = PREFERRED_K) -> tuple[int, str]:
    """Pick K from the sweep's figures and say why, in plain words.

    Three to five segments are what a marketing team can act on, so a K in
    that range is chosen whenever its silhouette is nearly as good as the
    best one (within 0.05, or at least two-thirds of it). Within the range, Ks that leave a segment under
    10% of customers are avoided when another is available; among the rest
    the elbow of the inertia curve wins if its silhouette is within 0.02 of
    the best, otherwise the highest silhouette does.
    """
    m = metrics.dropna(subset=["silhouette"]).set_index("k")
    if m.empty:
        k = int(metrics["k"].iloc[0])
        return k, f"K = {k} is the only option that could be measured."
    guard_notes = []
    if "max_share" in m:
        unusable = m[(m["min_share"] < MIN_ACTIONABLE_SHARE) | (m["max_share"] > MAX_DOMINANT_SHARE)]
        # When every K is unusable none is passed over: one note says so instead.
        for k_bad, row in (unusable if len(unusable) < len(m) else unusable.iloc[:0]).iterrows():
            if row["min_share"] < MIN_ACTIONABLE_SHARE:
                guard_notes.append(f"K = {k_bad} was passed over: one segment holds "
                                   f"{row['min_share']:.1%} of customers")
            else:
                guard_notes.append(f"K = {k_bad} was passed over: one segment holds "
                                   f"{row['max_share']:.0%} of customers")
        if len(unusable) < len(m):
            m = m.drop(index=unusable.index)
        else:
            guard_notes.append("every K leaves a segment under 3% or one over 85% of customers, "
                               "so the segments are not actionable as they stand")
    unstable_note = None
    if "stability" in m:
        replicating = m[m["stability"] >= REPLICATES]
        dropped = [int(k) for k in m.index if k not in replicating.index]
        if replicating.empty:
            unstable_note = ("no K replicates across random halves of the customers "
                             f"(median split-half agreement under {REPLICATES:.2f}): the "
                             "segments may be noise")
        else:
            if dropped:
                unstable_note = ("passed over K = " + ", ".join(map(str, dropped))
                                 + f": their segments do not replicate across random halves "
                                 f"(median agreement under {REPLICATES:.2f})")
            m = replicating
    best_k = int(m["silhouette"].idxmax())
    best_sil = float(m["silhouette"].max())
    in_range = m[(m.index >= preferred[0]) & (m.index <= preferred[1])]
    floor = min(best_sil - NEARLY_AS_GOOD, best_sil * NEARLY_AS_GOOD_RATIO)
    near = in_range[in_range["silhouette"] >= floor]
    if near.empty:
        k = best_k
        parts = [f"K = {k} has the best silhouette ({best_sil:.2f})"]
        if not in_range.empty:
            alt = int(in_range["silhouette"].idxmax())
            parts.append(
                f"every K from {preferred[0]} to {preferred[1]} is clearly worse "
                f"(best {in_range['silhouette'].max():.2f} at K = {alt})"
            )
    else:
        roomy = near[near["min_share"] >= SMALL_SEGMENT_SHARE]
        pool = roomy if not roomy.empty else near
        top = float(pool["silhouette"].max())
        if knee_k in pool.index and pool.loc[knee_k, "silhouette"] >= top - 0.02:
            k = int(knee_k)
            parts = [f"K = {k} is the elbow of the inertia curve with silhouette "
                     f"{pool.loc[k, 'silhouette']:.2f}"]
        else:
            k = int(pool["silhouette"].idxmax())
            parts = [f"K = {k} has the best silhouette ({top:.2f}) among "
                     f"{preferred[0]} to {preferred[1]} segments"]
        passed = near[(near["silhouette"] > m.loc[k, "silhouette"])
                      & (near["min_share"] < SMALL_SEGMENT_SHARE)]
        for other in passed.index:
            parts.append(f"K = {other} scores higher ({m.loc[other, 'silhouette']:.2f}) but "
                         f"leaves a segment of only {m.loc[other, 'min_share']:.0%} of customers "
                         "(under 10%)")
        if best_k != k and best_k not in passed.index:
            parts.append(f"K = {best_k} scores higher ({best_sil:.2f}), but {preferred[0]} to "
                         f"{preferred[1]} segments are easier to act on and K = {k} keeps "
                         f"{m.loc[k, 'silhouette'] / best_sil:.0%} of that separation")
        if roomy.empty:
            parts.append("every nearly-as-good K leaves a segment under 10% of customers")
    share = float(m.loc[k, "min_share"])
    parts.append(f"its smallest segment holds {share:.0%} of customers")
    if "stability" in m:
        parts.append(f"its split-half agreement is {_agreement_text(m.loc[k])}")
    if unstable_note:
        parts.append(unstable_note)
    parts.extend(guard_notes)
    return k, "; ".join(parts) + "."


def _agreement_text(row, n_splits: int = N_SPLITS) -> str:
    """A sweep row's split-half agreement in words: median, number of splits and range.

    >>> _agreement_text({"stability": 0.82, "stability_min": 0.57, "stability_max": 0.97})
    'median 0.82 over 7 random splits, range 0.57–0.97'
    """
    text = f"median {row['stability']:.2f} over {n_splits} random splits"
    if "stability_min" in row:
        text += f", range {row['stability_min']:.2f}–{row['stability_max']:.2f}"
    return text


def quality_warnings(silhouette: float, shares, n_customers: int) -> tuple[str, ...]:
    """Plain-language cautions where a result is weak."""
    out = []
    if n_customers < FEW_CUSTOMERS:
        out.append(
            f"Only {n_customers} customers: clustering this few is unreliable. "
            "Simple rules or RFM quintiles may serve better."
        )
    if np.isfinite(silhouette) and silhouette < WEAK_SILHOUETTE:
        out.append(
            f"Silhouette {silhouette:.2f} is below 0.3: the segments overlap, so treat the "
            "boundaries as soft and check the stability before acting on them."
        )
    small = [i for i, s in enumerate(shares) if s < SMALL_SEGMENT_SHARE]
    if small:
        names = ", ".join(f"segment {i} ({shares[i]:.1%})" for i in small)
        verb, them = ("holds", "it survives") if len(small) == 1 else ("hold", "they survive")
        out.append(
            f"{names.capitalize()} {verb} under 10% of customers: check that {them} a rerun "
            "(Validate page) before building a campaign for "
            f"{'it' if len(small) == 1 else 'them'}."
        )
    return tuple(out)


def segment(
    fm: FeatureMatrix,
    n_clusters: int,
    random_state: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
    silhouette_sample_size: int = SILHOUETTE_SAMPLE_SIZE,
    sweep: KSweep | None = None,
) -> Segmentation:
    """Assign every prepared customer to one of ``n_clusters`` segments.

    Segment 0 has the highest average total spend (or, without spend
    columns, the highest centre), so numbering is stable across reruns.
    ``sweep``, a sweep of these customers, lends its fit at ``n_clusters``
    when it made one with these settings (:meth:`KSweep.fit_of`).
    """
    X = fm.X
    _check_k(X.shape[0], [n_clusters])
    fit = None if sweep is None else sweep.fit_of(n_clusters, X, random_state, n_init)
    labels, centers, inertia = fit or _fit_kmeans(X, n_clusters, random_state, n_init)
    key = fm.frame["total_spend"].to_numpy(float) if "total_spend" in fm.frame else None
    labels, centers = _order_labels(labels, centers, key)
    return segmentation_from(fm, labels, centers, inertia, random_state, n_init,
                             silhouette_sample_size)


def segmentation_from(fm: FeatureMatrix, labels: np.ndarray, centers: np.ndarray,
                      inertia: float, random_state: int = DEFAULT_SEED,
                      n_init: int = DEFAULT_N_INIT,
                      silhouette_sample_size: int = SILHOUETTE_SAMPLE_SIZE) -> Segmentation:
    """The :class:`Segmentation` of labels and centres already found (by any method), with
    each customer's silhouette and distance to their centre."""
    X = fm.X
    n_clusters = centers.shape[0]
    idx = _silhouette_sample(X.shape[0], silhouette_sample_size, random_state)
    values = np.full(X.shape[0], np.nan)
    sub = labels if idx is None else labels[idx]
    if np.unique(sub).size > 1:
        (s,) = _silhouette_values(X if idx is None else X[idx], [sub])
        if idx is None:
            values = s
        else:
            values[idx] = s
    distances = np.linalg.norm(X - centers[labels], axis=1)
    return Segmentation(
        labels=labels, centers=centers, n_clusters=n_clusters, inertia=inertia,
        silhouette=float(np.nanmean(values)) if np.isfinite(values).any() else np.nan,
        silhouette_values=values, silhouette_sample_size=None if idx is None else len(idx),
        distances=distances, customer_ids=fm.customer_ids, random_state=random_state,
        n_init=n_init,
    )
