"""What drives the segments: how much of each variable the segments explain.

A segmentation meant to find behaviour can end up cutting one demographic or money
variable into bands (low, middle and high income). :func:`segment_drivers` measures,
for every variable of the run (clustered on or only profiled), the share of its
variance that lies between segments, and for demographic and money variables how much
the segments' middle-50% ranges overlap; :func:`split_warning` says so in one sentence
when one such variable is what the segments mostly are.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.config import CONSTANT_SPREAD, SPLIT_BANDS, SPLIT_ETA2, SPLIT_MAX_IQR_OVERLAP
from segmentation.prepare.features import FeatureMatrix
from segmentation.prepare.variables import CATEGORY_KINDS, Variable

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

__all__ = ["DEMOGRAPHIC_KINDS", "MONEY_KINDS", "SPEND_KINDS", "BEHAVIOUR_KINDS",
           "DRIVER_COLUMNS", "SplitWarning", "eta_squared", "iqr_overlap", "role_of",
           "run_drivers", "segment_drivers", "segment_ranges", "split_warning"]

#: Variable kinds that describe who a customer is rather than what they do.
DEMOGRAPHIC_KINDS = frozenset({"income", "age", "children", "household_size", "education",
                               "tenure"})
#: Variable kinds that are amounts of money a customer holds or is charged (a balance, a
#: fee): levels, not behaviour. Spend is counted apart: how much a customer buys is
#: something they do, and a value tier is a segmentation a marketer can act on.
MONEY_KINDS = frozenset({"money"})
#: Variable kinds that are amounts spent.
SPEND_KINDS = frozenset({"spend", "total_spend"})
#: Variable kinds that describe what customers do: their mix, channels, rhythm.
BEHAVIOUR_KINDS = frozenset({"spend_share", "channel_share", "channel", "total_purchases",
                             "deals", "web_visits", "recency", "overdue"})
#: Roles whose middle-50% ranges are compared, and those that can be the warned-of split.
RANGED_ROLES = frozenset({"demographic", "money", "spend"})
SPLIT_ROLES = frozenset({"demographic", "money"})
DRIVER_COLUMNS = ("variable", "label", "group", "kind", "role", "clustered", "eta2",
                  "iqr_overlap", "iqrs_disjoint")


def role_of(variable: Variable) -> str:
    """``"demographic"``, ``"money"``, ``"spend"``, ``"behaviour"`` or ``"other"``.

    Income is a demographic (who the customer is) as well as an amount; it counts as
    demographic.
    """
    if variable.kind in DEMOGRAPHIC_KINDS:
        return "demographic"
    if variable.kind in MONEY_KINDS:
        return "money"
    if variable.kind in SPEND_KINDS or (variable.kind == "composite" and variable.is_spend):
        return "spend"
    if variable.kind in BEHAVIOUR_KINDS:
        return "behaviour"
    return "other"


def eta_squared(values, labels) -> float:
    """The share of a variable's variance that lies between segments (eta squared).

    Between-segment sum of squares over the total sum of squares, on the rows where the
    value is present. A 2-D ``values`` (one 0/1 column per level of a category) gives the
    pooled eta squared of the indicators: the between sums of squares of every column over
    their total, which is the share of the squared distances k-means sees on those columns.

    Parameters
    ----------
    values : array-like of shape (n,) or (n, m)
    labels : array-like of int, shape (n,)

    Returns
    -------
    float
        In [0, 1]; NaN when the variable is constant (nothing to explain).

    Examples
    --------
    >>> eta_squared([1.0, 1.0, 5.0, 5.0], [0, 0, 1, 1])
    1.0
    >>> eta_squared([1.0, 5.0, 1.0, 5.0], [0, 0, 1, 1])
    0.0
    """
    y = np.asarray(values, dtype=float)
    y = y.reshape(len(y), -1)
    g = np.asarray(labels)
    present = np.isfinite(y).all(axis=1)
    y, g = y[present], g[present]
    if len(y) == 0:
        return float("nan")
    size = float(np.abs(y).max())
    # Centred first: a large offset (a year, an id-like amount) would otherwise cost digits.
    y = y - y.mean(axis=0)
    total = float((y ** 2).sum())
    # Constant, or constant to floating point (CONSTANT_SPREAD): nothing to explain. A cut-off
    # relative to the values' size, so a column in cents and the same in euros agree.
    if not total > len(y) * (CONSTANT_SPREAD * size) ** 2:
        return float("nan")
    codes, _ = pd.factorize(g)  # hashing, not sorting: a million customers in milliseconds
    sizes = np.bincount(codes).astype(float)
    sums = np.stack([np.bincount(codes, weights=y[:, j]) for j in range(y.shape[1])], axis=1)
    between = float(((sums ** 2) / sizes[:, None]).sum())
    return float(min(max(between / total, 0.0), 1.0))


def iqr_overlap(values, labels) -> float:
    """The largest overlap between two segments' middle-50% ranges, as a share of the narrower.

    Each segment's interquartile range is [25th, 75th percentile] of its present values.
    For every pair of segments the overlap is the length both ranges share divided by the
    narrower range's length; a range of zero length counts as fully overlapping when it lies
    inside (or on the edge of) the other, else not at all. The result is the largest over
    all pairs: 0 when every segment's middle half stands apart from every other's, 1 when
    one segment's middle half lies inside another's.

    Examples
    --------
    >>> iqr_overlap([1, 2, 3, 4, 11, 12, 13, 14], [0, 0, 0, 0, 1, 1, 1, 1])
    0.0
    """
    ranges = segment_ranges(values, labels)
    worst = 0.0
    for (lo_a, hi_a), (lo_b, hi_b) in combinations(ranges.values(), 2):
        shared = min(hi_a, hi_b) - max(lo_a, lo_b)
        narrower = min(hi_a - lo_a, hi_b - lo_b)
        share = float(shared >= 0) if narrower <= 0 else max(shared, 0.0) / narrower
        worst = max(worst, share)
    return float(worst)


def segment_ranges(values, labels) -> dict[int, tuple[float, float]]:
    """``{segment: (25th, 75th percentile)}`` of the present values, segments in order."""
    v, g = np.asarray(values, dtype=float), np.asarray(labels)
    present = np.isfinite(v)
    v, g = v[present], g[present]
    out = {}
    for segment in sorted(pd.unique(g)):
        low, high = np.quantile(v[g == segment], [0.25, 0.75])
        out[int(segment)] = (float(low), float(high))
    return out


def segment_drivers(fm: FeatureMatrix, labels, spend: Collection[str] = ()) -> pd.DataFrame:
    """How much each variable of a run differs between its segments, strongest first.

    Parameters
    ----------
    fm : FeatureMatrix
        The prepared run: every variable of ``fm.frame`` is measured, clustered on or not.
    labels : array-like of int
        Each customer's segment (the rows of ``fm.frame``).
    spend : collection of str
        Variables that are a customer's total spend whatever their kind (an order log's
        totals, ``OrderLog.log_features``): counted as spend, not as money levels.

    Returns
    -------
    DataFrame
        One row per variable: ``variable``, ``label``, ``group``, ``kind``, ``role``
        (see :func:`role_of`), ``clustered`` (bool), ``eta2`` (:func:`eta_squared`; a
        category is measured on its 0/1 level indicators, pooled), ``iqr_overlap``
        (:func:`iqr_overlap`, for numeric demographic, money and spend variables, else NaN)
        and ``iqrs_disjoint`` (``iqr_overlap`` at most ``SPLIT_MAX_IQR_OVERLAP``). Sorted
        by ``eta2``, largest first; constant variables (NaN ``eta2``) last.
    """
    labels = np.asarray(labels)
    clustered = _clustered_sources(fm)
    rows = []
    for name, var in fm.variables.items():
        if var.kind == "level" or name not in fm.frame.columns:
            continue  # a category is measured once, on all its levels together
        column = fm.frame[name]
        if var.kind in CATEGORY_KINDS:
            present = column.notna().to_numpy()
            indicators = pd.get_dummies(column.astype(str)).to_numpy(dtype=float, copy=True)
            indicators[~present] = np.nan
            eta2, overlap = eta_squared(indicators, labels), np.nan
        elif pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(dtype=float)
            eta2 = eta_squared(values, labels)
            overlap = (iqr_overlap(values, labels)
                       if _role(var, spend) in RANGED_ROLES and np.isfinite(eta2) else np.nan)
        else:
            continue
        rows.append({"variable": name, "label": var.label, "group": var.group,
                     "kind": var.kind, "role": _role(var, spend),
                     "clustered": name in clustered,
                     "eta2": eta2, "iqr_overlap": overlap,
                     "iqrs_disjoint": bool(np.isfinite(overlap)
                                           and overlap <= SPLIT_MAX_IQR_OVERLAP)})
    table = pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))
    return (table.sort_values("eta2", ascending=False, na_position="last", kind="stable")
            .reset_index(drop=True)
            .astype({"clustered": bool, "iqrs_disjoint": bool, "eta2": float,
                     "iqr_overlap": float}))


def _role(var: Variable, spend: Collection[str]) -> str:
    return "spend" if var.name in spend else role_of(var)


def run_drivers(result: SegmentationResult) -> tuple[pd.DataFrame, SplitWarning | None]:
    """:func:`segment_drivers` and :func:`split_warning` of a whole run.

    An order log's totals (the variables it log-scales: orders, net spend) count as
    behaviour and spend, as a customer table's total spend does.
    """
    global _last_run
    last = _last_run
    if last is not None and last[0]() is result:
        return last[1].copy(), last[2]
    log = result.dataset.log
    fm, labels = result.features, result.segmentation.labels
    drivers = segment_drivers(fm, labels, log.log_features if log is not None else ())
    warning = split_warning(fm, labels, drivers)
    _last_run = (weakref.ref(result), drivers.copy(), warning)
    return drivers, warning


# The last run's drivers, held while that (frozen) result lives: the command line asks for
# them twice, for summary.json and for the warning it prints, and at a million customers
# each time costs two seconds. A new result (``dataclasses.replace`` included) is a new
# object, so it is measured afresh.
_last_run: tuple[weakref.ref, pd.DataFrame, SplitWarning | None] | None = None


def _clustered_sources(fm: FeatureMatrix) -> set[str]:
    """Variables the clustering used: its features, the categories behind chosen levels,
    and the two variables behind a composite."""
    out = set(fm.features)
    for feature in fm.features:
        var = fm.variables.get(feature)
        if var is not None and var.kind in {"level", "composite"}:
            out.update(var.sources)
    return out


@dataclass(frozen=True)
class SplitWarning:
    """One demographic or money variable that the segments mostly are, with its figures.

    Attributes
    ----------
    variable, label : str
        The variable's name and display name.
    eta2 : float
        The share of its variance between segments.
    ranges : dict
        ``{segment: (25th, 75th percentile)}``.
    message : str
        The warning, one sentence with the figures.
    """

    variable: str
    label: str
    eta2: float
    ranges: dict[int, tuple[float, float]]
    message: str

    @property
    def strata(self) -> str:
        """The "segments within bands" setting: ``"<variable>:<bands>"``."""
        return f"{self.variable}:{SPLIT_BANDS}"


def split_warning(fm: FeatureMatrix, labels,
                  drivers: pd.DataFrame | None = None) -> SplitWarning | None:
    """The warning that the segments are mostly one demographic or money variable, or None.

    It fires when a demographic or money variable (see :func:`role_of`; spend levels are
    behaviour and do not count) has ``eta2`` at least ``SPLIT_ETA2`` and no two segments'
    middle-50% ranges of it overlap by more than ``SPLIT_MAX_IQR_OVERLAP`` (the strongest
    such variable is named).

    Parameters
    ----------
    fm : FeatureMatrix
    labels : array-like of int
    drivers : DataFrame, optional
        :func:`segment_drivers` of ``fm`` and ``labels``, when already computed.

    Examples
    --------
    The message reads like "The segments are largely an Income split: the segments explain
    78% of the variance of Income, and their middle-50% ranges of it do not overlap
    (segment 0: 70,460–82,497; ...)."
    """
    if drivers is None:
        drivers = segment_drivers(fm, labels)
    fires = drivers[drivers["role"].isin(SPLIT_ROLES)
                    & (drivers["eta2"] >= SPLIT_ETA2) & drivers["iqrs_disjoint"]]
    if fires.empty:
        return None
    top = fires.iloc[0]
    ranges = segment_ranges(fm.frame[top["variable"]], labels)
    label = str(top["label"])
    article = "an" if label[:1].lower() in "aeiou" else "a"
    shown = "; ".join(f"segment {s}: {_figure(lo)}–{_figure(hi)}" for s, (lo, hi)
                      in ranges.items())
    message = (f"The segments are largely {article} {label} split: the segments explain "
               f"{top['eta2']:.0%} of the variance of {label}, and their middle-50% ranges "
               f"of it do not overlap ({shown}).")
    return SplitWarning(variable=str(top["variable"]), label=label, eta2=float(top["eta2"]),
                        ranges=ranges, message=message)


def _figure(x: float) -> str:
    """A range bound as a reader takes it in: thousands separated, small values to 3 digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
