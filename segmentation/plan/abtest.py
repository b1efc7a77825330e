"""Planning a campaign test per segment: how many customers, which arm, and balance.

* :func:`sample_size_per_arm` -- customers needed in each arm to detect a lift
  in a response rate (two-sided two-proportion test), with equal arms;
* :func:`sample_sizes` and :func:`achieved_power` -- the same for arms of any
  split, and the power a given pair of arms reaches;
* :func:`plan_tests` -- whether each segment is big enough at the chosen split,
  with the test level corrected for testing several segments at once;
* :func:`assign_arms` -- a seeded, stratified split into control and treatment;
* :func:`balance_table` -- means per arm and standardized mean differences,
  to check the split is fair.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from segmentation.config import (
    ALPHA,
    DEFAULT_SEED,
    MIN_DETECTABLE_LIFT,
    POWER,
    RULE_OF_THUMB_PER_ARM,
    TREATMENT_SHARE,
)
from segmentation.errors import SegmentationError

__all__ = ["CORRECTIONS", "RULE_OF_THUMB_PER_ARM", "achieved_power", "assign_arms",
           "balance_columns", "balance_table", "default_baselines", "plan_tests",
           "sample_size_per_arm", "sample_sizes"]

CORRECTIONS = ("holm", "bh", "none")
ARMS = ("control", "treatment")
# A plan needs a baseline rate even when the data records no response: one in ten is a
# usual direct-marketing response to start from, shown in an editable table to replace.
FALLBACK_BASELINE = 0.1
# Variables the arms are compared on: income, spend and recency are what a campaign's
# response depends on most, and a handful keeps the balance table readable.
N_BALANCE_COLUMNS = 3


def _is_number(value) -> bool:
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool) and math.isfinite(float(value)))


def _check_open_unit(name: str, value, example: str) -> None:
    if not (_is_number(value) and 0 < float(value) < 1):
        raise SegmentationError(
            f"The {name} is {value!r}: choose a number between 0 and 1, e.g. {example}.")


def _too_small(baseline: float, relative_lift: float) -> SegmentationError:
    return SegmentationError(
        f"A {relative_lift:.0%} lift on a baseline response rate of {baseline:g} is too "
        "small a difference to size a test for: check the baseline rate, e.g. 0.02 for 2%.")


def _effect(baseline: float, relative_lift: float, alpha: float) -> float:
    """Cohen's h of the lift, after checking the rates and the level."""
    _check_open_unit("baseline response rate", baseline, "0.1")
    if not (_is_number(relative_lift) and relative_lift > 0):
        raise SegmentationError(
            f"The relative lift is {relative_lift!r}: choose a number above 0, e.g. 0.15 for 15%.")
    target = float(baseline) * (1 + float(relative_lift))
    if target == float(baseline):
        # So small a rate that the lift vanishes in floating point: no test can see it.
        raise _too_small(baseline, relative_lift)
    if target >= 1:
        raise SegmentationError(
            f"A {relative_lift:.0%} lift on a {baseline:.0%} baseline exceeds a 100% rate: "
            "choose a smaller lift.")
    _check_open_unit("significance level alpha", alpha, "0.05")
    return float(proportion_effectsize(target, float(baseline)))


def _round_up(n: float) -> int:
    # The tolerance keeps an exact solution such as 1788.0000000001 at 1788.
    return int(math.ceil(float(n) - 1e-9))


def sample_size_per_arm(baseline: float, relative_lift: float = MIN_DETECTABLE_LIFT,
                        alpha: float = ALPHA, power: float = POWER) -> int:
    """Customers needed in each of two equal arms to detect a relative lift in a rate.

    Parameters
    ----------
    baseline : float
        The control arm's expected response rate, between 0 and 1.
    relative_lift : float, default 0.15
        The smallest lift worth detecting, relative to the baseline: 0.15 means
        the treatment rate is ``baseline * 1.15``.
    alpha : float, default 0.05
        Two-sided significance level.
    power : float, default 0.8
        Chance of detecting the lift when it is real.

    Returns
    -------
    int
        Customers per arm, rounded up.

    Notes
    -----
    Uses Cohen's effect size for proportions,
    ``h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1))``
    (:func:`statsmodels.stats.proportion.proportion_effectsize`), solved with
    :class:`statsmodels.stats.power.NormalIndPower` for equal arms. This is
    within a few percent of the textbook normal-approximation formula
    ``(z_{1-a/2} sqrt(2 pbar qbar) + z_{1-b} sqrt(p1 q1 + p2 q2))^2 / (p2 - p1)^2``.
    For unequal arms use :func:`sample_sizes`.

    Examples
    --------
    >>> sample_size_per_arm(0.10, relative_lift=0.15)
    6687
    """
    return sample_sizes(baseline, relative_lift, alpha, power, split=0.5)[0]


def sample_sizes(baseline: float, relative_lift: float = MIN_DETECTABLE_LIFT,
                 alpha: float = ALPHA, power: float = POWER,
                 split: float = TREATMENT_SHARE) -> tuple[int, int]:
    """Treated and control customers needed to detect a lift with a given split.

    Parameters
    ----------
    baseline, relative_lift, alpha, power : float
        As in :func:`sample_size_per_arm`.
    split : float, default 0.5
        Share of the customers in the treatment arm.

    Returns
    -------
    tuple of int
        ``(n_treatment, n_control)``, each rounded up.

    Notes
    -----
    Solved with :class:`statsmodels.stats.power.NormalIndPower` with
    ``nobs1`` the treatment arm and ``ratio = (1 - split) / split`` the
    control arm's size relative to it, so the variance is
    ``1 / n_treatment + 1 / n_control`` rather than that of two equal arms:
    ``n_treatment = (1 + 1 / ratio) ((z_{1-a/2} + z_{1-b}) / h)^2``. With a
    20/80 split the smaller arm needs 5/8 of the equal-arm figure, the
    larger four times that.

    Examples
    --------
    >>> sample_sizes(0.10, relative_lift=0.15, split=0.2)
    (4179, 16716)
    """
    effect = _effect(baseline, relative_lift, alpha)
    _check_open_unit("power", power, "0.8")
    _check_open_unit("treatment split", split, "0.5")
    ratio = (1 - float(split)) / float(split)
    with warnings.catch_warnings():
        # A vanishing difference makes statsmodels' root finder warn and return nan;
        # that case gets its own sentence below.
        warnings.simplefilter("ignore")
        n = float(NormalIndPower().solve_power(effect_size=effect, alpha=float(alpha),
                                               power=float(power), ratio=ratio,
                                               alternative="two-sided"))
    if not (math.isfinite(n) and math.isfinite(n * ratio)):
        raise _too_small(baseline, relative_lift)
    return _round_up(n), _round_up(n * ratio)


def achieved_power(baseline: float, relative_lift: float, alpha: float, n_treatment: int,
                   n_control: int) -> float:
    """The chance that arms of the given sizes detect the lift (two-sided test).

    Parameters
    ----------
    baseline, relative_lift, alpha : float
        As in :func:`sample_size_per_arm`.
    n_treatment, n_control : int
        Customers in each arm.

    Returns
    -------
    float
        Power from :meth:`statsmodels.stats.power.NormalIndPower.power` with
        ``nobs1 = n_treatment`` and ``ratio = n_control / n_treatment``; 0 when
        an arm is empty.

    Examples
    --------
    >>> round(achieved_power(0.10, 0.15, 0.05, 6687, 6687), 3)
    0.8
    """
    effect = _effect(baseline, relative_lift, alpha)
    if n_treatment <= 0 or n_control <= 0:
        return 0.0
    return float(NormalIndPower().power(effect, nobs1=float(n_treatment), alpha=float(alpha),
                                        ratio=n_control / n_treatment,
                                        alternative="two-sided"))


def plan_tests(segment_sizes: Mapping[int, int], baselines: Mapping[int, float],
               relative_lift: float = MIN_DETECTABLE_LIFT, alpha: float = ALPHA,
               power: float = POWER, correction: str = "holm",
               split: float = TREATMENT_SHARE) -> pd.DataFrame:
    """Whether each segment is big enough for its own campaign test.

    Parameters
    ----------
    segment_sizes : mapping of int to int
        Customers per segment.
    baselines : mapping of int to float
        Expected control response rate per segment (e.g. from
        :func:`segmentation.plan.value.response_rates`); one per segment.
    relative_lift, alpha, power : float
        As in :func:`sample_size_per_arm`; ``alpha`` is the level for the
        whole family of segment tests.
    correction : {"holm", "bh", "none"}, default "holm"
        How the tests are corrected for multiplicity. For ``"holm"`` the plan
        uses the Bonferroni level ``alpha / m`` for every test (m = number of
        segments): Holm's first, strictest step, so the plan is safe whatever
        the order of the p-values. For ``"bh"`` (Benjamini-Hochberg, false
        discovery rate) and ``"none"`` the plan uses ``alpha``; under BH only
        the largest p-value is compared with ``alpha``, so this is optimistic.
    split : float, default 0.5
        Share of each segment put in the treatment arm. The requirement is
        computed for arms in this ratio (see :func:`sample_sizes`), not for
        two equal arms.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``segment``, ``n_customers``, ``baseline``,
        ``target_rate``, ``per_test_alpha``; ``needed_treatment`` and
        ``needed_control`` (customers each arm needs at this split);
        ``available_treatment`` (``floor(n * split)``) and
        ``available_control`` (``floor(n * (1 - split))``);
        ``needed_per_arm`` and ``available_per_arm`` (the same for the
        smaller arm); ``power`` (the chance the available arms detect the
        lift at ``per_test_alpha``); ``big_enough`` (both arms have what they
        need), ``rule_of_thumb_ok`` (at least 100 in the smaller arm) and
        ``advice``.
    """
    if correction not in CORRECTIONS:
        raise SegmentationError(
            f"Unknown correction {correction!r}: choose one of {', '.join(CORRECTIONS)}.")
    _check_open_unit("treatment split", split, "0.5")
    _check_open_unit("significance level alpha", alpha, "0.05")
    segments = sorted(int(s) for s in segment_sizes)
    if not segments:
        raise SegmentationError("There are no segments to plan: run the segmentation first.")
    missing = [s for s in segments if s not in {int(b) for b in baselines}]
    if missing:
        raise SegmentationError(
            f"Segment {missing[0]} has no baseline response rate: give one for every segment.")
    m = len(segments)
    per_test_alpha = alpha / m if correction == "holm" else float(alpha)
    sizes = {int(s): n for s, n in segment_sizes.items()}
    rates = {int(s): r for s, r in baselines.items()}
    treated_is_smaller = split <= 0.5
    rows = []
    for s in segments:
        n = sizes[s]
        if not (isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0):
            raise SegmentationError(
                f"Segment {s} has {n!r} customers: give a whole number of 0 or more.")
        baseline = rates[s]
        if not (_is_number(baseline) and 0 < baseline < 1):
            raise SegmentationError(
                f"Segment {s} has a baseline response rate of {baseline!r}: "
                "give a rate between 0 and 1, e.g. from a past campaign.")
        need_t, need_c = sample_sizes(baseline, relative_lift, per_test_alpha, power, split)
        # Rounded down, so the plan never counts a customer the split cannot give.
        have_t = int(math.floor(int(n) * split + 1e-9))
        have_c = int(math.floor(int(n) * (1 - split) + 1e-9))
        short_t, short_c = max(need_t - have_t, 0), max(need_c - have_c, 0)
        big = not (short_t or short_c)
        gap = (f"{short_t:,} more customers per arm" if short_t == short_c else
               f"{short_t:,} more treated and {short_c:,} more control customers")
        advice = ("big enough" if big else
                  f"merge with a similar segment or run the campaign for longer: needs {gap}")
        rows.append({"segment": s, "n_customers": int(n), "baseline": float(baseline),
                     "target_rate": float(baseline) * (1 + relative_lift),
                     "per_test_alpha": per_test_alpha,
                     "needed_treatment": need_t, "needed_control": need_c,
                     "available_treatment": have_t, "available_control": have_c,
                     "needed_per_arm": need_t if treated_is_smaller else need_c,
                     "available_per_arm": have_t if treated_is_smaller else have_c,
                     "power": achieved_power(baseline, relative_lift, per_test_alpha,
                                             have_t, have_c),
                     "big_enough": big,
                     "rule_of_thumb_ok": min(have_t, have_c) >= RULE_OF_THUMB_PER_ARM,
                     "advice": advice})
    return pd.DataFrame(rows)


def _treatment_count(n: int, split: float) -> int:
    """Customers of a segment of ``n`` put in treatment: ``round(n * split)``.

    Clamped to ``[1, n - 1]`` for segments of two or more customers so both
    arms get someone (with ``split = 0.5`` the clamp never changes anything).
    """
    k = round(n * split)
    if n >= 2:
        k = min(max(k, 1), n - 1)
    return int(k)


def assign_arms(customer_ids: Sequence, segments: Sequence[int],
                split: float = TREATMENT_SHARE, random_state: int = DEFAULT_SEED) -> pd.DataFrame:
    """Split customers into control and treatment, stratified by segment and seeded.

    Parameters
    ----------
    customer_ids : sequence
        Unique customer identifiers.
    segments : sequence of int
        Each customer's segment, aligned with ``customer_ids``.
    split : float, default 0.5
        Share of each segment put in the treatment arm.
    random_state : int, default 42
        Seed; the same seed and customers give the same assignment.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``segment`` and ``arm`` (``"control"`` or
        ``"treatment"``), in the input order.

    Notes
    -----
    Within every segment exactly :func:`_treatment_count` customers
    (``round(n * split)``) are drawn for treatment by shuffling that segment,
    so no segment goes wholly to one arm and every segment keeps the split.
    Segments are handled in sorted order and, within a segment, customers are
    sorted by identifier before shuffling, so the assignment depends only on
    the seed and the set of (customer, segment) pairs, not on the input order.
    """
    _check_open_unit("treatment split", split, "0.5")
    ids = pd.Index(list(customer_ids))
    labels = np.asarray(list(segments))
    if labels.size != ids.size:
        raise SegmentationError(
            f"There are {ids.size} customers but {labels.size} segment labels: "
            "give one segment per customer.")
    if ids.has_duplicates:
        dup = ids[ids.duplicated()][0]
        raise SegmentationError(
            f"Customer {dup!r} appears more than once: give each customer once.")
    rng = np.random.default_rng(random_state)
    keys = np.array([str(i) for i in ids], dtype=object)
    treated = np.zeros(ids.size, dtype=bool)
    for s in sorted(pd.unique(labels).tolist()):
        members = np.flatnonzero(labels == s)
        members = members[np.argsort(keys[members], kind="stable")]
        shuffled = rng.permutation(members)
        treated[shuffled[:_treatment_count(members.size, split)]] = True
    return pd.DataFrame({"customer_id": ids.to_numpy(), "segment": labels,
                         "arm": np.where(treated, ARMS[1], ARMS[0])})


def balance_table(frame_with_arms: pd.DataFrame, values: pd.DataFrame,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Means per segment and arm, and the standardized mean difference (SMD).

    Parameters
    ----------
    frame_with_arms : pandas.DataFrame
        The output of :func:`assign_arms` (``customer_id``, ``segment``, ``arm``).
    values : pandas.DataFrame
        Customer variables indexed by customer identifier (or with a
        ``customer_id`` column), e.g. ``result.features.frame``.
    columns : sequence of str, optional
        Variables to compare; by default every numeric column of ``values``.

    Returns
    -------
    pandas.DataFrame
        One row per segment and variable: ``segment``, ``variable``,
        ``n_control``, ``n_treatment``, ``mean_control``, ``mean_treatment`` and
        ``smd = (mean_treatment - mean_control) / sqrt((var_control + var_treatment) / 2)``.
        An ``|smd|`` below 0.1 is usually read as well balanced, below 0.2 as
        acceptable.
    """
    if "customer_id" in values.columns:
        values = values.set_index("customer_id")
    if columns is None:
        columns = [c for c in values.columns if pd.api.types.is_numeric_dtype(values[c])
                   and not pd.api.types.is_bool_dtype(values[c])]
    unknown = [c for c in columns if c not in values.columns]
    if unknown:
        raise SegmentationError(
            f"There is no column {unknown[0]!r} among the values: choose one of the data's columns.")
    index = pd.Index(values.index.astype(str))
    lookup = pd.DataFrame(values[list(columns)].to_numpy(dtype=float), index=index,
                          columns=list(columns))
    ids = frame_with_arms["customer_id"].astype(str)
    missing = ~ids.isin(index)
    if missing.any():
        raise SegmentationError(
            f"Customer {ids[missing].iloc[0]!r} has no values: "
            "pass values for every customer in the assignment.")
    joined = lookup.loc[ids.to_numpy()].reset_index(drop=True)
    joined["segment"] = frame_with_arms["segment"].to_numpy()
    joined["arm"] = frame_with_arms["arm"].to_numpy()
    rows = []
    for s, group in joined.groupby("segment", sort=True):
        control = group[group["arm"] == ARMS[0]]
        treatment = group[group["arm"] == ARMS[1]]
        for c in columns:
            mc, mt = control[c].mean(), treatment[c].mean()
            pooled = math.sqrt((control[c].var() + treatment[c].var()) / 2)
            diff = mt - mc
            if not math.isfinite(pooled) or not np.isfinite(diff):
                smd = float("nan")
            elif pooled == 0:
                smd = 0.0 if diff == 0 else math.copysign(math.inf, diff)
            else:
                smd = diff / pooled
            rows.append({"segment": s, "variable": c, "n_control": len(control),
                         "n_treatment": len(treatment), "mean_control": mc,
                         "mean_treatment": mt, "smd": smd})
    return pd.DataFrame(rows, columns=["segment", "variable", "n_control", "n_treatment",
                                       "mean_control", "mean_treatment", "smd"])


def default_baselines(segments: Sequence[int],
                      rates: pd.DataFrame | None = None) -> dict[int, float]:
    """Each segment's expected control response rate, to plan its test from.

    Parameters
    ----------
    segments : sequence of int
        The segments to plan.
    rates : pandas.DataFrame, optional
        Observed rates, ``segment`` and ``rate`` columns, as
        :func:`segmentation.plan.value.response_rates` returns them.

    Returns
    -------
    dict of int to float
        A segment's observed rate when it is strictly between 0 and 1 (a rate
        of 0 or 1 cannot be lifted or tested); otherwise the mean of the
        observed rates when that is, else :data:`FALLBACK_BASELINE`.

    Examples
    --------
    >>> rates = pd.DataFrame({"segment": [0, 1, 2], "rate": [0.25, 0.0, 0.5]})
    >>> default_baselines([0, 1, 2, 3], rates)
    {0: 0.25, 1: 0.25, 2: 0.5, 3: 0.25}
    """
    observed = {}
    if rates is not None and len(rates):
        observed = {int(s): float(r) for s, r in zip(rates["segment"], rates["rate"],
                                                     strict=True) if math.isfinite(float(r))}
    mean = float(np.mean(list(observed.values()))) if observed else math.nan
    fallback = mean if 0 < mean < 1 else FALLBACK_BASELINE
    return {int(s): observed[s] if 0 < observed.get(s, math.nan) < 1 else fallback
            for s in segments}


def balance_columns(result) -> list[str]:
    """The variables to check the arms' balance on (see :func:`balance_table`).

    Income, total spend and recency when the data has them; otherwise the
    first clustering variables stand in, :data:`N_BALANCE_COLUMNS` at most.
    """
    profiles = result.profiles
    found = [v for v in (profiles.first("income"), profiles.first("total_spend"),
                         profiles.first("recency")) if v]
    return found or list(result.features.features[:N_BALANCE_COLUMNS])
