"""What each segment is worth, and how it answered past campaigns.

Two small tables read off a finished run:

* :func:`segment_value` -- customers, revenue, the retention-discounted margin
  a customer is worth (CLV) and a marketing budget cap per segment;
* :func:`response_rates` -- the share of each segment that accepted a
  campaign, with Wilson confidence intervals.

Both take a :class:`~segmentation.pipeline.SegmentationResult` and return a
plain :class:`pandas.DataFrame`, one row per segment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from segmentation.config import (
    DEFAULT_WINDOW_YEARS,
    KAGGLE_WINDOW_YEARS,
    MIN_LOG_WINDOW_YEARS,
)
from segmentation.errors import SegmentationError

__all__ = ["ValueAssumptions", "clv_multiplier", "money_columns", "outcome_columns",
           "response_rates", "segment_value", "spend_window"]

DAYS_PER_YEAR = 365.25
# The Kaggle "Customer Personality Analysis" data dictionary documents every Mnt* column as
# the "amount spent ... in last 2 years", so its spend is two years' worth, not one.
KAGGLE_SPEND_PREFIX = "Mnt"

VALUE_COLUMNS = ["segment", "persona", "customers", "share_customers", "revenue",
                 "share_revenue", "window_years", "avg_annual_spend", "margin_rate",
                 "annual_margin", "retention", "discount_rate", "clv", "budget_fraction",
                 "budget_cap"]
RATE_COLUMNS = ["segment", "persona", "n", "responders", "rate", "ci_low", "ci_high"]


@dataclass(frozen=True)
class ValueAssumptions:
    """The stated numbers a segment's CLV and budget cap rest on; edit them to your business.

    Parameters
    ----------
    margin_rate : float, default 0.3
        Share of revenue kept as margin after the cost of the goods sold, in
        (0, 1]. 0.3 is a placeholder for a retailer's gross margin.
    retention : float, default 0.8
        Share of customers still buying a year later, in [0, 1].
    discount_rate : float, default 0.1
        Yearly rate future margin is discounted at, in [0, 1]; 0.1 is a common
        cost of capital for marketing decisions.
    budget_fraction : float, default 0.2
        Share of a customer's CLV (which is margin, not revenue) that may be
        spent on marketing to them, in [0, 1].
    """

    margin_rate: float = 0.3
    retention: float = 0.8
    discount_rate: float = 0.1
    budget_fraction: float = 0.2

    def __post_init__(self):
        checks = (
            ("margin_rate", self.margin_rate, 0.0, 1.0, False),
            ("retention", self.retention, 0.0, 1.0, True),
            ("discount_rate", self.discount_rate, 0.0, 1.0, True),
            ("budget_fraction", self.budget_fraction, 0.0, 1.0, True),
        )
        for name, value, low, high, closed in checks:
            ok = (isinstance(value, int | float) and not isinstance(value, bool)
                  and math.isfinite(value)
                  and (low <= value <= high if closed else low < value <= high))
            if not ok:
                bounds = (f"between {low:g} and {high:g}" if closed
                          else f"above {low:g} and at most {high:g}")
                raise SegmentationError(f"{name} is {value!r}: choose a number {bounds}.")
        if self.retention >= 1 + self.discount_rate:
            raise SegmentationError(
                f"A retention of {self.retention:g} with a discount rate of "
                f"{self.discount_rate:g} makes the lifetime value infinite: choose a retention "
                "below 1 or a discount rate above 0.")


def clv_multiplier(retention: float, discount_rate: float) -> float:
    """Years of margin a customer is worth today: ``(1 + d) / (1 + d - r)``.

    The sum ``sum(r**t / (1 + d)**t for t = 0, 1, 2, ...)``: this year's margin
    in full, next year's if the customer is retained (``r``) and discounted
    once (``1 + d``), and so on without end.

    Examples
    --------
    >>> round(clv_multiplier(0.8, 0.1), 4)
    3.6667
    """
    return (1 + discount_rate) / (1 + discount_rate - retention)


def _column(result, kind: str, default: str) -> str:
    """The frame column of a variable kind, found through the profiles when possible."""
    frame = result.features.frame
    name = None
    profiles = getattr(result, "profiles", None)
    if profiles is not None:
        name = profiles.first(kind)
    if name is not None and name in frame.columns:
        return name
    if default in frame.columns:
        return default
    raise SegmentationError(
        f"The data has no {kind.replace('_', ' ')} column: "
        f"map a column to the {kind.replace('_', ' ')} role and run the segmentation again.")


# Variable kinds a customer's spend can be read from, the most telling first.
MONEY_KINDS = ("total_spend", "money", "spend")
# Variable kinds that say whether a customer responded (0/1, or a count of responses).
OUTCOME_KINDS = ("outcome", "campaign", "campaigns_accepted")


def money_columns(result) -> list[str]:
    """Columns a segment's value can be read from: total spend first, then money, then spend.

    Examples
    --------
    >>> money_columns(result)  # doctest: +SKIP
    ['total_spend', 'MntWines', ...]
    """
    frame = result.features.frame
    return [n for kind in MONEY_KINDS for n in result.profiles.kind(kind)
            if n in frame.columns and pd.to_numeric(frame[n], errors="coerce").notna().any()]


def outcome_columns(result) -> list[str]:
    """Columns a response rate can be read from, the default of :func:`response_rates` first."""
    frame = result.features.frame
    found = [n for kind in OUTCOME_KINDS for n in result.profiles.kind(kind)
             if n in frame.columns]
    first = [n for n in ("Response", "campaigns_accepted") if n in found]
    return list(dict.fromkeys([*[n for n in found if result.profiles.variables[n].kind
                                 == "outcome"], *first, *found]))


def _segments(result) -> tuple[np.ndarray, list[int]]:
    labels = np.asarray(result.segmentation.labels)
    if labels.size != len(result.features.frame):
        raise SegmentationError(
            "The segment labels do not match the customers: run the segmentation again.")
    k = int(getattr(result.segmentation, "n_clusters", 0) or 0)
    segments = sorted(set(range(k)) | {int(s) for s in np.unique(labels)})
    return labels, segments


def _names(result, names: Mapping[int, str] | None, segments: list[int]) -> dict[int, str]:
    """Persona names per segment: the run's suggestions, overridden by ``names``."""
    out = {s: f"Segment {s}" for s in segments}
    for persona in getattr(result, "personas", ()) or ():
        out[int(persona.segment)] = persona.name
    for s, name in (names or {}).items():
        out[int(s)] = str(name)
    return out


def spend_window(result, money: str | None = None) -> float:
    """Years of spend a money column adds up, as the data documents it.

    Parameters
    ----------
    result : SegmentationResult
        A finished run.
    money : str, optional
        The money column (see :func:`money_columns`); by default total spend.

    Returns
    -------
    float
        ``2.0`` for the Kaggle marketing export, whose data dictionary documents
        its ``Mnt*`` spend columns (and so their total) as the last two years;
        for a customer table built from an order log, the span of the log
        (the longest customer history, at least a month); otherwise ``1.0``,
        reading the column as a year's spend. It is a default to show and let
        the user change, not a measurement.

    Examples
    --------
    >>> spend_window(result, "MntWines")  # doctest: +SKIP
    2.0
    """
    profiles = getattr(result, "profiles", None)
    spend = list(profiles.kind("spend")) if profiles is not None else []
    sources = spend if money in (None, "total_spend") else [money]
    if sources and all(str(c).startswith(KAGGLE_SPEND_PREFIX) for c in sources):
        return KAGGLE_WINDOW_YEARS
    log = getattr(getattr(result, "dataset", None), "log", None)
    history = getattr(log, "history", None)
    if history is not None and "T" in history and history["T"].notna().any():
        return max(float(history["T"].max()) / DAYS_PER_YEAR, MIN_LOG_WINDOW_YEARS)
    return DEFAULT_WINDOW_YEARS


def segment_value(result, names: Mapping[int, str] | None = None, margin_rate: float = 0.3,
                  retention: float = 0.8, discount_rate: float = 0.1,
                  budget_fraction: float = 0.2,
                  per_segment: Mapping[int, Mapping[str, float]] | None = None,
                  money: str | None = None, window_years: float | None = None) -> pd.DataFrame:
    """Customers, revenue, lifetime value and a marketing budget cap per segment.

    Parameters
    ----------
    result : SegmentationResult
        A finished run; reads ``features.frame``, ``segmentation.labels`` and
        ``personas``.
    names : mapping of int to str, optional
        Display names per segment, overriding the suggested persona names.
    margin_rate, retention, discount_rate, budget_fraction : float
        The assumptions of :class:`ValueAssumptions`, for every segment.
    per_segment : mapping of int to dict, optional
        Per-segment overrides of those assumptions, e.g.
        ``{0: {"retention": 0.9}}``.
    money : str, optional
        The column revenue is read from (see :func:`money_columns`); by
        default total spend. Files without one must name a money column.
    window_years : float, optional
        Years of spend the money column adds up; by default what the data
        documents (:func:`spend_window`).

    Returns
    -------
    pandas.DataFrame
        One row per segment with the columns of :data:`VALUE_COLUMNS`.

    Notes
    -----
    With ``m`` a customer's yearly margin, ``r`` the yearly retention and
    ``d`` the discount rate, the lifetime value is the retention-discounted
    margin over an unlimited horizon, this year's margin counted in full:

    * ``avg_annual_spend = revenue / customers / window_years``,
    * ``annual_margin = m = avg_annual_spend * margin_rate``,
    * ``clv = m * sum((r / (1 + d))**t, t >= 0) = m * (1 + d) / (1 + d - r)``
      (:func:`clv_multiplier`),
    * ``budget_cap = clv * budget_fraction``, a share of margin, never of
      revenue.

    Examples
    --------
    >>> table = segment_value(result, per_segment={0: {"retention": 0.9}})  # doctest: +SKIP
    """
    default = ValueAssumptions(margin_rate, retention, discount_rate, budget_fraction)
    frame = result.features.frame
    if money is None:
        money = _column(result, "total_spend", "total_spend")
    elif money not in frame.columns:
        raise SegmentationError(
            f"There is no column {money!r} in the data: choose one of "
            f"{', '.join(money_columns(result)) or 'the money columns'}.")
    window = spend_window(result, money) if window_years is None else window_years
    if not (isinstance(window, int | float) and not isinstance(window, bool)
            and math.isfinite(window) and window > 0):
        raise SegmentationError(
            f"The spend window is {window!r} years: give the years the spend columns cover, "
            "e.g. 2 for the last two years.")
    spend = pd.to_numeric(frame[money], errors="coerce")
    labels, segments = _segments(result)
    persona = _names(result, names, segments)

    assumptions = {s: default for s in segments}
    allowed = set(ValueAssumptions.__dataclass_fields__)
    for s, override in (per_segment or {}).items():
        if int(s) not in assumptions:
            raise SegmentationError(
                f"There is no segment {s} to override: use one of {segments}.")
        unknown = set(override) - allowed
        if unknown:
            raise SegmentationError(
                f"Unknown setting {sorted(unknown)[0]!r} for segment {s}: "
                f"use {', '.join(sorted(allowed))}.")
        fields = {**default.__dict__, **dict(override)}
        assumptions[int(s)] = ValueAssumptions(**fields)

    spend_values = spend.fillna(0.0).to_numpy(dtype=float)
    total_customers = labels.size
    total_revenue = float(spend_values.sum())
    rows = []
    for s in segments:
        mask = labels == s
        customers = int(mask.sum())
        revenue = float(spend_values[mask].sum())
        annual = revenue / customers / window if customers else float("nan")
        a = assumptions[s]
        margin = annual * a.margin_rate
        clv = margin * clv_multiplier(a.retention, a.discount_rate)
        rows.append({
            "segment": s,
            "persona": persona[s],
            "customers": customers,
            "share_customers": customers / total_customers if total_customers else float("nan"),
            "revenue": revenue,
            "share_revenue": revenue / total_revenue if total_revenue else float("nan"),
            "window_years": float(window),
            "avg_annual_spend": annual,
            "margin_rate": float(a.margin_rate),
            "annual_margin": margin,
            "retention": float(a.retention),
            "discount_rate": float(a.discount_rate),
            "clv": clv,
            "budget_fraction": float(a.budget_fraction),
            "budget_cap": clv * a.budget_fraction,
        })
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def _responded(frame: pd.DataFrame, column: str | None) -> tuple[pd.Series | None, str]:
    """Per-customer 0/1 response (NaN when unknown) and a description of it."""
    if column is not None:
        if column not in frame.columns:
            raise SegmentationError(
                f"There is no column {column!r} in the data: "
                "choose Response, campaigns_accepted or an AcceptedCmp column.")
        values = pd.to_numeric(frame[column], errors="coerce")
        return values.gt(0).astype(float).where(values.notna()), column
    if "Response" in frame.columns:
        return _responded(frame, "Response")
    if "campaigns_accepted" in frame.columns:
        return _responded(frame, "campaigns_accepted")
    accepted = [c for c in frame.columns if str(c).startswith("AcceptedCmp")]
    if accepted:
        values = frame[accepted].apply(pd.to_numeric, errors="coerce")
        any_known = values.notna().any(axis=1)
        return values.gt(0).any(axis=1).astype(float).where(any_known), "any AcceptedCmp"
    return None, ""


def response_rates(result, names: Mapping[int, str] | None = None, column: str | None = None,
                   confidence: float = 0.95) -> pd.DataFrame:
    """Share of each segment that responded to a campaign, with Wilson intervals.

    Parameters
    ----------
    result : SegmentationResult
        A finished run.
    names : mapping of int to str, optional
        Display names per segment, overriding the suggested persona names.
    column : str, optional
        The response column. By default ``Response`` (the last campaign) when
        present, else ``campaigns_accepted > 0``, else any ``AcceptedCmp*`` > 0.
        Any value above 0 counts as a response; missing values are left out.
    confidence : float, default 0.95
        Confidence level of the intervals, between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``segment``, ``persona``, ``n`` (customers with a
        known response), ``responders``, ``rate``, ``ci_low``, ``ci_high``.
        ``attrs["column"]`` names the response used. When the data has no
        campaign response column the frame is empty and ``attrs["reason"]``
        says why.

    Notes
    -----
    Intervals are Wilson score intervals from
    :func:`statsmodels.stats.proportion.proportion_confint` with
    ``method="wilson"``; they stay inside [0, 1] and behave well for rates
    near 0 or small segments, unlike the normal-approximation interval.
    """
    if not (isinstance(confidence, int | float) and 0 < confidence < 1):
        raise SegmentationError(
            f"The confidence level is {confidence!r}: choose a number between 0 and 1, e.g. 0.95.")
    frame = result.features.frame
    responded, used = _responded(frame, column)
    if responded is None:
        empty = pd.DataFrame(columns=RATE_COLUMNS)
        empty.attrs["column"] = None
        empty.attrs["reason"] = ("The data has no campaign response column "
                                 "(Response, campaigns_accepted or AcceptedCmp1-5), "
                                 "so response rates cannot be measured.")
        return empty
    labels, segments = _segments(result)
    persona = _names(result, names, segments)
    values = responded.to_numpy(dtype=float)
    rows = []
    for s in segments:
        known = values[(labels == s) & ~np.isnan(values)]
        n = int(known.size)
        responders = int(known.sum())
        if n:
            low, high = proportion_confint(responders, n, alpha=1 - confidence, method="wilson")
            rate = responders / n
        else:
            low = high = rate = float("nan")
        rows.append({"segment": s, "persona": persona[s], "n": n, "responders": responders,
                     "rate": rate, "ci_low": float(low), "ci_high": float(high)})
    table = pd.DataFrame(rows, columns=RATE_COLUMNS)
    table.attrs["column"] = used
    table.attrs["reason"] = None
    return table
