"""Reading the results of an A/B campaign and measuring the lift per segment and overall.

A campaign sends segmented messaging (the *treatment* arm) to some customers and
the usual message (the *control* arm) to others. The results file says, per
customer, which arm they were in and whether they clicked and converted. Joined
with the segment assignments (``assignments.csv`` from ``python -m segmentation
run``), :func:`analyse` reports for every segment and for the whole campaign:

* the number of customers and the outcome rate in each arm;
* the absolute lift (treatment rate minus control rate) with a Newcombe
  hybrid-score confidence interval;
* the relative lift (treatment rate / control rate minus one) with a
  confidence interval from the log risk ratio;
* the p-value of a two-proportion z-test (pooled variance), and per segment
  the p-value adjusted for testing several segments (Holm or
  Benjamini-Hochberg);
* a stratified estimate across segments: the Cochran-Mantel-Haenszel test that
  the treatment made no difference in any segment, and the Mantel-Haenszel
  risk ratio (Greenland-Robins interval), risk difference (Sato interval) and
  odds ratio (Robins-Breslow-Greenland interval).

The stratified figures compare customers only with customers of the same
segment, so a segment that happens to be over-represented in one arm cannot
fake a lift, nor hide one (Simpson's paradox). The verdict quotes them: the
Mantel-Haenszel risk ratio and risk difference with their intervals and the
CMH p-value. All three share the sign of ``sum((a_k n_ck - c_k n_tk) / N_k)``,
so the direction never contradicts itself. The crude comparison that pools
all customers is given beside them, labelled as crude.

Customers in the results file without a segment in the assignments are counted
(``Analysis.unassigned``) and included in the overall figures, but they cannot
enter a segment or the stratified test; a note says how many there were.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from segmentation.config import ALPHA
from segmentation.data.small_csv import read_text_table
from segmentation.errors import SegmentationError
from segmentation.export.outputs import restore
from segmentation.summary import Summary

FIELDS = ("customer_id", "arm", "clicked", "converted")
REQUIRED = ("customer_id", "arm")
OUTCOMES = ("clicked", "converted")  # named outcomes: checked strictly when present
OUTCOME_WORDS = {"clicked": "click-through", "converted": "conversion"}
CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "none": None}
# Accepted spellings of the two arms (compared after stripping and lower-casing).
ARM_VALUES = {
    "control": "control", "a": "control", "0": "control",
    "treatment": "treatment", "b": "treatment", "1": "treatment",
}
_FORMAT_HINT = ("pass a CSV with columns customer_id, arm (control/treatment) and one or more "
                "0/1 or yes/no outcomes (e.g. clicked, converted), or map your column names "
                "with columns=")
_YES = {"1": 1, "1.0": 1, "yes": 1, "y": 1, "true": 1, "0": 0, "0.0": 0, "no": 0, "n": 0,
        "false": 0}
SEGMENT_COLUMNS = (
    "segment", "persona", "n_control", "n_treatment", "events_control", "events_treatment",
    "rate_control", "rate_treatment", "abs_lift", "abs_lift_low", "abs_lift_high",
    "rel_lift", "rel_lift_low", "rel_lift_high", "p_value", "p_adjusted", "significant",
)


@dataclass(frozen=True)
class Analysis:
    """The lift of a campaign per segment, overall and stratified across segments.

    Attributes
    ----------
    per_segment : DataFrame
        One row per segment, columns :data:`SEGMENT_COLUMNS`: customers
        (``n_*``), customers with the outcome (``events_*``) and rates per
        arm; ``abs_lift`` (treatment rate minus control rate, a proportion)
        with its interval ``abs_lift_low``/``abs_lift_high``; ``rel_lift``
        (treatment rate / control rate - 1) with its interval; ``p_value``
        of the z-test, ``p_adjusted`` after the multiple-testing correction,
        and ``significant`` (``p_adjusted < alpha``). A segment missing an
        arm has NaN statistics and takes no part in the correction.
    overall : dict
        The same keys (without segment and persona) for all customers in the
        results file, plus ``unassigned``.
    cmh : dict
        The stratified (Mantel-Haenszel) figures: ``p_value`` (CMH test, no
        continuity correction); ``risk_ratio``, ``risk_ratio_low``,
        ``risk_ratio_high`` and ``risk_ratio_p`` (Wald test of the log risk
        ratio, the test matching its interval); ``rel_lift``,
        ``rel_lift_low``, ``rel_lift_high`` (the risk ratio minus one, so it
        can stand beside the per-segment lifts); ``risk_difference``,
        ``risk_difference_low``, ``risk_difference_high`` and
        ``risk_difference_p``; ``odds_ratio``, ``odds_ratio_low``,
        ``odds_ratio_high``; and ``strata`` (segments used). NaN values when
        no segment has both arms.
    verdict : str
        Plain sentences: the stratified lift, whether it is reliable, and the
        crude pooled lift beside it, labelled as crude.
    outcome : str
        ``"clicked"`` or ``"converted"``.
    alpha : float
    correction : str
        ``"holm"``, ``"bh"`` or ``"none"``.
    unassigned : int
        Customers in the results file that have no segment in the assignments.
    notes : tuple of str
    """

    per_segment: pd.DataFrame
    overall: dict
    cmh: dict
    verdict: str
    outcome: str
    alpha: float
    correction: str
    unassigned: int
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> Summary:
        """The stratified lift in words, and the lift of each segment.

        Returns
        -------
        Summary
            ``verdict`` is :attr:`verdict`; ``table`` is :attr:`per_segment`; ``notes``
            are :attr:`notes`.
        """
        strata = self.cmh["strata"]
        return Summary(
            title=f"Campaign results: {self.outcome!r} in {len(self.per_segment)} segment(s), "
                  f"{strata} compared (alpha {self.alpha:g}, {self.correction} correction)",
            verdict=self.verdict, table=self.per_segment, notes=self.notes)


# --- reading a results file -----------------------------------------------------------------------

def read_results(source: bytes | str | Path,
                 columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a campaign results CSV, ids kept exactly as text.

    Parameters
    ----------
    source : bytes, str or Path
        The file's bytes, or a path to read them from.
    columns : mapping, optional
        The file's name for each of ``customer_id``, ``arm``, ``clicked`` and
        ``converted``, e.g. ``{"customer_id": "ID", "arm": "group"}``; fields
        not given keep their own name.

    Returns
    -------
    DataFrame
        ``customer_id`` (text), ``arm`` (``"control"`` or ``"treatment"``) and
        every outcome as int 0/1: ``clicked`` and ``converted`` where present,
        and any other column whose values are all 0/1 or yes/no (its own name).

    Notes
    -----
    Arms are matched ignoring case and surrounding spaces: ``control``,
    ``A`` or ``0`` is the control arm; ``treatment``, ``B`` or ``1`` the
    treatment arm (the segmented messaging). Outcomes must be 0 or 1 (``1.0``
    is accepted as 1).

    Raises
    ------
    SegmentationError
        If the file cannot be read, lacks a column, has blank or repeated ids,
        an unknown arm or an outcome other than 0/1.

    Examples
    --------
    >>> frame = read_results(b"customer_id,arm,clicked,converted\\n007,A,1,0\\n8,B,0,0\\n")
    >>> frame["customer_id"].tolist(), frame["arm"].tolist()
    (['007', '8'], ['control', 'treatment'])
    """
    mapping = dict(columns or {})
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise SegmentationError(
            f"columns= names unknown field(s) {', '.join(map(repr, unknown))}: use only "
            f"{', '.join(FIELDS)} as keys."
        )
    frame, name = read_text_table(source, _FORMAT_HINT, default_name="the results file")
    frame.columns = [restore(str(c).strip()) for c in frame.columns]
    frame = frame.map(restore)
    wanted = {f: mapping.get(f, f) for f in FIELDS}
    missing = [wanted[f] for f in FIELDS if (f in REQUIRED or f in mapping)
               and wanted[f] not in frame.columns]
    if missing:
        raise SegmentationError(
            f"{name} has no {', '.join(map(repr, missing))} column (it has "
            f"{', '.join(map(repr, list(frame.columns)[:8]))}): {_FORMAT_HINT}."
        )
    named = {f: col for f, col in wanted.items() if col in frame.columns}
    used = set(named.values())
    # Any other 0/1 or yes/no column is an outcome too, under its own name.
    others = {col: col for col in frame.columns
              if col not in used and col not in FIELDS and _is_binary_text(frame[col])}
    named.update(others)
    if not set(named) - set(REQUIRED):
        raise SegmentationError(
            f"{name} has no outcome column (no column of 0/1 or yes/no values besides "
            f"{wanted['customer_id']!r} and {wanted['arm']!r}): {_FORMAT_HINT}."
        )
    out = pd.DataFrame({f: frame[col].astype(str) for f, col in named.items()})
    if out.empty:
        raise SegmentationError(f"{name} has a header but no customer rows: {_FORMAT_HINT}.")
    blank = out["customer_id"].str.strip() == ""
    if blank.any():
        raise SegmentationError(
            f"{name} has {int(blank.sum())} row(s) without a customer id (first at data row "
            f"{_first(blank) + 1}): every row needs an id."
        )
    repeated = out["customer_id"][out["customer_id"].duplicated()]
    if not repeated.empty:
        raise SegmentationError(
            f"{name} lists {repeated.nunique()} customer id(s) more than once, e.g. "
            f"{repeated.iloc[0]!r}: each customer must appear once, in one arm."
        )
    arms = out["arm"].str.strip().str.lower().map(ARM_VALUES)
    if arms.isna().any():
        row = _first(arms.isna())
        raise SegmentationError(
            f"{name} has an unknown arm {out['arm'].iloc[row]!r} at data row {row + 1}: use "
            "control/treatment (or A/B, or 0/1)."
        )
    out["arm"] = arms.astype(object)
    for outcome in [c for c in out.columns if c not in REQUIRED]:
        text = out[outcome].str.strip().str.lower()
        values = text.map(_YES) if outcome in others else pd.to_numeric(text, errors="coerce")
        bad = ~values.isin([0, 1])
        if bad.any():
            row = _first(bad)
            raise SegmentationError(
                f"{name} has {out[outcome].iloc[row]!r} in {named[outcome]!r} at data row "
                f"{row + 1}: outcomes must be 0 or 1."
            )
        out[outcome] = values.astype(np.int64)
    out["customer_id"] = out["customer_id"].astype(object)
    return out.reset_index(drop=True)


# Header spellings taken to mean each required field, best first, compared after
# lower-casing and dropping everything but letters and digits ("Customer ID" is
# "customerid"). Exported CRM and e-mail tool files name these columns in many ways.
COLUMN_SPELLINGS = {
    "customer_id": ("customerid", "customer", "clientid", "client", "userid", "user",
                    "memberid", "member", "contactid", "contact", "id"),
    "arm": ("arm", "group", "testgroup", "abgroup", "variant", "cell", "branch", "condition"),
}


def _plain(name: str) -> str:
    return "".join(c for c in str(name).lower() if c.isalnum())


def results_header(source: bytes | str | Path) -> list[str]:
    """The column names of a results file, as :func:`read_results` reads them.

    Raises
    ------
    SegmentationError
        If the file cannot be read as a table.
    """
    frame, _ = read_text_table(source, _FORMAT_HINT, default_name="the results file")
    return [restore(str(c).strip()) for c in frame.columns]


def guess_columns(header: Sequence[str]) -> dict[str, str]:
    """The column of a results file most likely holding each required field, by its name.

    Parameters
    ----------
    header : sequence of str
        The file's column names (see :func:`results_header`).

    Returns
    -------
    dict
        ``{field: column}`` for each of :data:`REQUIRED` whose column is
        recognised (see :data:`COLUMN_SPELLINGS`); a field with no column
        spelled like it is left out, for the user to choose. A column is
        given to one field at most. Ready for ``read_results(columns=...)``.

    Examples
    --------
    >>> guess_columns(["Customer ID", "Group", "clicked"])
    {'customer_id': 'Customer ID', 'arm': 'Group'}
    >>> guess_columns(["a", "b"])
    {}
    """
    plain = [_plain(c) for c in header]
    guessed: dict[str, str] = {}
    for field_name in REQUIRED:
        for spelling in COLUMN_SPELLINGS[field_name]:
            free = [i for i, p in enumerate(plain)
                    if p == spelling and header[i] not in guessed.values()]
            if free:
                guessed[field_name] = header[free[0]]
                break
    return guessed


def outcomes_of(results: pd.DataFrame) -> list[str]:
    """The outcome columns of a results table read by :func:`read_results`."""
    return [c for c in results.columns if c not in REQUIRED]


def _is_binary_text(values: pd.Series) -> bool:
    text = values.astype(str).str.strip().str.lower()
    return bool(len(text)) and text.isin(_YES).all() and text.nunique() <= 2


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


# --- statistics -----------------------------------------------------------------------------------

def _compare_arms(events_treatment: int, n_treatment: int, events_control: int, n_control: int,
                  alpha: float = ALPHA) -> dict:
    """Rates, lifts with intervals and z-test p-value for one pair of arms.

    The absolute lift interval is Newcombe's hybrid score interval, the
    relative lift interval comes from the log risk ratio, and the p-value is
    that of the pooled two-proportion z-test. When an arm has no customers
    every statistic is NaN; when both arms have the same all-0 or all-1
    outcome there is no variation to test and the p-value is 1.
    """
    out = {"n_control": int(n_control), "n_treatment": int(n_treatment),
           "events_control": int(events_control), "events_treatment": int(events_treatment)}
    nan = float("nan")
    keys = ("rate_control", "rate_treatment", "abs_lift", "abs_lift_low", "abs_lift_high",
            "rel_lift", "rel_lift_low", "rel_lift_high", "p_value")
    out.update(dict.fromkeys(keys, nan))
    if n_control == 0 or n_treatment == 0:
        return out
    p_t, p_c = events_treatment / n_treatment, events_control / n_control
    out["rate_control"], out["rate_treatment"] = p_c, p_t
    out["abs_lift"] = p_t - p_c
    low, high = confint_proportions_2indep(events_treatment, n_treatment, events_control,
                                           n_control, method="newcomb", compare="diff",
                                           alpha=alpha)
    out["abs_lift_low"], out["abs_lift_high"] = float(low), float(high)
    if events_control > 0:
        out["rel_lift"] = p_t / p_c - 1
        if events_treatment > 0:
            low, high = confint_proportions_2indep(events_treatment, n_treatment,
                                                   events_control, n_control, method="log",
                                                   compare="ratio", alpha=alpha)
            out["rel_lift_low"], out["rel_lift_high"] = float(low) - 1, float(high) - 1
    pooled = (events_treatment + events_control) / (n_treatment + n_control)
    if pooled in (0.0, 1.0):
        out["p_value"] = 1.0
    else:
        _, p = proportions_ztest([events_treatment, events_control], [n_treatment, n_control])
        out["p_value"] = float(p)
    return out


def _strata_arrays(tables: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Events and customers per arm and stratum: ``a, n_t, c, n_c, N`` as float arrays."""
    cube = np.asarray(tables, dtype=float).reshape(-1, 2, 2)
    a, c = cube[:, 0, 0], cube[:, 1, 0]
    n_t, n_c = cube[:, 0].sum(axis=1), cube[:, 1].sum(axis=1)
    return a, n_t, c, n_c, n_t + n_c


def _wald(estimate: float, se: float, alpha: float, null: float = 0.0) -> tuple[float, ...]:
    """Bounds and two-sided p-value of a normal (Wald) interval on the given scale."""
    if not (math.isfinite(estimate) and math.isfinite(se) and se > 0):
        return float("nan"), float("nan"), float("nan")
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = float(2 * stats.norm.sf(abs(estimate - null) / se))
    return estimate - z * se, estimate + z * se, p


def _mh_risk_difference(tables: list[np.ndarray], alpha: float = ALPHA) -> tuple[float, ...]:
    """Mantel-Haenszel risk difference across strata with Sato's variance.

    Each table is ``[[events_t, non_events_t], [events_c, non_events_c]]``;
    write ``a_k``, ``c_k`` for the events and ``n_tk``, ``n_ck`` for the
    customers of each arm in stratum ``k``, and ``N_k = n_tk + n_ck``. The
    estimate is ``RD = sum(w_k * (a_k/n_tk - c_k/n_ck)) / sum(w_k)`` with
    ``w_k = n_tk * n_ck / N_k``. Its variance is Sato's (1989),
    ``(RD * sum(P_k) + sum(Q_k)) / sum(w_k)**2`` with
    ``P_k = (n_tk**2 c_k - n_ck**2 a_k + n_tk n_ck (n_ck - n_tk) / 2) / N_k**2``
    and ``Q_k = (a_k (n_ck - c_k) + c_k (n_tk - a_k)) / (2 N_k)``, which stays
    valid with many small strata as well as with a few large ones; for one
    stratum it is the usual Wald variance of a difference of two proportions.

    Returns
    -------
    tuple of float
        Estimate, lower bound, upper bound and the p-value of the Wald test
        that the difference is 0 (the test matching the interval).

    References
    ----------
    Sato T. (1989). On the variance estimator for the Mantel-Haenszel risk
    difference. Biometrics 45, 1323-1324.

    Examples
    --------
    >>> estimate, low, high, p = _mh_risk_difference([np.array([[150, 850], [100, 900]])])
    >>> round(estimate, 3), round(low, 4), round(high, 4)
    (0.05, 0.0211, 0.0789)
    """
    a, n_t, c, n_c, n = _strata_arrays(tables)
    weight = np.sum(n_t * n_c / n)
    estimate = float(np.sum((a * n_c - c * n_t) / n) / weight)
    p_terms = (n_t**2 * c - n_c**2 * a + n_t * n_c * (n_c - n_t) / 2) / n**2
    q_terms = (a * (n_c - c) + c * (n_t - a)) / (2 * n)
    variance = (estimate * np.sum(p_terms) + np.sum(q_terms)) / weight**2
    low, high, p = _wald(estimate, math.sqrt(max(float(variance), 0.0)), alpha)
    return estimate, low, high, p


def _mh_risk_ratio(tables: list[np.ndarray], alpha: float = ALPHA) -> tuple[float, ...]:
    """Mantel-Haenszel risk ratio across strata with the Greenland-Robins interval.

    With the notation of :func:`_mh_risk_difference`, the estimate is
    ``RR = sum(a_k n_ck / N_k) / sum(c_k n_tk / N_k)`` (the same as
    :attr:`statsmodels.stats.contingency_tables.StratifiedTable.riskratio_pooled`)
    and the variance of ``log(RR)`` is Greenland and Robins' (1985)
    ``sum((n_tk n_ck (a_k + c_k) - a_k c_k N_k) / N_k**2) /
    (sum(a_k n_ck / N_k) * sum(c_k n_tk / N_k))``; for one stratum it is the
    usual ``1/a - 1/n_t + 1/c - 1/n_c``. The interval is ``exp(log(RR) +- z se)``.

    Returns
    -------
    tuple of float
        Estimate, lower bound, upper bound and the p-value of the Wald test
        that the log risk ratio is 0 (the test matching the interval). NaN
        bounds when an arm has no events in any stratum.

    References
    ----------
    Greenland S., Robins J. M. (1985). Estimation of a common effect parameter
    from sparse follow-up data. Biometrics 41, 55-68.

    Examples
    --------
    >>> estimate, low, high, p = _mh_risk_ratio([np.array([[150, 850], [100, 900]])])
    >>> round(estimate, 2), round(low, 3), round(high, 3)
    (1.5, 1.183, 1.902)
    """
    a, n_t, c, n_c, n = _strata_arrays(tables)
    treated, control = float(np.sum(a * n_c / n)), float(np.sum(c * n_t / n))
    if treated == 0 or control == 0:
        estimate = math.inf if control == 0 and treated > 0 else (
            0.0 if treated == 0 and control > 0 else float("nan"))
        return estimate, float("nan"), float("nan"), float("nan")
    estimate = treated / control
    variance = float(np.sum((n_t * n_c * (a + c) - a * c * n) / n**2)) / (treated * control)
    low, high, p = _wald(math.log(estimate), math.sqrt(max(variance, 0.0)), alpha)
    return estimate, math.exp(low), math.exp(high), p


def _counts(frame: pd.DataFrame, outcome: str) -> tuple[int, int, int, int]:
    treated = frame["arm"] == "treatment"
    return (int(frame.loc[treated, outcome].sum()), int(treated.sum()),
            int(frame.loc[~treated, outcome].sum()), int((~treated).sum()))


def analyse(results: pd.DataFrame, assignments: pd.DataFrame, outcome: str = "clicked",
            alpha: float = ALPHA, correction: str = "holm") -> Analysis:
    """Measure the lift of segmented messaging per segment, overall and stratified.

    Parameters
    ----------
    results : DataFrame
        As returned by :func:`read_results`.
    assignments : DataFrame
        ``customer_id``, ``segment`` and (optionally) ``persona``, one row per
        customer, e.g. from :func:`segmentation.validate.migration.read_assignments`.
    outcome : str
        An outcome column of ``results`` (see :func:`outcomes_of`), e.g.
        ``"clicked"``.
    alpha : float
        Significance level; intervals have coverage ``1 - alpha``.
    correction : {"holm", "bh", "none"}
        Adjustment of the per-segment p-values for testing several segments:
        Holm (family-wise error), Benjamini-Hochberg (false discovery rate) or
        none.

    Returns
    -------
    Analysis

    Raises
    ------
    SegmentationError
        For an unknown outcome or correction, an alpha outside (0, 1), or
        tables without the needed columns.
    """
    if outcome in REQUIRED or outcome not in results.columns:
        choices = ", ".join(repr(c) for c in outcomes_of(results)) or "'clicked', 'converted'"
        raise SegmentationError(f"Unknown outcome {outcome!r}: use one of {choices}.")
    if correction not in CORRECTIONS:
        raise SegmentationError(
            f"Unknown correction {correction!r}: use 'holm', 'bh' or 'none'."
        )
    if not 0 < alpha < 1:
        raise SegmentationError(f"alpha must be between 0 and 1, not {alpha!r}: use e.g. 0.05.")
    for label, frame, needed in (("The results", results, ("customer_id", "arm", outcome)),
                                 ("The assignments", assignments, ("customer_id", "segment"))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise SegmentationError(
                f"{label} table has no {', '.join(map(repr, missing))} column: read it with "
                f"{'read_results' if label == 'The results' else 'read_assignments'} first."
            )
    assigned = assignments[["customer_id", "segment"]].copy()
    assigned["persona"] = (assignments["persona"].astype(str) if "persona" in assignments
                           else "Segment " + assignments["segment"].astype(str))
    assigned["customer_id"] = assigned["customer_id"].astype(str)
    assigned = assigned.drop_duplicates("customer_id")
    data = results[["customer_id", "arm", outcome]].copy()
    data["customer_id"] = data["customer_id"].astype(str)
    joined = data.merge(assigned, on="customer_id", how="left", validate="many_to_one")
    in_segment = joined["segment"].notna()
    unassigned = int((~in_segment).sum())
    joined = joined[in_segment]

    rows = []
    for (segment, persona), group in joined.groupby(["segment", "persona"], sort=True):
        row = {"segment": segment, "persona": persona}
        row.update(_compare_arms(*_counts(group, outcome), alpha=alpha))
        rows.append(row)
    per_segment = pd.DataFrame(rows, columns=[c for c in SEGMENT_COLUMNS
                                              if c not in ("p_adjusted", "significant")])
    per_segment["p_adjusted"] = _adjust(per_segment["p_value"], correction, alpha)
    per_segment["significant"] = per_segment["p_adjusted"] < alpha
    if not per_segment.empty:
        per_segment["segment"] = per_segment["segment"].astype(np.int64)

    overall = _compare_arms(*_counts(data, outcome), alpha=alpha)
    overall["unassigned"] = unassigned
    cmh = _cmh(per_segment, alpha)
    notes = []
    if unassigned:
        notes.append(f"{unassigned} customer(s) in the results have no segment in the "
                     "assignments: they count in the overall figures but in no segment and "
                     "not in the stratified test.")
    skipped = int((per_segment["n_control"].eq(0) | per_segment["n_treatment"].eq(0)).sum())
    if skipped:
        notes.append(f"{skipped} segment(s) have customers in one arm only and cannot be "
                     "compared.")
    return Analysis(per_segment=per_segment, overall=overall, cmh=cmh,
                    verdict=_verdict(overall, cmh, outcome, alpha), outcome=outcome,
                    alpha=alpha, correction=correction, unassigned=unassigned,
                    notes=tuple(notes))


def _adjust(p_values: pd.Series, correction: str, alpha: float) -> pd.Series:
    adjusted = pd.Series(np.nan, index=p_values.index, dtype=float)
    valid = p_values.notna()
    method = CORRECTIONS[correction]
    if not valid.any():
        return adjusted
    if method is None:
        adjusted[valid] = p_values[valid]
    else:
        adjusted[valid] = multipletests(p_values[valid].to_numpy(), alpha=alpha,
                                        method=method)[1]
    return adjusted


def _strata_tables(per_segment: pd.DataFrame) -> list[np.ndarray]:
    """The 2x2 table of every segment with both arms, treatment in the first row.

    Each table is ``[[events_t, non_events_t], [events_c, non_events_c]]``, so
    an odds ratio above 1 means the treatment did better.
    """
    tables = []
    for row in per_segment.itertuples():
        if row.n_control == 0 or row.n_treatment == 0:
            continue
        tables.append(np.array([[row.events_treatment, row.n_treatment - row.events_treatment],
                                [row.events_control, row.n_control - row.events_control]],
                               dtype=float))
    return tables


def _cmh(per_segment: pd.DataFrame, alpha: float) -> dict:
    keys = ("p_value", "risk_ratio", "risk_ratio_low", "risk_ratio_high", "risk_ratio_p",
            "rel_lift", "rel_lift_low", "rel_lift_high", "risk_difference",
            "risk_difference_low", "risk_difference_high", "risk_difference_p",
            "odds_ratio", "odds_ratio_low", "odds_ratio_high")
    tables = _strata_tables(per_segment)
    out: dict = dict.fromkeys(keys, float("nan"))
    out["strata"] = len(tables)
    if not tables:
        return out
    # A segment where no one (or everyone) responded makes the odds ratio infinite or
    # undefined; statsmodels then warns and returns inf/NaN, which is reported as it is.
    with np.errstate(divide="ignore", invalid="ignore"):
        table = StratifiedTable(tables)
        out["odds_ratio"] = float(table.oddsratio_pooled)
        low, high = table.oddsratio_pooled_confint(alpha=alpha)
        out["odds_ratio_low"], out["odds_ratio_high"] = float(low), float(high)
        out["p_value"] = float(table.test_null_odds(correction=False).pvalue)
        (out["risk_ratio"], out["risk_ratio_low"], out["risk_ratio_high"],
         out["risk_ratio_p"]) = _mh_risk_ratio(tables, alpha=alpha)
        (out["risk_difference"], out["risk_difference_low"], out["risk_difference_high"],
         out["risk_difference_p"]) = _mh_risk_difference(tables, alpha=alpha)
    for key in ("", "_low", "_high"):
        out[f"rel_lift{key}"] = out[f"risk_ratio{key}"] - 1
    return out


def _percent(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value * 100:.1f}%"


def _signed(value: float, unit: str = "%") -> str:
    return "n/a" if not math.isfinite(value) else f"{value * 100:+.1f}{unit}"


def _format_p(p: float) -> str:
    """``"p = 0.003"``, or ``"p < 0.001"`` for smaller values."""
    if not math.isfinite(p):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _excludes(low: float, high: float, null: float) -> bool:
    return low > null or high < null


def _verdict(overall: dict, cmh: dict, outcome: str, alpha: float) -> str:
    word = OUTCOME_WORDS.get(outcome, f"{outcome!r} rate")
    level = f"{(1 - alpha) * 100:g}%"
    p = cmh["p_value"]
    events = overall["events_control"] + overall["events_treatment"]
    customers = overall["n_control"] + overall["n_treatment"]
    if customers and events in (0, customers):
        rate = "no" if events == 0 else "every"
        return (f"No lift can be measured: {rate} customer in either arm has the {word} "
                "outcome, so the outcome does not vary; check that the right column was read.")
    if cmh["strata"] == 0 or not math.isfinite(p):
        return (f"No reliable lift: no segment has customers in both arms, so the {word} of "
                "segmented messaging cannot be compared.")
    rr, rd = cmh["risk_ratio"], cmh["risk_difference"]
    figures = (f"(Mantel-Haenszel risk ratio {cmh['risk_ratio']:.2f}, {level} CI "
               f"{cmh['risk_ratio_low']:.2f} to {cmh['risk_ratio_high']:.2f}; difference "
               f"{_signed(rd, ' percentage points')}, {level} CI "
               f"{_signed(cmh['risk_difference_low'], '')} to "
               f"{_signed(cmh['risk_difference_high'], '')}), {_format_p(p)} "
               f"(Cochran-Mantel-Haenszel test across {cmh['strata']} segment(s))")
    crude_lift = overall["rel_lift"]
    crude = (f" Crude lift, pooling all customers and ignoring segments: {_signed(crude_lift)} "
             f"({level} CI {_signed(overall['rel_lift_low'])} to "
             f"{_signed(overall['rel_lift_high'])})")
    if math.isfinite(crude_lift) and math.isfinite(rd) and crude_lift * rd < 0:
        crude += (", the opposite direction, because the arms are spread unevenly across "
                  "segments of different rates")
    crude += "."
    # The CMH test and the two Wald intervals are different statistics; near the threshold
    # they can disagree, and then the verdict says so instead of picking one.
    signals = {p < alpha, _excludes(cmh["risk_ratio_low"], cmh["risk_ratio_high"], 1.0),
               _excludes(cmh["risk_difference_low"], cmh["risk_difference_high"], 0.0)}
    if signals == {True}:
        direction = "lifted" if rd > 0 else "lowered"
        return (f"Segmented messaging {direction} {word} by {_percent(abs(rr - 1))} within "
                f"segments {figures}.{crude}")
    if signals == {False}:
        return (f"No reliable lift: within segments, segmented messaging changed {word} by "
                f"{_signed(rr - 1)} {figures}.{crude}")
    return (f"Borderline: within segments, segmented messaging changed {word} by "
            f"{_signed(rr - 1)}, but the test and the intervals disagree at the {level} level, "
            f"so the lift is not established {figures}.{crude}")
