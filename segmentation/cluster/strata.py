"""Segments within strata: customers split by one variable first, behaviour clustered in each part.

Lifecycle-first marketing segments in two levels: a stratum (an income band, a
region, a plan tier) and, inside it, the behavioural personas. When one
variable dominates a plain clustering (each segment its own income range),
clustering inside its strata finds the behaviour the plain run hides.

A spec reads like the command line's ``--strata``: ``"Income:3"`` (three
quantile bands), ``"Income:40000,70000"`` (bands at set cut-offs), ``"Income"``
(three quantile bands) or ``"Region"`` (one stratum per category value). The
fitted :class:`Strata` keeps the cut-offs learned at fit time and the category
values, so a saved model places new customers in the same strata.

Within each stratum K is chosen by the sweep's own rules
(:func:`segmentation.cluster.kmeans.sweep_k`); a stratum with too few
customers to cluster is one segment and says so. Segments are numbered
stratum by stratum (strata in their order, segments within a stratum by
descending total spend, as everywhere), and named
``"<stratum> · <persona>"`` against the stratum's own customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from segmentation.cluster.kmeans import (
    N_SPLITS,
    KSweep,
    Segmentation,
    SplitAgreement,
    _recommend_k,
    assign,
    segment,
    split_halves,
    sweep_k,
)
from segmentation.config import FEW_CUSTOMERS, MAX_CENTERS
from segmentation.data.dataset import Dataset
from segmentation.data.roles import Kind
from segmentation.describe.personas import Persona, suggest_personas
from segmentation.describe.profiles import profile_segments
from segmentation.errors import SegmentationError
from segmentation.prepare.features import FeatureMatrix, PrepConfig, prepare
from segmentation.summary import Summary
from segmentation.validate.stability import (
    ARI_BANDS,
    Bootstrap,
    SplitHalf,
    _band,
    _clusterboot,
    _match,
    _summarize_jaccard,
)

__all__ = ["StrataSpec", "Strata", "StratumFit", "StrataFit", "parse_strata", "fit_strata",
           "strata_candidates",
           "within_stratum", "to_stratum", "assign_within_strata", "behaviour_features",
           "segment_within_strata", "strata_bootstrap", "strata_split_half"]

# Between a stratum's label and its persona's name: "Mid Income · Wine lovers, web".
STRATA_SEPARATOR = " · "
# A bare numeric column is cut in this many quantile bands: low, mid and high.
DEFAULT_BANDS = 3
BAND_NAMES = ("Low", "Mid", "High")
# More strata than this are each too thin to cluster and too many to give a campaign
# each; a category with more values should be grouped first.
MAX_STRATA = 10
# A stratum with fewer customers is one segment: quality_warnings calls clustering this
# few unreliable, and a stratum is clustered on its own customers only.
MIN_STRATUM_CUSTOMERS = FEW_CUSTOMERS
# K preferred within a stratum when nearly as good as the best: the whole segmentation has
# strata × K segments, so two or three per stratum keep the total a team can act on
# (the plain run's three to five would make nine to fifteen over three strata).
STRATUM_PREFERRED_K = (2, 3)
# Within a stratum, prepared values are capped at this many (weighted) standard deviations
# from the stratum's mean: re-standardized on a few hundred customers, one extreme customer
# (an income of 2,447 with 1,725 spent on meat) sat 20 sd out and became a segment of its
# own at every K. Beyond 4 sd is under 0.01% of normal data, so real groups are untouched.
STRATUM_CAP_SD = 4.0
NUMERIC_KINDS = frozenset({Kind.MONEY, Kind.MEASURE})
CATEGORY_KINDS = frozenset({Kind.CATEGORY, Kind.BINARY})
QUANTILES, CUTS, CATEGORY = "quantiles", "cuts", "category"
# Stratum codes of customers that have none (never a stratum index).
NO_VALUE, UNSEEN = -1, -2


@dataclass(frozen=True)
class StrataSpec:
    """A parsed ``--strata`` spec: the column, and bands or cut-offs for a number."""

    column: str
    bands: int | None = None
    cuts: tuple[float, ...] | None = None

    @property
    def text(self) -> str:
        """The spec as the command line takes it, e.g. ``"Income:40000,70000"``.

        >>> StrataSpec("Income", cuts=(40000.0, 70000.5)).text
        'Income:40000,70000.5'
        """
        if self.cuts is None:
            return self.column if self.bands is None else f"{self.column}:{self.bands}"
        cuts = ",".join(str(int(c)) if float(c).is_integer() else repr(float(c))
                        for c in self.cuts)
        return f"{self.column}:{cuts}{',' if len(self.cuts) == 1 else ''}"


def parse_strata(text: str) -> StrataSpec:
    """Read a strata spec: ``"Income:3"``, ``"Income:40000,70000"``, ``"Income"`` or ``"Region"``.

    Examples
    --------
    >>> parse_strata("Income:3")
    StrataSpec(column='Income', bands=3, cuts=None)
    >>> parse_strata("Income:40000,70000").cuts
    (40000.0, 70000.0)
    """
    text = str(text).strip()
    column, sep, rest = text.rpartition(":")
    if not sep:
        column, rest = text, ""
    column, rest = column.strip(), rest.strip()
    if not column:
        raise SegmentationError(f"The strata spec {text!r} names no column: write e.g. "
                                "'Income:3' or 'Region'.")
    if not sep:
        return StrataSpec(column)
    parts = [p.strip() for p in rest.split(",")]
    if len(parts) == 1:
        try:
            bands = int(parts[0])
        except ValueError:
            raise SegmentationError(
                f"{parts[0]!r} after {column!r} is not a number of bands: write e.g. "
                f"'{column}:3' for three quantile bands or '{column}:40000,70000' for "
                "cut-offs.") from None
        if not 2 <= bands <= MAX_STRATA:
            raise SegmentationError(
                f"{column}:{bands} asks for {bands} bands: use 2 to {MAX_STRATA} bands "
                f"(for one cut-off write '{column}:{bands},').")
        return StrataSpec(column, bands=bands)
    cuts = []
    for part in (p for p in parts if p):
        try:
            value = float(part.replace("_", ""))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise SegmentationError(f"The cut-off {part!r} of {column!r} is not a number: "
                                    f"write e.g. '{column}:40000,70000'.")
        cuts.append(value)
    if not cuts or len(cuts) >= MAX_STRATA or any(b <= a for a, b in pairwise(cuts)):
        raise SegmentationError(
            f"The cut-offs of {column!r} must be 1 to {MAX_STRATA - 1} numbers in increasing "
            f"order: write e.g. '{column}:40000,70000'.")
    return StrataSpec(column, cuts=tuple(cuts))


def _figure(value: float) -> str:
    """A band edge as people write it: 40,000, 2.5, 0.35."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@dataclass(frozen=True)
class Strata:
    """The strata as fitted: enough to place any customer in one, with no refitting.

    Attributes
    ----------
    column : str
        The stratifying column of the file.
    kind : {"quantiles", "cuts", "category"}
    cuts : tuple of float
        Band edges of a number (a value on an edge goes to the band above).
    values : tuple of str
        The category values, one stratum each.
    labels : tuple of str
        Each stratum's name, e.g. "Mid Income", "Income 40,000–70,000" or "North".
    segments : tuple of int
        The stratum of each segment, once segments are fitted.
    shift, spread : tuple of tuple of float
        Per stratum, the re-standardization of the prepared variables within it (see
        :func:`within_stratum`), once segments are fitted.
    """

    column: str
    kind: str
    cuts: tuple[float, ...]
    values: tuple[str, ...]
    labels: tuple[str, ...]
    segments: tuple[int, ...] = ()
    shift: tuple[tuple[float, ...], ...] = ()
    spread: tuple[tuple[float, ...], ...] = ()

    @property
    def n_strata(self) -> int:
        return len(self.labels)

    def codes(self, values: pd.Series) -> np.ndarray:
        """The stratum of each value: :data:`NO_VALUE` when missing, :data:`UNSEEN` when a
        category value the strata were not fitted on."""
        if self.kind == CATEGORY:
            index = {v: i for i, v in enumerate(self.values)}
            text = values.astype(object)
            out = np.array([NO_VALUE if pd.isna(v) else index.get(str(v), UNSEEN)
                            for v in text], dtype=np.intp)
            return out
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        out = np.searchsorted(np.asarray(self.cuts, dtype=float), x, side="right")
        return np.where(np.isfinite(x), out, NO_VALUE).astype(np.intp)

    def reasons(self) -> dict[int, str]:
        """Why a customer with each non-stratum code has no segment."""
        return {NO_VALUE: f"no value of {self.column}, the variable the segments are "
                          "stratified by",
                UNSEEN: f"a {self.column} value none of the model's strata holds"}

    def to_dict(self) -> dict:
        return {"column": self.column, "kind": self.kind, "cuts": list(self.cuts),
                "values": list(self.values), "labels": list(self.labels),
                "segments": list(self.segments), "shift": [list(v) for v in self.shift],
                "spread": [list(v) for v in self.spread]}

    @classmethod
    def from_dict(cls, data: dict) -> Strata:
        return cls(column=str(data["column"]), kind=str(data["kind"]),
                   cuts=tuple(float(c) for c in data["cuts"]),
                   values=tuple(str(v) for v in data["values"]),
                   labels=tuple(str(v) for v in data["labels"]),
                   segments=tuple(int(s) for s in data["segments"]),
                   shift=tuple(tuple(float(x) for x in v) for v in data["shift"]),
                   spread=tuple(tuple(float(x) for x in v) for v in data["spread"]))


def strata_candidates(dataset: Dataset) -> dict[str, str]:
    """The columns that can make strata, each with the spec it starts from.

    A number starts as three quantile bands (``"Income:3"``); a category or yes/no column
    with 2 to :data:`MAX_STRATA` values as one stratum per value (``"Region"``).

    Examples
    --------
    >>> strata_candidates(dataset)  # doctest: +SKIP
    {'Income': 'Income:3', 'Education': 'Education', ...}
    """
    out = {}
    for col in dataset.frame.columns:
        kind = dataset.kind(col) if col in dataset.roles else None
        if kind in NUMERIC_KINDS and dataset.frame[col].nunique() > DEFAULT_BANDS:
            out[col] = f"{col}:{DEFAULT_BANDS}"
        elif kind == Kind.CATEGORY and 2 <= dataset.frame[col].nunique() <= MAX_STRATA:
            out[col] = col
    return out


def fit_strata(dataset: Dataset, spec: StrataSpec | str, customer_ids: pd.Index | None = None,
               label: str | None = None) -> Strata:
    """Learn the strata of ``spec`` from the customers ``customer_ids`` of ``dataset``.

    Parameters
    ----------
    dataset : Dataset
    spec : StrataSpec or str
        See :func:`parse_strata`.
    customer_ids : Index, optional
        The customers the strata are fitted on (quantiles, category values); default all.
    label : str, optional
        The column's display name in stratum labels; default the column's name.

    Returns
    -------
    Strata

    Raises
    ------
    SegmentationError
        An unknown column, a column that is neither a number nor a category, bands on a
        category, a category with more than :data:`MAX_STRATA` values, or bands that
        cannot be told apart.
    """
    spec = parse_strata(spec) if isinstance(spec, str) else spec
    col = spec.column
    if col not in dataset.roles:
        raise SegmentationError(f"{col!r} is not a column of the file: stratify by one of its "
                                "columns, e.g. an income or a region.")
    kind = dataset.kind(col)
    if col not in dataset.frame.columns or kind not in NUMERIC_KINDS | CATEGORY_KINDS:
        raise SegmentationError(f"{col!r} is read as {kind} and cannot make strata: stratify "
                                "by a number (income, age) or a category (region, plan).")
    values = dataset.frame[col]
    if customer_ids is not None:
        values = values.reindex(customer_ids)
    name = label or col
    if kind in CATEGORY_KINDS:
        if spec.bands is not None or spec.cuts is not None:
            raise SegmentationError(f"{col!r} is a category, so it takes no bands or "
                                    f"cut-offs: write just '{col}'.")
        found = sorted({str(v) for v in values.dropna()})
        if not 2 <= len(found) <= MAX_STRATA:
            raise SegmentationError(
                f"{col!r} has {len(found)} values, and strata need 2 to {MAX_STRATA}: "
                "choose a column with fewer values, or group its values first.")
        return Strata(column=col, kind=CATEGORY, cuts=(), values=tuple(found),
                      labels=tuple(found))
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise SegmentationError(f"{col!r} has no values to make strata from: choose "
                                "another column.")
    if spec.cuts is not None:
        kind_, cuts = CUTS, spec.cuts
        empty = [c for c in range(len(cuts) + 1)
                 if not np.any(np.searchsorted(cuts, x, side="right") == c)]
        if empty:
            raise SegmentationError(
                f"No customer falls in band {empty[0] + 1} of {col!r} at cut-offs "
                f"{', '.join(map(_figure, cuts))}: choose cut-offs between "
                f"{_figure(x.min())} and {_figure(x.max())}.")
    else:
        bands = spec.bands or DEFAULT_BANDS
        kind_ = QUANTILES
        cuts = tuple(float(c) for c in np.quantile(x, np.arange(1, bands) / bands))
        if len(set(cuts)) < len(cuts) or cuts[0] <= x.min():
            raise SegmentationError(
                f"Too many customers share the same {col!r} values for {bands} equal bands: "
                f"use fewer bands or give cut-offs, e.g. '{col}:{_figure(np.median(x))},'.")
    if kind_ == QUANTILES and len(cuts) + 1 == len(BAND_NAMES):
        labels = tuple(f"{b} {name}" for b in BAND_NAMES)
    else:
        edges = [float(x.min()), *cuts, float(x.max())]
        labels = tuple(f"{name} {_figure(lo)}–{_figure(hi)}"
                       for lo, hi in pairwise(edges))
    return Strata(column=col, kind=kind_, cuts=tuple(cuts), values=(), labels=labels)


def within_stratum(X: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray]:
    """The shift and spread that re-standardize prepared rows within one stratum.

    File-wide, a variable's spread is mostly the spread between strata (spend grows with
    income), so a stratum's own differences would look tiny beside a variable that is
    noise everywhere. Within the stratum each variable gets mean 0 and standard deviation
    ``sqrt(weight)`` again, so the user's weights still count; a variable constant in the
    stratum keeps spread 1 (it becomes all zeros). Outliers were already clipped or logged
    by the file-wide preparation, so the mean and standard deviation serve here.

    Returns
    -------
    shift, spread : ndarray of shape (n_features,)
        :func:`to_stratum` maps rows into the stratum's clustering space with them.
    """
    shift = X.mean(axis=0)
    sd = X.std(axis=0)
    spread = np.where(sd > 0, sd / np.sqrt(np.asarray(weights, dtype=float)), 1.0)
    return shift, spread


def to_stratum(X: np.ndarray, shift, spread, weights) -> np.ndarray:
    """Prepared rows in a stratum's clustering space: ``(X - shift) / spread``, each variable
    capped at :data:`STRATUM_CAP_SD` standard deviations (``sqrt(weight)`` each)."""
    cap = STRATUM_CAP_SD * np.sqrt(np.asarray(weights, dtype=float))
    return np.clip((X - np.asarray(shift)) / np.asarray(spread), -cap, cap)


def assign_within_strata(X: np.ndarray, codes: np.ndarray, centers: np.ndarray,
                         strata: Strata, weights) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre among the centres of each row's own stratum, in that stratum's space.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Prepared rows (the file-wide space).
    codes : ndarray of int
        Each row's stratum; rows with a negative code get segment -1 and distance NaN.
    centers : ndarray of shape (n_segments, n_features)
        Each in its own stratum's space.
    strata : Strata
        Fitted: ``segments``, ``shift`` and ``spread``.
    weights : sequence of float
        The variables' weights (the preparation's).

    Returns
    -------
    labels, distances : ndarray

    Examples
    --------
    >>> strata = Strata("x", CUTS, (5.0,), (), ("low", "high"), segments=(0, 1, 1),
    ...                 shift=((0.0,), (0.0,)), spread=((1.0,), (1.0,)))
    >>> X = np.array([[0.0], [0.0], [9.0]])
    >>> assign_within_strata(X, np.array([0, 1, 1]), np.array([[1.0], [5.0], [8.0]]), strata, [4.0])
    (array([0, 1, 2]), array([1., 5., 1.]))
    """
    segment_strata = np.asarray(strata.segments, dtype=np.intp)
    labels = np.full(len(X), -1, dtype=np.intp)
    distances = np.full(len(X), np.nan)
    for s in np.unique(segment_strata):
        rows = np.flatnonzero(codes == s)
        own = np.flatnonzero(segment_strata == s)
        if rows.size:
            Xs = to_stratum(X[rows], strata.shift[s], strata.spread[s], weights)
            local, d = assign(Xs, centers[own])
            labels[rows], distances[rows] = own[local], d
    return labels, distances


@dataclass(frozen=True)
class StratumFit:
    """One stratum's customers, its K and why."""

    stratum: int
    label: str
    n_customers: int
    n_clusters: int
    first_segment: int
    silhouette: float
    reason: str
    sweep: KSweep | None  # None when the stratum is one segment or K was given


@dataclass(frozen=True)
class StrataFit:
    """Segments found within strata, put together as one segmentation.

    Attributes
    ----------
    strata : Strata
        With ``segments``, the stratum of each segment.
    fits : tuple of StratumFit
    features : FeatureMatrix
        The customers segmented (those with a stratum), without the stratifying variable
        among the clustering variables.
    segmentation : Segmentation
        Every segment of every stratum; centres, distances and silhouettes are in each
        stratum's own space (:func:`within_stratum`), silhouettes comparing customers with
        the other segments of their own stratum (NaN in a one-segment stratum).
    sweep : KSweep
        One row: the whole segmentation's figures; ``reason`` gives each stratum's K.
    personas : tuple of Persona
        Named against their stratum, prefixed with its label.
    left_out : tuple of str
        Clustering variables left out because they are the stratifying variable.
    mix : bool
        The default set was replaced by :func:`behaviour_features` (shares, not amounts).
    """

    strata: Strata
    fits: tuple[StratumFit, ...]
    features: FeatureMatrix
    segmentation: Segmentation
    sweep: KSweep
    personas: tuple[Persona, ...]
    left_out: tuple[str, ...]
    mix: bool = False

    def table(self) -> pd.DataFrame:
        """One row per stratum: ``stratum``, ``customers``, ``k``, ``silhouette``,
        ``stability`` (median split-half agreement at that K, when measured), ``reason``."""
        rows = []
        for f in self.fits:
            stability = np.nan
            if f.sweep is not None and "stability" in f.sweep.metrics:
                stability = float(f.sweep.row(f.n_clusters)["stability"])
            rows.append({"stratum": f.label, "customers": f.n_customers, "k": f.n_clusters,
                         "silhouette": f.silhouette, "stability": stability,
                         "reason": f.reason})
        return pd.DataFrame(rows)

    def summary(self) -> Summary:
        """Each stratum's K and quality, and why.

        Returns
        -------
        Summary
            ``table`` is :meth:`table`.
        """
        notes = [f"{f.label}: {f.reason}" for f in self.fits]
        if self.left_out:
            notes.append(f"Not clustered on inside strata (nearly constant there), still "
                         f"profiled: {', '.join(self.left_out)}.")
        if self.mix:
            notes.append("Within strata the standard set clusters on the mix (shares of spend "
                         "and of purchases, and total spend once) rather than the amounts, "
                         "which inside a stratum mostly restate its spend level: "
                         f"{', '.join(self.features.features)}.")
        notes.append("Each stratum's variables are standardized within it, so its own "
                     "differences are not drowned by the differences between strata.")
        notes.append("Silhouettes compare each customer with the other segments of their "
                     "own stratum.")
        return Summary(title=f"Segments within {self.strata.n_strata} strata of "
                             f"{self.strata.column}",
                       verdict=self.sweep.reason, table=self.table(), notes=tuple(notes))


def _without_column(fm: FeatureMatrix, column: str) -> tuple[FeatureMatrix, tuple[str, ...]]:
    """``fm`` without the clustering variables built from ``column``, and their names."""
    out = tuple(f for f in fm.features
                if column in getattr(fm.variables.get(f), "sources", (f,)) or f == column)
    if not out:
        return fm, ()
    keep = [i for i, f in enumerate(fm.features) if f not in out]
    if not keep:
        raise SegmentationError(
            f"{column!r} is the only clustering variable, so nothing is left to cluster within "
            "its strata: choose behaviour variables (spend, channels) as well.")
    prep = fm.preparation
    prep = replace(prep, features=tuple(prep.features[i] for i in keep),
                   center=tuple(prep.center[i] for i in keep),
                   scale=tuple(prep.scale[i] for i in keep),
                   weights=tuple(prep.weights[i] for i in keep),
                   log_features=tuple(f for f in prep.log_features if f not in out))
    return replace(fm, X=fm.X[:, keep], features=prep.features, preparation=prep), out


# Within a stratum the default set clusters on the mix: each amount or count of a kind here
# is replaced by its share (same detail), since inside an income band the amounts mostly
# restate the spend level the band already fixes; the level itself stays as one variable.
MIX_OF = {"spend": "spend_share", "channel": "channel_share"}
LEVEL_KIND = "total_spend"


def behaviour_features(fm: FeatureMatrix, column: str) -> tuple[str, ...]:
    """The default clustering set within strata of ``column``: the mix, not the amounts.

    Every clustering variable of ``fm`` except those built from ``column``; a spend amount
    or a channel count is replaced by its share of spend or purchases (when the file has
    it), and the total spend is added once when anything was replaced.

    Examples
    --------
    With the retail columns, ``("age", "MntWines", "NumWebPurchases", "Income")`` within
    strata of Income becomes ``("age", "share_MntWines", "channel_share_NumWebPurchases",
    "total_spend")``.
    """
    variables = fm.variables
    shares = {(v.kind, v.detail): n for n, v in variables.items()}
    out, replaced = [], False
    for name in fm.features:
        var = variables.get(name)
        if var is None or column in var.sources:
            continue
        share = shares.get((MIX_OF.get(var.kind), var.detail))
        replaced |= share is not None
        out.append(share or name)
    level = next((n for n, v in variables.items() if v.kind == LEVEL_KIND), None)
    if replaced and level is not None:
        out.append(level)
    return tuple(dict.fromkeys(out))


def _rows(fm: FeatureMatrix, keep: np.ndarray, reasons: dict[str, str]) -> FeatureMatrix:
    """``fm`` restricted to the rows ``keep``; the others excluded with their reason."""
    if keep.all():
        return fm
    report = fm.report
    left = pd.Series(reasons)
    dropped = dict(report.dropped)
    for reason, count in left.value_counts().items():
        dropped[reason] = dropped.get(reason, 0) + int(count)
    report = replace(report, dropped=dropped,
                     excluded_ids={**report.excluded_ids, **reasons})
    return replace(fm, X=fm.X[keep], frame=fm.frame.iloc[keep], report=report)


def _one_segment(fm: FeatureMatrix, random_state: int, n_init: int) -> Segmentation:
    """A stratum too small to cluster: all its customers in one segment."""
    center = fm.X.mean(axis=0, keepdims=True)
    distances = np.linalg.norm(fm.X - center, axis=1)
    return Segmentation(labels=np.zeros(len(fm.X), dtype=np.intp), centers=center,
                        n_clusters=1, inertia=float((distances ** 2).sum()),
                        silhouette=np.nan, silhouette_values=np.full(len(fm.X), np.nan),
                        silhouette_sample_size=None, distances=distances,
                        customer_ids=fm.customer_ids, random_state=random_state,
                        n_init=n_init)


def _fit_stratum(fm_s: FeatureMatrix, label: str, k_values, k: int | None,
                 random_state: int, n_init: int, stability: bool):
    """The segmentation of one stratum, its K's reason, and its sweep (or None)."""
    n = fm_s.n_customers
    if n < max(MIN_STRATUM_CUSTOMERS, 2 * max(k or 0, *k_values)):
        return (_one_segment(fm_s, random_state, n_init),
                f"{label} has {n:,} customers, too few to cluster (under "
                f"{max(MIN_STRATUM_CUSTOMERS, 2 * max(k or 0, *k_values)):,}), so it is one "
                "segment.", None)
    if k is not None:
        return segment(fm_s, k, random_state, n_init), f"K = {k} was chosen by hand.", None
    sweep = sweep_k(fm_s, k_values, random_state, n_init, stability=stability)
    k_s, reason = _recommend_k(sweep.metrics, sweep.knee_k, STRATUM_PREFERRED_K)
    sweep = replace(sweep, recommended_k=k_s, reason=reason)
    return segment(fm_s, k_s, random_state, n_init, sweep=sweep), reason, sweep


def _stratum_personas(fm_s: FeatureMatrix, seg: Segmentation, label: str,
                      first: int) -> list[Persona]:
    """Personas named against the stratum's own customers, numbered in the whole run."""
    personas = suggest_personas(profile_segments(fm_s, seg))
    population = f"all of {label}"
    return [replace(p, segment=first + p.segment, name=f"{label}{STRATA_SEPARATOR}{p.name}",
                    # The figures in the description are the stratum's, not everyone's.
                    description=p.description.replace("(everyone: ", f"({population}: ")
                    .replace("% of customers (", f"% of {label} customers (", 1)
                    .replace("% of revenue", "% of their revenue", 1),
                    claims=tuple(replace(c, segment=first + c.segment, population=population)
                                 for c in p.claims))
            for p in personas]


def segment_within_strata(fm: FeatureMatrix, dataset: Dataset, spec: StrataSpec | str,
                          k_values=range(2, 7), k: int | None = None,
                          random_state: int = 42, n_init: int = 10,
                          stability: bool = False, label: str | None = None,
                          prep: PrepConfig | None = None) -> StrataFit:
    """Cluster the customers within each stratum, choosing K per stratum, and name them.

    Parameters
    ----------
    fm : FeatureMatrix
        The prepared customers; clustering variables built from the stratifying column are
        left out (and still profiled).
    dataset : Dataset
        Where the stratifying column's values are read (as in the file, before imputing).
    spec : StrataSpec or str
        See :func:`parse_strata`.
    k_values : iterable of int
        The Ks tried in each stratum.
    k : int, optional
        The K of every stratum large enough to cluster; default each stratum's recommended K
        (:func:`segmentation.cluster.kmeans.sweep_k`'s rules, preferring
        :data:`STRATUM_PREFERRED_K`).
    random_state, n_init : int
    stability : bool
        Measure split-half agreement per K in each stratum's sweep (and apply its rule).
    label : str, optional
        The stratifying column's display name.
    prep : PrepConfig, optional
        The settings ``fm`` was prepared with. When they leave the clustering variables to
        the default set, the customers are prepared again on :func:`behaviour_features`.

    Returns
    -------
    StrataFit
        Customers without a value of the stratifying column are left out, counted under
        their reason in ``features.report.dropped``.
    """
    k_values = sorted({int(v) for v in k_values})
    strata = fit_strata(dataset, spec, fm.customer_ids, label)
    left_out = _without_column(fm, strata.column)[1]
    mix = prep is not None and prep.features is None
    if mix:
        fm = prepare(dataset, replace(prep, features=behaviour_features(fm, strata.column)))
    fm = _without_column(fm, strata.column)[0]
    codes = strata.codes(dataset.frame[strata.column].reindex(fm.customer_ids))
    reasons = strata.reasons()
    fm = _rows(fm, codes >= 0, {str(i): reasons[c] for i, c
                                in zip(fm.customer_ids[codes < 0], codes[codes < 0], strict=True)})
    codes = codes[codes >= 0]
    fits, segs, personas, first, shifts, spreads = [], [], [], 0, [], []
    for s, stratum_label in enumerate(strata.labels):
        rows = np.flatnonzero(codes == s)
        shift, spread = within_stratum(fm.X[rows], fm.preparation.weights)
        shifts.append(tuple(map(float, shift)))
        spreads.append(tuple(map(float, spread)))
        fm_s = replace(fm, X=to_stratum(fm.X[rows], shift, spread, fm.preparation.weights),
                       frame=fm.frame.iloc[rows])
        seg, reason, sweep = _fit_stratum(fm_s, stratum_label, k_values, k, random_state,
                                          n_init, stability)
        fits.append(StratumFit(stratum=s, label=stratum_label, n_customers=rows.size,
                               n_clusters=seg.n_clusters, first_segment=first,
                               silhouette=float(seg.silhouette), reason=reason, sweep=sweep))
        segs.append((rows, seg))
        if rows.size:
            personas += _stratum_personas(fm_s, seg, stratum_label, first)
        first += seg.n_clusters
    if first > MAX_CENTERS:
        raise SegmentationError(f"These strata make {first} segments, more than the "
                                f"{MAX_CENTERS} a model holds: use fewer strata or a smaller K.")
    seg = _combined(fm, segs, first, random_state, n_init)
    strata = replace(strata, segments=tuple(f.stratum for f in fits
                                            for _ in range(f.n_clusters)),
                     shift=tuple(shifts), spread=tuple(spreads))
    return StrataFit(strata=strata, fits=tuple(fits), features=fm, segmentation=seg,
                     sweep=_combined_sweep(strata, fits, seg), personas=tuple(personas),
                     left_out=left_out, mix=mix)


def _combined(fm: FeatureMatrix, segs, n_clusters: int, random_state: int,
              n_init: int) -> Segmentation:
    """Every stratum's segmentation as one, segments numbered stratum after stratum."""
    n = fm.n_customers
    labels = np.empty(n, dtype=np.intp)
    silhouettes, distances = np.full(n, np.nan), np.empty(n)
    centers, first, sampled = [], 0, False
    for rows, seg in segs:
        labels[rows] = first + seg.labels
        silhouettes[rows] = seg.silhouette_values
        distances[rows] = seg.distances
        centers.append(seg.centers)
        first += seg.n_clusters
        sampled |= seg.silhouette_sample_size is not None
    known = np.isfinite(silhouettes)
    return Segmentation(
        labels=labels, centers=np.vstack(centers), n_clusters=n_clusters,
        inertia=float(sum(seg.inertia for _, seg in segs)),
        silhouette=float(silhouettes[known].mean()) if known.any() else np.nan,
        silhouette_values=silhouettes,
        silhouette_sample_size=int(known.sum()) if sampled else None,
        distances=distances, customer_ids=fm.customer_ids, random_state=random_state,
        n_init=n_init)


def _combined_sweep(strata: Strata, fits, seg: Segmentation) -> KSweep:
    """The whole segmentation as a one-row sweep, its reason naming each stratum's K."""
    metrics = pd.DataFrame([{
        "k": seg.n_clusters, "inertia": seg.inertia, "silhouette": seg.silhouette,
        # Calinski–Harabasz and Davies–Bouldin compare segments of different strata, which
        # were never meant to be apart in the clustering variables: not computed.
        "calinski_harabasz": np.nan, "davies_bouldin": np.nan,
        "min_share": float(seg.shares.min())}])
    ks = ", ".join(f"{f.label} K = {f.n_clusters}" for f in fits)
    reason = (f"{seg.n_clusters} segments within {strata.n_strata} strata of "
              f"{strata.column} ({ks}); each stratum's K follows the usual rules, preferring "
              f"{STRATUM_PREFERRED_K[0]} to {STRATUM_PREFERRED_K[1]} per stratum, and "
              "silhouettes are within each stratum.")
    return KSweep(metrics=metrics, recommended_k=seg.n_clusters, reason=reason, knee_k=None,
                  silhouette_sample_size=seg.silhouette_sample_size,
                  random_state=seg.random_state, n_init=seg.n_init)


def strata_bootstrap(fit: StrataFit, n_boot: int = 50, random_state: int = 42,
                     n_init: int = 10, progress=None) -> Bootstrap:
    """Hennig's clusterboot of segments found within strata, stratum by stratum.

    Each stratum's customers are resampled and re-clustered on their own, with the
    stratum's K in the stratum's space (:func:`segmentation.validate.stability._clusterboot`,
    seeded ``random_state + stratum``), since that is how its segments were found; a
    bootstrap of the whole file with one k-means would test a clustering that was never
    run. The strata themselves are held fixed. A one-segment stratum is its own segment in
    every resample (Jaccard 1 by construction).

    Returns
    -------
    Bootstrap
        One column of ``jaccard`` per segment of the whole run, in its numbering.
    """
    seg = fit.segmentation
    jaccard = np.ones((n_boot, seg.n_clusters))
    clustered = [f for f in fit.fits if f.n_clusters > 1]
    for i, f in enumerate(clustered):
        rows, X = _stratum_space(fit, f)

        def done(b, total, before=i * n_boot):
            if progress is not None:
                progress(before + b, len(clustered) * total)

        boot = _clusterboot(X, seg.labels[rows] - f.first_segment, f.n_clusters, n_boot,
                            random_state + f.stratum, n_init, done)
        jaccard[:, f.first_segment:f.first_segment + f.n_clusters] = boot.jaccard
    return Bootstrap(jaccard=jaccard, per_segment=_summarize_jaccard(jaccard), n_boot=n_boot)


def _stratum_space(fit: StrataFit, f: StratumFit) -> tuple[np.ndarray, np.ndarray]:
    """The rows of one stratum (positions in the run) and their clustering space."""
    stratum_of = np.asarray(fit.strata.segments)[fit.segmentation.labels]
    rows = np.flatnonzero(stratum_of == f.stratum)
    X = to_stratum(fit.features.X[rows], fit.strata.shift[f.stratum],
                   fit.strata.spread[f.stratum], fit.features.preparation.weights)
    return rows, X


def _split_agreement(fit: StrataFit, seed: int, n_init: int) -> float:
    """One split's agreement: each stratum's halves, ARI within it, weighted by its size."""
    values, weights = [], []
    for f in (f for f in fit.fits if f.n_clusters > 1):
        _, X = _stratum_space(fit, f)
        _, ((_, centers_a, _), (_, centers_b, _)) = split_halves(X, f.n_clusters, seed,
                                                                 n_init)
        values.append(adjusted_rand_score(assign(X, centers_a)[0], assign(X, centers_b)[0]))
        weights.append(len(X))
    return float(np.average(values, weights=weights)) if values else 1.0


def strata_split_half(fit: StrataFit, random_state: int = 42, n_init: int = 10,
                      n_splits: int = N_SPLITS) -> SplitHalf:
    """Split-half replication of segments found within strata, stratum by stratum.

    Split ``i`` (seeded ``random_state + i``) halves every stratum's customers at random
    (:func:`segmentation.cluster.kmeans.split_halves`) and clusters each half with the
    stratum's K in the stratum's space, as the run did; the two half-models label the
    stratum's customers and agree by the adjusted Rand index. A split's figure is the
    mean of the strata's, weighted by their customers. Agreement is measured within
    strata only: the strata are the same in both halves, and counting them would inflate
    it. One-segment strata agree by construction and are left out of the figure, but
    shown as pairs.

    Returns
    -------
    SplitHalf
        In the run's segment numbering; the split shown is the median one.
    """
    seeds = tuple(random_state + i for i in range(n_splits))
    # One after another, not on threads: see SWEEP_THREADS.
    values = [_split_agreement(fit, seed, n_init) for seed in seeds]
    agreement = SplitAgreement(values=tuple(values), seeds=seeds, rows=None)
    seed = agreement.median_seed
    frame = fit.features.frame.select_dtypes("number")
    k = fit.segmentation.n_clusters
    pairs, centers_a, centers_b = [], [], []
    sizes_a, sizes_b = np.zeros(k, dtype=int), np.zeros(k, dtype=int)
    means_a, means_b = {}, {}
    for f in fit.fits:
        rows, X = _stratum_space(fit, f)
        if f.n_clusters > 1:
            halves, ((labels_a, c_a, _), (labels_b, c_b, _)) = split_halves(
                X, f.n_clusters, seed, n_init)
        else:
            halves = np.array_split(np.random.default_rng(seed).permutation(len(X)), 2)
            labels_a, labels_b = (np.zeros(len(h), dtype=np.intp) for h in halves)
            c_a, c_b = (X[h].mean(axis=0, keepdims=True) for h in halves)
        cost = ((c_a[:, None, :] - c_b[None, :, :]) ** 2).sum(axis=2)
        first = f.first_segment
        pairs += [(first + a, first + b) for a, b in _match(cost)]
        centers_a.append(c_a)
        centers_b.append(c_b)
        for sizes, means, half, labels in ((sizes_a, means_a, halves[0], labels_a),
                                           (sizes_b, means_b, halves[1], labels_b)):
            sizes[first:first + f.n_clusters] = np.bincount(labels, minlength=f.n_clusters)
            grouped = frame.iloc[rows[half]].groupby(labels).mean()
            means.update({first + int(s): row for s, row in grouped.iterrows()})
    profiles = pd.DataFrame([
        {"half": half, "pair": pair, "segment": seg, "variable": var, "mean": float(value)}
        for pair, (a, b) in enumerate(pairs)
        for half, seg, means in (("A", a, means_a), ("B", b, means_b))
        for var, value in means[seg].items()])
    differences = pd.DataFrame([means_b[b] - means_a[a] for a, b in pairs]).reset_index(
        drop=True)
    differences.index.name = "pair"
    return SplitHalf(ari=agreement.median, agreement=agreement,
                     verdict=_band(agreement.median, ARI_BANDS), pairs=tuple(pairs),
                     sizes_a=tuple(int(v) for v in sizes_a),
                     sizes_b=tuple(int(v) for v in sizes_b),
                     profiles=profiles, differences=differences,
                     centers_a=np.vstack(centers_a), centers_b=np.vstack(centers_b))
