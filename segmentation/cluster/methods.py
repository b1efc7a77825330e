"""Other clustering methods beside k-means, fitted on the same prepared matrix.

Gaussian mixture (soft membership, K by BIC), Ward's hierarchical clustering, HDBSCAN
(customers who fit no segment are left out as "no clear segment") and Huang's
k-prototypes for numeric and category variables together. Each fit gives labels in the
engine's fixed order (highest total spend first), centres in the scaled space, and what a
saved model needs to assign new customers with the method's own rule
(:func:`assign_with`). :func:`compare_methods` puts the methods side by side with the same
quality figures and their pairwise agreement, so a user can see whether the segments are
a property of the data or of the method.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import dendrogram, ward
from sklearn.cluster import HDBSCAN, AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from segmentation.cluster.kmeans import (
    Segmentation,
    _ch_db_scores,
    _fit_kmeans,
    _mean_silhouettes,
    _one_thread,
    _order_labels,
    _silhouette_sample,
    assign,
    segmentation_from,
)
from segmentation.config import (
    BETWEEN_SEGMENTS_PROBABILITY,
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    DENDROGRAM_LEAVES,
    DENDROGRAM_SIZE,
    GMM_N_INIT,
    GMM_REG_COVAR,
    HDBSCAN_FIT_SIZE,
    HDBSCAN_MIN_SHARE,
    HDBSCAN_MIN_SIZE,
    KPROTOTYPES_GAMMA_RATIO,
    KPROTOTYPES_MAX_ITER,
    METHODS,
    SILHOUETTE_SAMPLE_SIZE,
    WARD_FIT_SIZE,
)
from segmentation.errors import SegmentationError
from segmentation.prepare.features import FeatureMatrix
from segmentation.summary import Summary

METHOD_LABELS = {
    "kmeans": "k-means",
    "gmm": "Gaussian mixture",
    "ward": "Ward hierarchical",
    "hdbscan": "HDBSCAN",
    "kprototypes": "k-prototypes",
}
__all__ = [
    "NOISE", "NO_CLEAR_SEGMENT", "METHOD_LABELS", "SCORING_RULES", "AGREE", "check_method",
    "MethodFit", "categorical_groups", "kprototypes", "fit_method", "bic_by_k", "assign_with",
    "MethodSegmentation", "segment_with", "MethodComparison", "agreement_table",
    "compare_methods",
]
NOISE = -1  # the label of a customer HDBSCAN places in no segment
NO_CLEAR_SEGMENT = "no clear segment"
# How each method's saved model assigns a new customer: shown with every score.
SCORING_RULES = {
    "kmeans": "nearest segment centre (reproduces the fitted assignment)",
    "gmm": "most probable mixture component (reproduces the fitted assignment)",
    "ward": "nearest segment centroid (Ward's tree cannot take new customers; the centroid "
            "rule is how they are placed)",
    "hdbscan": "nearest segment centroid, or no clear segment when farther from it than the "
               "farthest customer the segment was fitted with",
    "kprototypes": "nearest prototype by squared numeric distance plus gamma per category "
                   "mismatch (reproduces the fitted assignment)",
}


def check_method(method: str) -> str:
    """``method`` if it is one of :data:`METHODS`, else one sentence saying what to use."""
    if method not in METHODS:
        raise SegmentationError(
            f"Unknown clustering method {method!r}: use one of {', '.join(METHODS)}.")
    return method


@dataclass(frozen=True)
class MethodFit:
    """One method's segments on the prepared customers.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    labels : ndarray of int
        Segment of each customer, 0 = highest average total spend; :data:`NOISE` (-1) for a
        customer HDBSCAN places in no segment.
    centers : ndarray of shape (n_clusters, n_features)
        Segment centres (k-means, centroids of Ward and HDBSCAN, the mixture's means, the
        k-prototypes prototypes) in the scaled space.
    params : dict
        What :func:`assign_with` needs beyond the centres, as plain lists and numbers.
    probabilities : ndarray of shape (n_customers, n_clusters) or None
        The mixture's membership probabilities; None for the other methods.
    note : str
        How the fit was made when it was not on every customer (a seeded sample), else "".
    """

    method: str
    labels: np.ndarray
    centers: np.ndarray
    params: dict = field(default_factory=dict)
    probabilities: np.ndarray | None = None
    note: str = ""

    @property
    def n_clusters(self) -> int:
        return int(self.centers.shape[0])

    @property
    def n_noise(self) -> int:
        """Customers in no clear segment (HDBSCAN's noise)."""
        return int((self.labels == NOISE).sum())

    @property
    def between(self) -> np.ndarray:
        """Customers whose most likely mixture segment is under
        ``BETWEEN_SEGMENTS_PROBABILITY`` (all False for hard methods)."""
        if self.probabilities is None:
            return np.zeros(self.labels.size, dtype=bool)
        return self.probabilities.max(axis=1) < BETWEEN_SEGMENTS_PROBABILITY

    @property
    def rule(self) -> str:
        return SCORING_RULES[self.method]


# --------------------------------------------------------------------------- categories
def categorical_groups(fm: FeatureMatrix) -> tuple[tuple[int, ...], ...]:
    """The columns of ``fm.X`` that hold each category's 0/1 levels, one tuple per category.

    Preparation expands a category into one column per level; k-prototypes reads them back
    as one category each, so a mismatch counts once however many levels it has.
    """
    by_source: dict[tuple[str, ...], list[int]] = {}
    for i, name in enumerate(fm.features):
        var = fm.variables.get(name)
        if var is not None and var.kind == "level":
            by_source.setdefault(var.sources, []).append(i)
    return tuple(tuple(cols) for cols in by_source.values())


def _codes(X: np.ndarray, groups) -> np.ndarray:
    """Each row's category per group: the index of its level column, or the group's width
    when no level is set (a value pooled away or missing is a category of its own)."""
    codes = np.empty((X.shape[0], len(groups)), dtype=np.intp)
    for j, cols in enumerate(groups):
        block = X[:, list(cols)]
        codes[:, j] = np.where(block.max(axis=1) > 0, block.argmax(axis=1), len(cols))
    return codes


def _numeric_columns(n_features: int, groups) -> np.ndarray:
    taken = {c for cols in groups for c in cols}
    return np.array([c for c in range(n_features) if c not in taken], dtype=np.intp)


def _prototype_costs(Xn: np.ndarray, codes: np.ndarray, proto_n: np.ndarray,
                     proto_c: np.ndarray, gamma: float) -> np.ndarray:
    """Huang's dissimilarity of every row to every prototype: squared Euclidean distance on
    the numeric columns plus ``gamma`` for each category that differs."""
    d2 = ((Xn[:, None, :] - proto_n[None, :, :]) ** 2).sum(axis=2)
    mismatches = (codes[:, None, :] != proto_c[None, :, :]).sum(axis=2)
    return d2 + gamma * mismatches


def _modes(codes: np.ndarray) -> np.ndarray:
    """The most common code per column (the smallest on a tie)."""
    return np.array([np.bincount(col).argmax() for col in codes.T], dtype=np.intp)


def kprototypes(Xn: np.ndarray, codes: np.ndarray, n_clusters: int, gamma: float,
                random_state: int = DEFAULT_SEED, n_init: int = DEFAULT_N_INIT,
                max_iter: int = KPROTOTYPES_MAX_ITER):
    """Huang's k-prototypes: numeric means and category modes, alternated to a fixed point.

    Parameters
    ----------
    Xn : ndarray of shape (n, p)
        The numeric variables.
    codes : ndarray of int, shape (n, q)
        Each customer's category per categorical variable.
    n_clusters : int
    gamma : float
        What one category mismatch costs, in squared numeric distance.
    random_state, n_init : int
        Each of ``n_init`` restarts starts from ``n_clusters`` distinct customers drawn with
        a generator seeded from ``random_state``; the restart of least cost is kept.

    Returns
    -------
    labels : ndarray of int
    proto_n : ndarray of shape (n_clusters, p)
    proto_c : ndarray of int, shape (n_clusters, q)
    cost : float
        The summed dissimilarity of every customer to its prototype.

    Examples
    --------
    >>> Xn = np.array([[0.0], [0.2], [5.0], [5.2]])
    >>> codes = np.array([[0], [0], [1], [1]])
    >>> labels, pn, pc, cost = kprototypes(Xn, codes, 2, gamma=1.0, n_init=2)
    >>> sorted(pn.round(2).ravel().tolist()), round(cost, 2)
    ([0.1, 5.1], 0.04)
    """
    rng = np.random.default_rng(random_state)
    n = Xn.shape[0]
    best = None
    for _ in range(n_init):
        start = rng.choice(n, n_clusters, replace=False)
        proto_n, proto_c = Xn[start].copy(), codes[start].copy()
        labels = np.full(n, -1, dtype=np.intp)
        for _ in range(max_iter):
            costs = _prototype_costs(Xn, codes, proto_n, proto_c, gamma)
            new = costs.argmin(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for j in range(n_clusters):
                members = labels == j
                if not members.any():
                    # An emptied segment restarts at the customer worst served, as k-means does.
                    far = int(costs[np.arange(n), labels].argmax())
                    members = np.zeros(n, dtype=bool)
                    members[far] = True
                    labels[far] = j
                proto_n[j] = Xn[members].mean(axis=0)
                proto_c[j] = _modes(codes[members])
        costs = _prototype_costs(Xn, codes, proto_n, proto_c, gamma)
        labels = costs.argmin(axis=1)
        cost = float(costs[np.arange(n), labels].sum())
        if best is None or cost < best[3]:
            best = (labels, proto_n, proto_c, cost)
    return best


def _default_gamma(Xn: np.ndarray) -> float:
    """The weight of a category mismatch: ``KPROTOTYPES_GAMMA_RATIO`` times the numeric
    variables' mean variance (twice it: two customers' expected squared difference).

    >>> _default_gamma(np.array([[0.0, 1.0], [2.0, 3.0]]))
    2.0
    """
    if Xn.shape[1] == 0:
        return 1.0  # categories only: a mismatch is the unit
    return float(KPROTOTYPES_GAMMA_RATIO * Xn.var(axis=0).mean())


# --------------------------------------------------------------------------- fitting
def _centroids(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.stack([X[labels == j].mean(axis=0) for j in range(k)])


def _ordered(labels, centers, key):
    """Labels renumbered as k-means numbers them (:func:`_order_labels`), noise kept as
    ``NOISE`` and left out of the ordering; also the old segment of each new number."""
    inside = labels != NOISE
    ranked, ordered = _order_labels(labels[inside], centers,
                                    None if key is None else key[inside])
    order = np.array([int(np.flatnonzero((centers == c).all(axis=1))[0]) for c in ordered])
    out = np.full(labels.size, NOISE, dtype=np.intp)
    out[inside] = ranked
    return out, ordered, order


def _spend_key(fm: FeatureMatrix) -> np.ndarray | None:
    return fm.frame["total_spend"].to_numpy(float) if "total_spend" in fm.frame else None


def fit_method(fm: FeatureMatrix, method: str, n_clusters: int | None,
               random_state: int = DEFAULT_SEED, n_init: int = DEFAULT_N_INIT) -> MethodFit:
    """Fit one method on the prepared customers.

    Parameters
    ----------
    fm : FeatureMatrix
    method : str
        One of :data:`METHODS`.
    n_clusters : int or None
        The number of segments; ignored by HDBSCAN, which finds its own.
    random_state, n_init : int
        The seed and restarts (k-means and k-prototypes restarts; the mixture takes at most
        ``GMM_N_INIT``).

    Returns
    -------
    MethodFit
    """
    check_method(method)
    X = fm.X
    key = _spend_key(fm)
    if method == "kmeans":
        labels, centers, _ = _fit_kmeans(X, n_clusters, random_state, n_init)
        labels, centers = _order_labels(labels, centers, key)
        return MethodFit(method, labels, centers)
    if method == "gmm":
        return _fit_gmm(X, n_clusters, random_state, n_init, key)
    if method == "ward":
        return _fit_ward(X, n_clusters, random_state, key)
    if method == "hdbscan":
        return _fit_hdbscan(X, random_state, key)
    return _fit_kprototypes(X, categorical_groups(fm), n_clusters, random_state, n_init, key)


def _gmm(X: np.ndarray, k: int, random_state: int, n_init: int) -> GaussianMixture:
    """The mixture of highest likelihood from a k-means start and seeded random starts.

    A k-means start alone inherits k-means' cut: on long parallel ellipses every such start
    lands on the same wrong split, and EM never leaves it. Starts at random customers find
    the ellipses; the k-means start keeps the round-cluster answer when that is better.
    """
    fits = []
    with _one_thread():
        for init, restarts in (("kmeans", 1), ("random_from_data", min(n_init, GMM_N_INIT))):
            fits.append(GaussianMixture(k, covariance_type="full", n_init=restarts,
                                        init_params=init, reg_covar=GMM_REG_COVAR,
                                        random_state=random_state).fit(X))
    return max(fits, key=lambda gm: gm.lower_bound_)


def _fit_gmm(X, k, random_state, n_init, key) -> MethodFit:
    gm = _gmm(X, k, random_state, n_init)
    labels, centers, order = _ordered(gm.predict(X), gm.means_, key)
    params = {"weights": gm.weights_[order].tolist(),
              "precisions_cholesky": gm.precisions_cholesky_[order].tolist()}
    probabilities = gm.predict_proba(X)[:, order]
    return MethodFit("gmm", labels, centers, params, probabilities)


def bic_by_k(fm: FeatureMatrix | np.ndarray, k_values, random_state: int = DEFAULT_SEED,
             n_init: int = DEFAULT_N_INIT) -> pd.DataFrame:
    """The Gaussian mixture's Bayesian information criterion for each K (lower is better).

    Returns
    -------
    DataFrame
        ``k`` and ``bic``, one row per K.
    """
    X = getattr(fm, "X", fm)
    return pd.DataFrame({"k": list(k_values),
                         "bic": [float(_gmm(X, k, random_state, n_init).bic(X))
                                 for k in k_values]})


def _fit_ward(X, k, random_state, key) -> MethodFit:
    n = X.shape[0]
    idx = _silhouette_sample(n, WARD_FIT_SIZE, random_state)
    fit_rows = X if idx is None else X[idx]
    raw = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(fit_rows)
    centers = _centroids(fit_rows, raw, k)
    note = ""
    if idx is None:
        labels = raw
    else:
        labels, _ = assign(X, centers)
        labels[idx] = raw
        note = (f"Ward's tree was built on a seeded sample of {WARD_FIT_SIZE:,} customers; the "
                "other customers joined the nearest segment centroid.")
    labels, centers, _ = _ordered(labels, _centroids(X, labels, k), key)
    return MethodFit("ward", labels, centers, note=note)


def _reach(X: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> list[float]:
    """Each segment's farthest fitted customer from its centroid."""
    d = np.linalg.norm(X - centers[np.maximum(labels, 0)], axis=1)
    return [float(d[labels == j].max()) for j in range(centers.shape[0])]


def _fit_hdbscan(X, random_state, key) -> MethodFit:
    n = X.shape[0]
    idx = _silhouette_sample(n, HDBSCAN_FIT_SIZE, random_state)
    fit_rows = X if idx is None else X[idx]
    size = max(HDBSCAN_MIN_SIZE, int(round(HDBSCAN_MIN_SHARE * fit_rows.shape[0])))
    with _one_thread():
        raw = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(fit_rows)
    k = int(raw.max()) + 1
    if k < 2:
        raise SegmentationError(
            f"HDBSCAN found {'no' if k < 1 else 'only one'} dense segment among these customers "
            "(each must hold at least "
            f"{size:,}): use k-means, the mixture or Ward, or choose other variables.")
    raw = np.where(raw >= 0, raw, NOISE)
    centers = _centroids(fit_rows, raw, k)
    labels, centers, _ = _ordered(raw, centers, None if key is None
                                      else (key if idx is None else key[idx]))
    reach = _reach(fit_rows, labels, centers)
    note = ""
    if idx is not None:
        sampled = labels
        labels, _ = assign_with("hdbscan", X, centers, {"reach": reach})
        labels[idx] = sampled
        note = (f"HDBSCAN was run on a seeded sample of {HDBSCAN_FIT_SIZE:,} customers; the "
                "others were placed by the scoring rule (nearest centroid within its reach).")
    return MethodFit("hdbscan", labels, centers, {"reach": reach, "min_cluster_size": size},
                     note=note)


def _fit_kprototypes(X, groups, k, random_state, n_init, key) -> MethodFit:
    num = _numeric_columns(X.shape[1], groups)
    Xn, codes = X[:, num], _codes(X, groups)
    gamma = _default_gamma(Xn)
    labels, _, _, _ = kprototypes(Xn, codes, k, gamma, random_state, n_init)
    # The prototype in the scaled space: numeric means, and for each category the level
    # columns of its most common value (all zero when that value has no column).
    centers = np.zeros((k, X.shape[1]))
    for j in range(k):
        members = labels == j
        centers[j, num] = Xn[members].mean(axis=0)
        modes = _modes(codes[members])
        for g, (cols, mode) in enumerate(zip(groups, modes, strict=True)):
            if mode < len(cols):
                centers[j, cols[mode]] = X[members & (codes[:, g] == mode), cols[mode]].max()
    labels, centers, _ = _ordered(labels, centers, key)
    params = {"gamma": gamma, "categorical": [list(cols) for cols in groups]}
    note = "" if groups else ("No category variable is chosen, so k-prototypes is k-means "
                              "by Huang's iterations.")
    return MethodFit("kprototypes", labels, centers, params, note=note)


# --------------------------------------------------------------------------- scoring
def assign_with(method: str, X: np.ndarray, centers: np.ndarray,
                params: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Assign rows (in the model's scaled space) to saved segments by the method's rule.

    See :data:`SCORING_RULES`. Returns labels (``NOISE`` for HDBSCAN's no clear segment)
    and each row's Euclidean distance to the centre of the segment given (to the nearest
    centre for noise).
    """
    params = params or {}
    X = np.asarray(X, dtype=float)
    centers = np.asarray(centers, dtype=float)
    if method in ("kmeans", "ward"):
        return assign(X, centers)
    if method == "hdbscan":
        labels, distances = assign(X, centers)
        reach = np.asarray(params["reach"], dtype=float)
        return np.where(distances <= reach[labels], labels, NOISE), distances
    if method == "gmm":
        gm = GaussianMixture(centers.shape[0], covariance_type="full")
        gm.weights_ = np.asarray(params["weights"], dtype=float)
        gm.means_ = centers
        gm.precisions_cholesky_ = np.asarray(params["precisions_cholesky"], dtype=float)
        labels = gm.predict(X)
    elif method == "kprototypes":
        groups = tuple(tuple(c) for c in params["categorical"])
        num = _numeric_columns(X.shape[1], groups)
        costs = _prototype_costs(X[:, num], _codes(X, groups), centers[:, num],
                                 _codes(centers, groups), float(params["gamma"]))
        labels = costs.argmin(axis=1)
    else:
        check_method(method)
    return labels, np.linalg.norm(X - centers[labels], axis=1)


# --------------------------------------------------------------------------- a run
@dataclass(frozen=True)
class MethodSegmentation:
    """A run's segments by a method other than k-means.

    Attributes
    ----------
    features : FeatureMatrix
        The customers in a segment: those in no clear segment are left out here and listed
        in ``features.report.excluded_ids`` (and counted in ``dropped``) under
        :data:`NO_CLEAR_SEGMENT`, so every export accounts for them.
    segmentation : Segmentation
    fit : MethodFit
        On every prepared customer (noise included).
    k_reason : str
        How K was chosen by this method ("" when it was given or is the sweep's).
    """

    features: FeatureMatrix
    segmentation: Segmentation
    fit: MethodFit
    k_reason: str = ""


def segment_with(fm: FeatureMatrix, method: str, n_clusters: int | None, k_values,
                 fallback_k: int, random_state: int = DEFAULT_SEED,
                 n_init: int = DEFAULT_N_INIT) -> MethodSegmentation:
    """Segment the prepared customers with ``method``.

    Parameters
    ----------
    fm : FeatureMatrix
    method : str
        One of :data:`METHODS`.
    n_clusters : int or None
        K as given; None takes the mixture's lowest BIC over ``k_values`` for ``"gmm"``,
        and ``fallback_k`` (the k-means sweep's recommendation) for Ward and k-prototypes.
        HDBSCAN finds its own K.
    k_values : iterable of int
    fallback_k : int
    random_state, n_init : int

    Returns
    -------
    MethodSegmentation
    """
    reason = ""
    k = n_clusters
    if k is None and method == "gmm":
        bic = bic_by_k(fm, list(k_values), random_state, n_init)
        k = int(bic.loc[bic["bic"].idxmin(), "k"])
        reason = f"K = {k} has the lowest BIC of the Gaussian mixture over K = " \
                 f"{bic['k'].min()} to {bic['k'].max()}."
    elif method == "hdbscan":
        reason = "HDBSCAN finds its own number of segments; K is not used."
    fit = fit_method(fm, method, k or fallback_k, random_state, n_init)
    inside = fit.labels != NOISE
    if not inside.all():
        ids = fm.customer_ids[~inside].astype(str)
        report = replace(fm.report,
                         dropped={**fm.report.dropped, NO_CLEAR_SEGMENT: int((~inside).sum())},
                         excluded_ids={**fm.report.excluded_ids,
                                       **dict.fromkeys(ids, NO_CLEAR_SEGMENT)})
        fm = replace(fm, X=fm.X[inside], frame=fm.frame.iloc[np.flatnonzero(inside)],
                     report=report)
    labels = fit.labels[inside]
    within = float(((fm.X - fit.centers[labels]) ** 2).sum())
    seg = segmentation_from(fm, labels, fit.centers, within, random_state, n_init)
    return MethodSegmentation(features=fm, segmentation=seg, fit=fit, k_reason=reason)


# --------------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class MethodComparison:
    """The methods side by side on the same prepared customers.

    Attributes
    ----------
    quality : DataFrame
        One row per method: ``method``, ``label``, ``n_segments``, ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``min_share`` (of customers in a segment),
        ``no_clear_segment`` (customers HDBSCAN leaves out), ``between_segments`` (mixture
        customers under ``BETWEEN_SEGMENTS_PROBABILITY``). Figures are computed on the
        customers in a segment, as for k-means.
    agreement : DataFrame
        Tidy, both orders and the diagonal: ``method_a``, ``method_b``, ``ari``.
    bic : DataFrame
        The mixture's BIC per K (``k``, ``bic``) and :attr:`bic_k`, its best K.
    dendrogram : DataFrame
        Ward's tree cut to its top merges, one row per line segment: ``link``, ``x``, ``y``
        (drawn in order within a link), on at most ``DENDROGRAM_SIZE`` customers;
        :attr:`dendrogram_cut` is the height that leaves ``n_clusters`` segments.
    """

    quality: pd.DataFrame
    agreement: pd.DataFrame
    fits: dict[str, MethodFit]
    bic: pd.DataFrame
    bic_k: int
    dendrogram: pd.DataFrame
    dendrogram_size: int
    dendrogram_cut: float
    n_customers: int
    n_clusters: int

    def summary(self) -> Summary:
        """The verdict on whether the methods agree, the quality table and the notes."""
        pairs = self.agreement[self.agreement["method_a"] < self.agreement["method_b"]]
        low = pairs.loc[pairs["ari"].idxmin()]
        between = int(self.fits["gmm"].between.sum())
        noise = self.fits["hdbscan"].n_noise
        if low["ari"] >= AGREE:
            verdict = (f"Every pair of methods agrees (adjusted Rand index at least "
                       f"{low['ari']:.2f}): the segments are a property of the data.")
        else:
            verdict = (f"{METHOD_LABELS[low['method_a']]} and {METHOD_LABELS[low['method_b']]} "
                       f"disagree (adjusted Rand index {low['ari']:.2f}): part of the segments "
                       "comes from the method, not the data.")
        notes = [f"The Gaussian mixture places {between:,} of {self.n_customers:,} customers "
                 f"between segments (top membership probability under "
                 f"{BETWEEN_SEGMENTS_PROBABILITY:.0%}); its BIC prefers K = {self.bic_k}.",
                 f"HDBSCAN finds {self.fits['hdbscan'].n_clusters} segments and leaves "
                 f"{noise:,} customers in no clear segment."]
        if self.dendrogram_size < self.n_customers:
            notes.append(f"Ward's dendrogram is drawn for a seeded sample of "
                         f"{self.dendrogram_size:,} customers.")
        notes.extend(fit.note for fit in self.fits.values() if fit.note)
        return Summary(title=f"Methods side by side at K = {self.n_clusters}", verdict=verdict,
                       table=self.quality, notes=tuple(notes))


# Two methods whose segments agree this well (adjusted Rand index) tell the same story; it
# is the level split-half agreement counts as replicating.
AGREE = 0.8


def _quality_row(X: np.ndarray, labels: np.ndarray, random_state: int = DEFAULT_SEED,
                silhouette_sample_size: int = SILHOUETTE_SAMPLE_SIZE) -> dict:
    """The k-means quality figures of any labelling, on the customers in a segment."""
    inside = labels >= 0
    Xi, li = X[inside], labels[inside]
    k = int(li.max()) + 1 if li.size else 0
    idx = _silhouette_sample(Xi.shape[0], silhouette_sample_size, random_state)
    sil = _mean_silhouettes(Xi if idx is None else Xi[idx], [li if idx is None else li[idx]])[0]
    ch, db = _ch_db_scores(Xi, li, k)
    return {"n_segments": k, "silhouette": sil, "calinski_harabasz": ch, "davies_bouldin": db,
            "min_share": float(np.bincount(li, minlength=k).min() / max(li.size, 1))}


def agreement_table(labelings: dict[str, np.ndarray]) -> pd.DataFrame:
    """Adjusted Rand index between every pair of labellings (noise counted as a group).

    Examples
    --------
    >>> agreement_table({"a": np.array([0, 0, 1, 1]), "b": np.array([1, 1, 0, 0])})["ari"].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    rows = [{"method_a": a, "method_b": b, "ari": float(adjusted_rand_score(la, lb))}
            for a, la in labelings.items() for b, lb in labelings.items()]
    return pd.DataFrame(rows)


def _dendrogram_frame(X: np.ndarray, n_clusters: int, random_state: int = DEFAULT_SEED,
                     size: int = DENDROGRAM_SIZE,
                     leaves: int = DENDROGRAM_LEAVES) -> tuple[pd.DataFrame, int, float]:
    """Ward's tree of (a seeded sample of) the customers, cut to its top ``leaves`` merges.

    Returns the tidy line segments (``link``, ``x``, ``y``), the customers it was built on,
    and the height that cuts it into ``n_clusters`` segments (midway between the merges).
    """
    idx = _silhouette_sample(X.shape[0], size, random_state)
    rows = X if idx is None else X[idx]
    linkage = ward(rows)
    heights = np.sort(linkage[:, 2])
    cut = float((heights[-n_clusters] + heights[-n_clusters + 1]) / 2)
    tree = dendrogram(linkage, truncate_mode="lastp", p=leaves, no_plot=True)
    frame = pd.DataFrame([{"link": i, "x": x, "y": y}
                          for i, (xs, ys) in enumerate(zip(tree["icoord"], tree["dcoord"],
                                                           strict=True))
                          for x, y in zip(xs, ys, strict=True)])
    return frame, rows.shape[0], cut


def compare_methods(fm: FeatureMatrix, n_clusters: int, k_values,
                    random_state: int = DEFAULT_SEED,
                    n_init: int = DEFAULT_N_INIT) -> MethodComparison:
    """Every method on the same prepared customers at the same K, side by side.

    Parameters
    ----------
    fm : FeatureMatrix
    n_clusters : int
        The K every method but HDBSCAN is fitted with.
    k_values : iterable of int
        The K range over which the mixture's BIC is reported.
    random_state, n_init : int

    Returns
    -------
    MethodComparison
    """
    fits = {m: fit_method(fm, m, n_clusters, random_state, n_init) for m in METHODS}
    quality = pd.DataFrame([
        {"method": m, "label": METHOD_LABELS[m],
         **_quality_row(fm.X, fit.labels, random_state),
         "no_clear_segment": fit.n_noise, "between_segments": int(fit.between.sum())}
        for m, fit in fits.items()])
    bic = bic_by_k(fm, list(k_values), random_state, n_init)
    tree, size, cut = _dendrogram_frame(fm.X, n_clusters, random_state)
    return MethodComparison(
        quality=quality, agreement=agreement_table({m: f.labels for m, f in fits.items()}),
        fits=fits, bic=bic, bic_k=int(bic.loc[bic["bic"].idxmin(), "k"]), dendrogram=tree,
        dendrogram_size=size, dendrogram_cut=cut, n_customers=fm.X.shape[0], n_clusters=n_clusters)
