"""Are the segments real? Split-half replication, bootstrap stability, and segment matching.

Split-half agreement is the median over several seeded random splits
(:func:`segmentation.cluster.kmeans.split_half_agreement`, the one
implementation, which the K sweep uses too). The bootstrap is Hennig's
clusterboot with its published defaults (Hennig 2007, "Cluster-wise
assessment of cluster stability", Computational Statistics & Data Analysis
52, 258–271; R package fpc). Segments are matched between runs by the
Hungarian algorithm (scipy's ``linear_sum_assignment``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmentation.cluster.kmeans import (
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    FEW_CUSTOMERS,
    N_SPLITS,
    SMALL_SEGMENT_SHARE,
    Segmentation,
    SplitAgreement,
    _fit_kmeans,
    split_half_agreement,
    split_halves,
)
from segmentation.config import (
    DEFAULT_BOOTSTRAPS,
    DISSOLVED,
    JACCARD_DOUBTFUL,
    JACCARD_HIGHLY_STABLE,
    JACCARD_STABLE,
    RECOVERED,
    SAME_SEGMENT_RMS,
    SOME_CUSTOMERS,
)
from segmentation.describe.profiles import Profiles
from segmentation.errors import SegmentationError
from segmentation.prepare.features import FeatureMatrix
from segmentation.summary import Summary

# Hennig's reading of the mean bootstrap Jaccard of a segment.
JACCARD_BANDS = (
    (JACCARD_HIGHLY_STABLE, "highly stable"),
    (JACCARD_STABLE, "stable"),
    (JACCARD_DOUBTFUL, "a pattern, but membership is doubtful"),
    (-np.inf, "not to be trusted"),
)
# Split-half agreement (adjusted Rand index) read the same way; a K whose
# median agreement is under clustering.REPLICATES is not recommended.
ARI_BANDS = (
    (0.80, "the segments replicate well"),
    (0.60, "the segments replicate, with some customers changing sides"),
    (0.40, "the segments only partly replicate"),
    (-np.inf, "the segments do not replicate: they are mostly noise"),
)
# The split-half table compares a matched pair of segments on the first variable of each of
# these kinds the data has: what a reader knows a customer by (earnings, spend, how lately
# they bought, children), so a pair that is the same segment is seen to be one.
SPLIT_TABLE_KINDS = ("income", "total_spend", "recency", "children")
# The split-half table's ``statistic``: the segment's number of customers in its half, or
# the segment's mean of a variable.
STATISTIC_CUSTOMERS = "customers"
STATISTIC_MEAN = "mean"
SPLIT_TABLE_COLUMNS = ("pair", "segment_a", "segment_b", "statistic", "variable", "label",
                       "value_a", "value_b", "difference")


def _band(value: float, bands) -> str:
    return next(text for floor, text in bands if value >= floor)


def _match(cost: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one pairing of rows and columns (Hungarian algorithm)."""
    rows, cols = linear_sum_assignment(np.asarray(cost, dtype=float))
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]


@dataclass(frozen=True)
class SplitHalf:
    """Split-half replication over several random splits, and the halves of the median one.

    Attributes
    ----------
    ari : float
        Median adjusted Rand index over the splits: each split's two
        half-models assign every customer to their nearest centre, and the
        two assignments are compared. The figure to read.
    agreement : SplitAgreement
        The agreement of each split, their range, and the seed of the split
        shown here (``agreement.median_seed``, the median one).
    verdict : str
        The median's reading (``ARI_BANDS``).
    pairs : tuple of (int, int)
        Matched (segment of half A, segment of half B) of the split shown.
    profiles : DataFrame
        Long form: half ("A"/"B"), pair, segment, variable, mean.
    differences : DataFrame
        Pair × variable: mean in B minus mean in A, in natural units.
    """

    ari: float
    agreement: SplitAgreement
    verdict: str
    pairs: tuple[tuple[int, int], ...]
    sizes_a: tuple[int, ...]
    sizes_b: tuple[int, ...]
    profiles: pd.DataFrame
    differences: pd.DataFrame
    centers_a: np.ndarray
    centers_b: np.ndarray

    def summary(self, profiles: Profiles | None = None) -> Summary:
        """The median agreement and its reading, with the matched pairs of the split shown.

        Parameters
        ----------
        profiles : Profiles, optional
            The run's profiles: with them the table also compares each pair on the key
            variables (:func:`_split_half_table`); without, on its number of customers only.

        Returns
        -------
        Summary
            ``verdict`` says how the halves were made, the agreement and its reading
            (:attr:`verdict`); ``table`` is :func:`_split_half_table`.
        """
        splits = self.agreement
        return Summary(
            title=f"Split-half replication: {splits.n_splits} random splits, K = "
                  f"{len(self.pairs)}",
            verdict=(f"Customers were split at random into two halves, {splits.n_splits} times "
                     f"over, and each half was clustered on its own: agreement {splits.text}; "
                     f"{self.verdict}."),
            table=_split_half_table(self, profiles),
            notes=("The split shown is the one whose agreement is the median. Each row pairs a "
                   "segment of half A with its closest segment of half B (Hungarian matching "
                   "on the segment centres).",))


def split_half(fm: FeatureMatrix, n_clusters: int, random_state: int = DEFAULT_SEED,
               n_init: int = DEFAULT_N_INIT, n_splits: int = N_SPLITS) -> SplitHalf:
    """Cluster two random halves independently and compare them, over ``n_splits`` splits.

    The agreement of each split comes from
    :func:`segmentation.cluster.kmeans.split_half_agreement` (split ``i`` seeded
    ``random_state + i``); the median is reported. The split whose agreement
    is the median is shown in detail: half B's segments are matched to half
    A's by their centres, and their profiles compared.

    Parameters
    ----------
    fm : FeatureMatrix
    n_clusters : int
    random_state : int
    n_init : int
        k-means++ restarts of each half's fit.
    n_splits : int
        Odd, so the median is one split's own value.

    Returns
    -------
    SplitHalf
    """
    X = fm.X
    agreement = split_half_agreement(X, n_clusters, random_state, n_init, n_splits)
    # The split shown is redrawn from its seed: same rows, same halves, same fits.
    sample = np.arange(len(X)) if agreement.rows is None else agreement.rows
    halves, fits = split_halves(X[sample], n_clusters, agreement.median_seed, n_init)
    halves = [sample[h] for h in halves]
    (labels_a, centers_a, _), (labels_b, centers_b, _) = fits
    cost = ((centers_a[:, None, :] - centers_b[None, :, :]) ** 2).sum(axis=2)
    pairs = tuple(_match(cost))
    frame = fm.frame.select_dtypes("number")
    means_a = frame.iloc[halves[0]].groupby(labels_a).mean()
    means_b = frame.iloc[halves[1]].groupby(labels_b).mean()
    rows = []
    for pair, (a, b) in enumerate(pairs):
        for half, seg, means in (("A", a, means_a), ("B", b, means_b)):
            for var, value in means.loc[seg].items():
                rows.append({"half": half, "pair": pair, "segment": seg, "variable": var,
                             "mean": float(value)})
    differences = pd.DataFrame(
        [means_b.loc[b] - means_a.loc[a] for a, b in pairs]).reset_index(drop=True)
    differences.index.name = "pair"
    return SplitHalf(
        ari=agreement.median, agreement=agreement, verdict=_band(agreement.median, ARI_BANDS),
        pairs=pairs,
        sizes_a=tuple(int(v) for v in np.bincount(labels_a, minlength=n_clusters)),
        sizes_b=tuple(int(v) for v in np.bincount(labels_b, minlength=n_clusters)),
        profiles=pd.DataFrame(rows), differences=differences,
        centers_a=centers_a, centers_b=centers_b,
    )


def _split_half_table(halves: SplitHalf, profiles: Profiles | None) -> pd.DataFrame:
    """Each matched pair of segments of the split shown, compared figure by figure.

    The one source of the split-half table on the Validate page and in the report.

    Parameters
    ----------
    halves : SplitHalf
        From :func:`split_half`.
    profiles : Profiles or None
        The run's profiles; they say which variable is of which kind, and its label. None
        compares the pairs on their number of customers only.

    Returns
    -------
    DataFrame
        Columns ``SPLIT_TABLE_COLUMNS``; pairs in order, numbered from 1 (``pair``), with
        the segment of each half they match (``segment_a``, ``segment_b``). Each pair has
        first a ``statistic`` "customers" row (its segment's size in each half; no
        ``variable``), then a "mean" row for each variable of ``SPLIT_TABLE_KINDS`` the data
        has, in that order. ``value_a`` and ``value_b`` are the figure in half A and half B,
        ``difference`` is B minus A, in natural units; a mean a half lacks is NaN.

    Examples
    --------
    >>> table = _split_half_table(halves, result.profiles)  # doctest: +SKIP
    >>> table[table["statistic"] == "mean"].pivot(index="pair", columns="label",
    ...                                          values="difference")  # doctest: +SKIP
    """
    key_vars = ([] if profiles is None
                else [v for v in (profiles.first(kind) for kind in SPLIT_TABLE_KINDS) if v])
    means = halves.profiles.set_index(["pair", "half", "variable"])["mean"]
    rows = []
    for pair, (sa, sb) in enumerate(halves.pairs):
        base = {"pair": pair + 1, "segment_a": sa, "segment_b": sb}
        rows.append({**base, "statistic": STATISTIC_CUSTOMERS, "variable": None,
                     "label": "Customers", "value_a": float(halves.sizes_a[sa]),
                     "value_b": float(halves.sizes_b[sb])})
        for var in key_vars:
            rows.append({**base, "statistic": STATISTIC_MEAN, "variable": var,
                         "label": profiles.variables[var].label,
                         "value_a": float(means.get((pair, "A", var), np.nan)),
                         "value_b": float(means.get((pair, "B", var), np.nan))})
    table = pd.DataFrame(rows, columns=list(SPLIT_TABLE_COLUMNS[:-1]))
    return table.assign(difference=table["value_b"] - table["value_a"])[list(SPLIT_TABLE_COLUMNS)]


@dataclass(frozen=True)
class Bootstrap:
    """Per-segment bootstrap stability (Hennig's clusterboot).

    Attributes
    ----------
    jaccard : ndarray of shape (n_boot, n_clusters)
        Best-match Jaccard of each original segment in each resample.
    per_segment : DataFrame
        One row per segment: segment, mean_jaccard, band, dissolved (number
        of resamples with best Jaccard <= 0.5), recovered (number with best
        Jaccard > 0.75).
    n_boot : int
    """

    jaccard: np.ndarray
    per_segment: pd.DataFrame
    n_boot: int

    def summary(self) -> Summary:
        """How many segments fall in each of Hennig's bands, and the least stable one.

        Returns
        -------
        Summary
            ``table`` is :attr:`per_segment`.
        """
        table = self.per_segment
        k = len(table)
        counts = table["band"].value_counts()
        bands = ", ".join(f"{counts[text]} {text}" for _, text in JACCARD_BANDS
                          if text in counts)
        weakest = table.loc[table["mean_jaccard"].idxmin()]
        return Summary(
            title=f"Bootstrap stability: {self.n_boot} resamples of {k} segments "
                  "(Hennig's clusterboot)",
            verdict=(f"Of {k} segments by mean Jaccard: {bands}; the least stable is segment "
                     f"{int(weakest['segment'])} ({weakest['mean_jaccard']:.2f})."),
            table=table)


def _resample_jaccard(X: np.ndarray, labels: np.ndarray, n_clusters: int, draw: np.ndarray,
                     random_state: int = DEFAULT_SEED,
                     n_init: int = DEFAULT_N_INIT) -> np.ndarray:
    """One clusterboot resample: how well each original segment comes back.

    Assumes validated input. As in Hennig's clusterboot, a customer drawn
    more than once is included once: the distinct customers of ``draw`` (in
    row order) are clustered anew with k-means. Each original segment,
    restricted to the customers in the resample, is compared with every new
    segment, and its largest Jaccard similarity is kept (0 when none of its
    customers was drawn).

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
    labels : ndarray of int
        The original segment of each customer.
    n_clusters : int
    draw : ndarray of int
        Row indices drawn with replacement; needs at least ``n_clusters``
        distinct rows.
    random_state, n_init
        Of the k-means fit of the resample.

    Returns
    -------
    ndarray of shape (n_clusters,)

    Examples
    --------
    >>> X = np.r_[np.zeros((3, 1)), np.full((3, 1), 10.0)]
    >>> _resample_jaccard(X, np.array([0, 0, 0, 1, 1, 1]), 2, np.array([0, 0, 1, 3, 4, 4]))
    array([1., 1.])
    """
    present = np.unique(draw)
    new_labels, _, _ = _fit_kmeans(X[present], n_clusters, random_state, n_init)
    return _best_jaccard(labels[present], new_labels, n_clusters)


def bootstrap_stability(
    fm: FeatureMatrix, seg: Segmentation, n_boot: int = DEFAULT_BOOTSTRAPS,
    random_state: int = DEFAULT_SEED, n_init: int = DEFAULT_N_INIT,
    progress: Callable[[int, int], None] | None = None,
) -> Bootstrap:
    """Hennig's clusterboot of a segmentation: how often does each segment come back?

    :func:`_clusterboot` on the prepared customers and their segments.
    """
    return _clusterboot(fm.X, seg.labels, seg.n_clusters, n_boot, random_state, n_init,
                       progress)


def _clusterboot(X: np.ndarray, labels: np.ndarray, n_clusters: int,
                n_boot: int = DEFAULT_BOOTSTRAPS, random_state: int = DEFAULT_SEED,
                n_init: int = DEFAULT_N_INIT,
                progress: Callable[[int, int], None] | None = None) -> Bootstrap:
    """Cluster-wise bootstrap stability of a k-means segmentation.

    Follows Hennig (2007), "Cluster-wise assessment of cluster stability",
    Computational Statistics & Data Analysis 52, 258–271, with the defaults
    of fpc's ``clusterboot``: each of ``n_boot`` resamples draws ``n``
    customers with replacement, keeps each drawn customer once, and
    reclusters them with the same K (:func:`_resample_jaccard`). Per segment
    the summary gives the mean Jaccard over the resamples, the number of
    resamples where it dissolved (Jaccard <= 0.5) and the number where it
    was recovered (Jaccard > 0.75).

    Resample ``b`` draws its rows with ``rng.integers(0, n, n)`` and then its
    k-means seed with ``rng.integers(2**31)``, from one
    ``np.random.default_rng(random_state)``. A draw with fewer distinct
    customers than segments cannot be clustered and is drawn again (only
    possible when there are barely twice as many customers as segments).

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
    labels : ndarray of int
        The segment of each customer, ``0 .. n_clusters - 1``.
    n_clusters : int
    n_boot : int
        Number of resamples, at least 1.
    random_state : int
    n_init : int
        k-means++ restarts of each resample's fit.
    progress : callable, optional
        Called as ``progress(done, n_boot)`` after each resample.

    Returns
    -------
    Bootstrap
    """
    if n_boot < 1:
        raise SegmentationError(f"{n_boot} resamples is not valid: use 1 or more (50 is usual).")
    n = len(X)
    rng = np.random.default_rng(random_state)
    out = np.empty((n_boot, n_clusters))
    for b in range(n_boot):
        draw = rng.integers(0, n, n)
        while np.unique(draw).size < n_clusters:
            draw = rng.integers(0, n, n)
        out[b] = _resample_jaccard(X, labels, n_clusters, draw, int(rng.integers(2**31)), n_init)
        if progress is not None:
            progress(b + 1, n_boot)
    return Bootstrap(jaccard=out, per_segment=_summarize_jaccard(out), n_boot=n_boot)


def _summarize_jaccard(jaccard: np.ndarray) -> pd.DataFrame:
    """Per segment: mean Jaccard, its band, and resamples dissolved in and recovered in.

    Parameters
    ----------
    jaccard : ndarray of shape (n_boot, n_clusters)
        Best Jaccard of each segment in each resample.

    Returns
    -------
    DataFrame
        segment, mean_jaccard, band, dissolved (count of Jaccard <= 0.5),
        recovered (count of Jaccard > 0.75).
    """
    mean = jaccard.mean(axis=0)
    return pd.DataFrame({
        "segment": np.arange(jaccard.shape[1]),
        "mean_jaccard": mean,
        "band": [_band(v, JACCARD_BANDS) for v in mean],
        "dissolved": (jaccard <= DISSOLVED).sum(axis=0),
        "recovered": (jaccard > RECOVERED).sum(axis=0),
    })


def _best_jaccard(original: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each original segment, the largest Jaccard similarity with any segment of ``other``."""
    k_other = int(other.max()) + 1 if other.size else 0
    both = np.zeros((k, k_other))
    np.add.at(both, (original, other), 1)
    size_o = both.sum(axis=1, keepdims=True)
    size_r = both.sum(axis=0, keepdims=True)
    union = size_o + size_r - both
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, both / union, 0.0)
    return jac.max(axis=1) if k_other else np.zeros(k)


def small_segment_check(seg: Segmentation, halves: SplitHalf | None,
                        boot: Bootstrap | None) -> tuple[str, ...]:
    """For each segment under 10% of customers: does it survive the halves and the bootstrap?"""
    out = []
    for s, share in enumerate(seg.shares):
        if share >= SMALL_SEGMENT_SHARE:
            continue
        parts = [f"Segment {s} holds {share:.0%} of customers"]
        if boot is not None:
            row = boot.per_segment.loc[s]
            parts.append(f"its bootstrap Jaccard is {row['mean_jaccard']:.2f} ({row['band']}), "
                         f"dissolving in {int(row['dissolved'])} of {boot.n_boot} resamples")
        if halves is not None:
            found = [_counterpart(seg, s, centers, sizes)
                     for centers, sizes in ((halves.centers_a, halves.sizes_a),
                                            (halves.centers_b, halves.sizes_b))]
            parts.append("a segment of that kind appears in both halves" if all(found)
                         else "it does not appear in both halves")
        out.append("; ".join(parts) + ".")
    return tuple(out)


def _counterpart(seg: Segmentation, s: int, centers: np.ndarray, sizes) -> bool:
    """Whether a half has a segment of the same kind as segment ``s``.

    Its closest half-segment must have ``s`` as its own closest original
    segment (mutual nearest centres) and hold at least half of ``s``'s share.
    """
    d = ((seg.centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    j = int(d[s].argmin())
    share = sizes[j] / max(sum(sizes), 1)
    return int(d[:, j].argmin()) == s and share >= 0.5 * seg.shares[s]


def data_size_warning(n_customers: int) -> str | None:
    """Plain guidance on how far clustering can be trusted at this size."""
    if n_customers < FEW_CUSTOMERS:
        return (f"Only {n_customers} customers: clustering this few is unreliable. "
                "RFM quintiles (recency, frequency, monetary value) or simple rules "
                "will serve better.")
    if n_customers < SOME_CUSTOMERS:
        return (f"{n_customers} customers is enough to cluster, but small segments will be "
                "shaky: check their bootstrap stability before acting on them.")
    return None


@dataclass(frozen=True)
class SegmentMatch:
    """How the segments of a new run correspond to those of a previous one."""

    pairs: dict[int, int]  # new segment -> previous segment
    distances: dict[int, float]  # new segment -> RMS profile gap to its match
    new_unmatched: tuple[int, ...]
    vanished: tuple[int, ...]  # previous segments with no counterpart


def _signature(profiles_z: pd.DataFrame) -> pd.DataFrame:
    """A segment's identity: its standardized profile (segments × variables).

    Standardized differences from the population are comparable across
    runs with different clustering variables, K or seed, unlike centres in
    each run's own scaled space.
    """
    return profiles_z.astype(float)


def match_segments(previous: pd.DataFrame, current: pd.DataFrame,
                   threshold: float = SAME_SEGMENT_RMS) -> SegmentMatch:
    """Match current segments to previous ones by their standardized profiles.

    Hungarian assignment on the root-mean-square gap over the variables both
    share; pairs further apart than ``threshold`` are not the same segment.
    """
    common = [c for c in current.columns if c in previous.columns]
    prev = previous[common].to_numpy(float)
    cur = current[common].to_numpy(float)
    gaps = np.sqrt(np.nanmean((cur[:, None, :] - prev[None, :, :]) ** 2, axis=2)) \
        if common else np.full((len(cur), len(prev)), np.inf)
    gaps = np.where(np.isfinite(gaps), gaps, 1e6)
    pairs, distances = {}, {}
    for c, p in _match(gaps) if len(cur) and len(prev) else []:
        if gaps[c, p] <= threshold:
            pairs[int(current.index[c])] = int(previous.index[p])
            distances[int(current.index[c])] = float(gaps[c, p])
    return SegmentMatch(
        pairs=pairs, distances=distances,
        new_unmatched=tuple(int(s) for s in current.index if int(s) not in pairs),
        vanished=tuple(int(s) for s in previous.index if int(s) not in pairs.values()),
    )
