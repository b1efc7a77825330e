"""Tidy frames behind the exploration charts: one row per observation, snake_case columns.

Charts only draw what these return; every figure a chart shows (percentiles,
correlations, shares, PCA coordinates) is computed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from segmentation.cluster.kmeans import Segmentation
from segmentation.config import (
    DEFAULT_SEED,
    MAX_MAP_POINTS,
    WHISKER_QUANTILES,
)
from segmentation.describe.personas import Persona
from segmentation.describe.profiles import Profiles
from segmentation.prepare.features import FeatureMatrix
from segmentation.prepare.variables import CHANNEL_LABELS


def _names_frame(names: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame({"segment": list(names), "persona": list(names.values())})


# Cheat-sheet columns a marketing file is known by: (column, kind, detail, header, format).
_NAMED_COLUMNS = (
    ("avg_income", "income", None, "Avg income", "num0"),
    ("avg_wine", "spend", "wine", "Avg wine", "num0"),
    ("avg_meat", "spend", "meat", "Avg meat", "num0"),
    ("avg_total_spend", "total_spend", None, "Avg total spend", "num0"),
    ("avg_recency", "recency", None, "Days since purchase", "num1"),
)
# Variables whose mean is a share of customers (0/1 per customer): shown as percentages.
SHARE_KINDS = frozenset({"binary", "outcome", "campaign", "complaint", "sentinel_flag", "level",
                         "spend_share", "channel_share"})
# Variables a segment's worth can be read from, the most telling first.
VALUE_KINDS = ("total_spend", "money", "spend", "income", "total_purchases", "other")
# Variables a box plot can show: measures in their own units, not 0/1 flags.
MEASURE_KINDS = ("income", "money", "total_spend", "spend", "other", "age", "recency",
                 "tenure", "children", "household_size", "total_purchases", "channel", "deals",
                 "web_visits", "campaigns_accepted", "measure_na", "days_since", "education",
                 "composite")


def _finite(values) -> bool:
    return bool(np.isfinite(np.asarray(values, dtype=float)).any())


def _decimals(values) -> str:
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    return "num0" if top >= 100 else "num1" if top >= 1 else "num2"


def cheat_sheet(profiles: Profiles, personas: tuple[Persona, ...]) -> pd.DataFrame:
    """The one-row-per-segment summary a workshop works from.

    Columns: segment, persona, size, share; then, only when the file has what
    they need, revenue_share, avg_income, avg_wine, avg_meat, avg_total_spend,
    avg_recency; then ``avg_<variable>`` for every other clustering variable,
    money and outcome variable; then preferred_channel when some persona has
    one. No column is all empty. :func:`cheat_sheet_columns` gives each
    column's header and number format.

    Examples
    --------
    >>> sheet = cheat_sheet(result.profiles, result.personas)  # doctest: +SKIP
    >>> list(sheet.columns[:4])  # doctest: +SKIP
    ['segment', 'persona', 'size', 'share']
    """
    summary = profiles.sizes
    out = summary[["segment", "size", "share"]].assign(persona=[p.name for p in personas])
    columns = ["segment", "persona", "size", "share"]
    if "revenue_share" in summary and _finite(summary["revenue_share"]):
        out["revenue_share"] = summary["revenue_share"].to_numpy()
        columns.append("revenue_share")
    shown: set[str] = set()
    for column, kind, detail, _, _ in _NAMED_COLUMNS:
        var = profiles.first(kind, detail)
        if var and var in profiles.means and _finite(profiles.means[var]):
            out[column] = profiles.means[var].to_numpy()
            columns.append(column)
            shown.add(var)
    extras = [*profiles.features, *profiles.kind("money"), *profiles.kind("outcome")]
    for var in dict.fromkeys(extras):
        if var in shown or var not in profiles.means or not _finite(profiles.means[var]):
            continue
        out[f"avg_{var}"] = profiles.means[var].to_numpy()
        columns.append(f"avg_{var}")
    channels = [CHANNEL_LABELS.get(p.preferred_channel, p.preferred_channel) or ""
                for p in personas]
    if any(channels):
        out["preferred_channel"] = channels
        columns.append("preferred_channel")
    return out[columns]


def cheat_sheet_columns(profiles: Profiles, sheet: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """``{column: (header, format)}`` for a :func:`cheat_sheet` frame, in its column order.

    Formats: ``int``, ``pct1`` (a share shown as a percentage), ``num0``/``num1``/``num2``
    (decimal places) and ``text``.
    """
    fixed = {"segment": ("Segment", "int"), "persona": ("Persona", "text"),
             "size": ("Customers", "int"), "share": ("Share of customers", "pct1"),
             "revenue_share": ("Share of revenue", "pct1"),
             "preferred_channel": ("Preferred channel", "text")}
    fixed.update({c: (header, fmt) for c, _, _, header, fmt in _NAMED_COLUMNS})
    out = {}
    for column in sheet.columns:
        if column in fixed:
            out[column] = fixed[column]
            continue
        var = profiles.variables[column.removeprefix("avg_")]
        if var.kind in SHARE_KINDS:
            out[column] = (f"{var.label} (share)", "pct1")
        else:
            out[column] = (f"Avg {var.label}", _decimals(sheet[column]))
    return out


def value_variables(profiles: Profiles) -> list[str]:
    """Variables a segment's worth can be ranked by, total spend first when there is one."""
    return [n for kind in VALUE_KINDS for n in profiles.kind(kind)
            if n in profiles.means and _finite(profiles.means[n])]


def measure_variables(profiles: Profiles) -> list[str]:
    """Variables in their own units (not 0/1 flags), for box plots; income first."""
    return [n for kind in MEASURE_KINDS for n in profiles.kind(kind)
            if n in profiles.means and _finite(profiles.means[n])]


def segment_value(profiles: Profiles, names: dict[int, str],
                  variable: str | None = None) -> pd.DataFrame:
    """Average of a value variable per segment, with its share of customers and of the total.

    ``variable`` is any numeric variable of the profiles (see
    :func:`value_variables`); by default total spend, then the first money variable.

    Columns: segment, persona, size, customer_share, value_share, avg_value,
    variable, label; sorted by ``avg_value``, highest first. ``value_share`` is
    the segment's part of the variable's sum over everyone, and is empty when
    the variable can be negative (a share of a sum of mixed signs means nothing).

    Raises
    ------
    ValueError
        When there is no such variable, or none to default to.
    """
    if variable is None:
        candidates = value_variables(profiles)
        if not candidates:
            raise ValueError("segment_value: the profiles have no money or measure variable")
        variable = candidates[0]
    if variable not in profiles.means:
        raise ValueError(f"segment_value: no profiled variable {variable!r}")
    summary = profiles.sizes.rename(columns={"share": "customer_share"})
    means = profiles.means[variable].to_numpy(float)
    sums = np.nan_to_num(means) * summary["size"].to_numpy(float)
    total = sums.sum()
    nonnegative = bool(np.nanmin(means) >= 0) if _finite(means) else False
    share = sums / total if nonnegative and total > 0 else np.full(len(sums), np.nan)
    summary = summary.assign(avg_value=means, value_share=share, variable=variable,
                             label=profiles.variables[variable].label)
    out = summary.merge(_names_frame(names), on="segment")
    cols = ["segment", "persona", "size", "customer_share", "value_share", "avg_value",
            "variable", "label"]
    return out[cols].sort_values("avg_value", ascending=False, kind="stable",
                                 ignore_index=True)


def spread(fm: FeatureMatrix, seg: Segmentation, names: dict[int, str],
           variable: str) -> pd.DataFrame:
    """Box-plot figures of one variable per segment, whiskers at the 5th/95th percentiles.

    Columns: segment, persona, n, p05, q1, median, q3, p95, mean. Missing values
    are left out; a segment with none has no row.
    """
    values = fm.frame[variable].to_numpy(float)
    rows = []
    for s in range(seg.n_clusters):
        v = values[seg.labels == s]
        v = v[np.isfinite(v)]
        if not v.size:
            continue  # nobody in the segment has a value: no box to draw
        p05, q1, med, q3, p95 = np.quantile(v, [WHISKER_QUANTILES[0], .25, .5, .75,
                                                WHISKER_QUANTILES[1]])
        rows.append({"segment": s, "persona": names[s], "n": v.size, "p05": p05, "q1": q1,
                     "median": med, "q3": q3, "p95": p95, "mean": v.mean()})
    return pd.DataFrame(rows)


def spend_correlation(fm: FeatureMatrix, seg: Segmentation | None = None,
                      segment: int | None = None) -> pd.DataFrame:
    """Pearson correlations between spend categories, for everyone or one segment.

    Columns: var_a, var_b, label_a, label_b, r (every ordered pair, diagonal included).
    """
    if segment is not None and seg is None:
        raise ValueError("spend_correlation: a segment needs the segmentation it belongs to")
    spend = [n for n, v in fm.variables.items() if v.kind == "spend"]
    frame = fm.frame[spend]
    if segment is not None:
        frame = frame.loc[seg.labels == segment]
    corr = frame.corr(method="pearson")
    long = corr.rename_axis(index="var_a", columns="var_b").stack()
    out = long.rename("r").reset_index()
    labels = {n: fm.variables[n].label for n in spend}
    return out.assign(label_a=out["var_a"].map(labels), label_b=out["var_b"].map(labels))[
        ["var_a", "var_b", "label_a", "label_b", "r"]]


def channel_mix(profiles: Profiles, names: dict[int, str]) -> pd.DataFrame:
    """Average purchases per channel (plus deals and web visits) per segment.

    Columns: segment, persona, variable, channel, kind, mean, share. ``share``
    is the channel's part of the segment's purchases across buying channels
    (web, catalog, store ...); it is empty for deals and web visits, which
    are not channels of their own.
    """
    rows = []
    channels = profiles.kind("channel")
    extras = profiles.kind("deals") + profiles.kind("web_visits")
    for s in range(profiles.n_segments):
        means = profiles.means.loc[s]
        total = sum(means[c] for c in channels)
        for var in channels + extras:
            kind = profiles.variables[var].kind
            share = means[var] / total if kind == "channel" and total > 0 else np.nan
            rows.append({"segment": s, "persona": names[s], "variable": var,
                         "channel": profiles.variables[var].label, "kind": kind,
                         "mean": float(means[var]), "share": share})
    return pd.DataFrame(rows)


def category_variables(profiles: Profiles) -> list[str]:
    """Category columns whose levels were profiled (each level a 0/1 variable), in order."""
    return list(dict.fromkeys(v.sources[0] for v in profiles.variables.values()
                              if v.kind == "level" and v.sources))


def _levels(profiles: Profiles, category: str) -> list[str]:
    return [n for n, v in profiles.variables.items()
            if v.kind == "level" and v.sources == (category,) and n in profiles.means]


def category_mix(profiles: Profiles, names: dict[int, str], category: str) -> pd.DataFrame:
    """Each segment's split across the levels of one category column.

    Columns: segment, persona, variable, level, share (the segment's share of
    customers at that level; a segment's shares add up to 1 when every level
    was kept).
    """
    levels = _levels(profiles, category)
    if not levels:
        raise ValueError(f"category_mix: {category!r} is not a profiled category")
    rows = [{"segment": s, "persona": names[s], "variable": var,
             "level": str(profiles.variables[var].detail),
             "share": float(np.nan_to_num(profiles.means.loc[s, var]))}
            for s in range(profiles.n_segments) for var in levels]
    return pd.DataFrame(rows)


def profile_z(profiles: Profiles, names: dict[int, str],
              variables: list[str] | None = None) -> pd.DataFrame:
    """Standardized difference from the population, segments × variables, long form.

    Columns: segment, persona, variable, label, z, mean.
    """
    variables = variables or [v for v in profiles.features if v in profiles.z.columns]
    rows = [{"segment": s, "persona": names[s], "variable": v,
             "label": profiles.variables[v].label, "z": float(profiles.z.loc[s, v]),
             "mean": float(profiles.means.loc[s, v])}
            for s in range(profiles.n_segments) for v in variables]
    return pd.DataFrame(rows)


def pca_map(fm: FeatureMatrix, seg: Segmentation, names: dict[int, str],
            random_state: int = DEFAULT_SEED, max_points: int = MAX_MAP_POINTS):
    """Customers on the first two principal components of the clustering space.

    Returns the frame (customer_id, segment, persona, pc1, pc2; at most
    ``max_points`` customers, a fixed-seed sample above that) and the share of
    variance the two components explain.
    """
    n_components = min(2, fm.X.shape[1])
    pca = PCA(n_components=n_components, random_state=random_state).fit(fm.X)
    idx = np.arange(fm.n_customers)
    if idx.size > max_points:
        idx = np.sort(np.random.default_rng(random_state).choice(idx, max_points,
                                                                 replace=False))
    coords = pca.transform(fm.X[idx])
    if n_components == 1:
        coords = np.column_stack([coords[:, 0], np.zeros(len(idx))])
    frame = pd.DataFrame({
        "customer_id": fm.customer_ids[idx].astype(str),
        "segment": seg.labels[idx],
        "persona": [names[s] for s in seg.labels[idx]],
        "pc1": coords[:, 0],
        "pc2": coords[:, 1],
    })
    return frame, tuple(float(v) for v in pca.explained_variance_ratio_)


def customer_values(fm: FeatureMatrix, seg: Segmentation, names: dict[int, str],
                    variable: str) -> pd.DataFrame:
    """One variable for every customer. Columns: customer_id, segment, persona, value."""
    return pd.DataFrame({
        "customer_id": fm.customer_ids.astype(str),
        "segment": seg.labels,
        "persona": [names[s] for s in seg.labels],
        "value": fm.frame[variable].to_numpy(float),
    })


def silhouette_frame(seg: Segmentation, names: dict[int, str]) -> pd.DataFrame:
    """Per-customer silhouettes, sorted within segment (best first), for the silhouette diagram.

    Columns: customer_id, segment, persona, silhouette, rank (position within
    the diagram, segments stacked in order). Customers without a silhouette
    (outside the sample on large data) are left out.
    """
    frame = pd.DataFrame({
        "customer_id": seg.customer_ids.astype(str),
        "segment": seg.labels,
        "persona": [names[s] for s in seg.labels],
        "silhouette": seg.silhouette_values,
    }).dropna(subset=["silhouette"])
    frame = frame.sort_values(["segment", "silhouette"], ascending=[True, False],
                              ignore_index=True)
    return frame.assign(rank=np.arange(len(frame)))


def rfm_grid(rfm: pd.DataFrame, labels: np.ndarray, names: dict[int, str]) -> pd.DataFrame:
    """Customers in each RFM grid cell by persona, one row per (cell, persona).

    Parameters
    ----------
    rfm : DataFrame
        :func:`segmentation.cluster.rfm.rfm_of`'s table (one row per customer, in
        segmentation order).
    labels : ndarray
        Each customer's segment.
    names : dict
        ``{segment: persona name}``.

    Returns
    -------
    DataFrame
        Columns cell, segment, persona, customers, share (of the persona's
        customers; each persona's shares add up to 1). Cells follow
        :data:`segmentation.cluster.rfm.CELLS`; cells nobody is in are left out.

    Examples
    --------
    >>> rfm = pd.DataFrame({"rfm_cell": ["Lost", "Champions", "Lost"]})
    >>> rfm_grid(rfm, np.array([0, 1, 1]), {0: "A", 1: "B"})["customers"].tolist()
    [0, 1, 1, 1]
    """
    from segmentation.cluster.rfm import CELLS

    labels = np.asarray(labels)
    cells = [c for c in CELLS if c in set(rfm["rfm_cell"])]
    rows = []
    for s, persona in sorted(names.items()):
        in_segment = rfm["rfm_cell"].to_numpy()[labels == s]
        total = in_segment.size
        for cell in cells:
            n = int((in_segment == cell).sum())
            rows.append({"cell": cell, "segment": s, "persona": persona, "customers": n,
                         "share": n / total if total else 0.0})
    return pd.DataFrame(rows, columns=["cell", "segment", "persona", "customers", "share"])


def share_mix(profiles: Profiles, names: dict[int, str],
              variables: list[str]) -> pd.DataFrame:
    """Each segment's average split across share columns (an order log's spend per category,
    or orders per channel), in :func:`category_mix`'s columns.

    Columns: segment, persona, variable, level, share. ``level`` is the part of
    the variable's label after its colon ("Share of spend: Garden" → "Garden").
    A customer's shares add up to 1, so a segment's average shares do too.
    """
    rows = [{"segment": s, "persona": names[s], "variable": var,
             "level": str(profiles.variables[var].label).rpartition(": ")[2],
             "share": float(np.nan_to_num(profiles.means.loc[s, var]))}
            for s in range(profiles.n_segments) for var in variables
            if var in profiles.means]
    return pd.DataFrame(rows, columns=["segment", "persona", "variable", "level", "share"])


# An order log's recency, frequency (orders) and monetary (net spend) columns.
RFM_MEASURES = ("recency_days", "orders", "net_spend")
# An order log's share columns by the prefix the aggregation gives them: title, what a share is.
LOG_SHARES = (("share_", "Spend by product category", "Average share of a customer's spend"),
              ("channel_share_", "Orders by channel", "Average share of a customer's orders"))


def log_share_variables(log) -> list[tuple[str, str, list[str]]]:
    """(title, what a share is, share columns) of an order log (``OrderLog``), for
    :func:`share_mix`; groups the log has no column for are left out."""
    out = [(title, measure, [c for c in log.customers.columns if str(c).startswith(prefix)])
           for prefix, title, measure in LOG_SHARES]
    return [group for group in out if group[2]]
