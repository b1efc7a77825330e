"""Tidy frames behind the exploration charts: one row per observation, snake_case columns.

Charts only draw what these return; every figure a chart shows (percentiles,
correlations, shares, PCA coordinates) is computed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from .clustering import Segmentation
from .features import FeatureMatrix
from .personas import Persona
from .profiles import Profiles

# Whiskers of the income box plot: robust to the odd extreme income,
# unlike Tukey's 1.5 IQR fences, and easy to say: "90% of the segment".
WHISKER_QUANTILES = (0.05, 0.95)
MAX_MAP_POINTS = 5000


def _names_frame(names: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame({"segment": list(names), "persona": list(names.values())})


_CHANNEL_NAMES = {"web": "Web", "catalog": "Catalog", "store": "Store", "app": "App"}


def cheat_sheet(profiles: Profiles, personas: tuple[Persona, ...]) -> pd.DataFrame:
    """The one-row-per-segment summary a workshop works from.

    Columns: segment, persona, size, share, revenue_share, avg_income, avg_wine,
    avg_meat, avg_total_spend, avg_recency, preferred_channel (absent
    variables give empty cells).
    """
    def mean_of(kind: str, detail: str | None = None) -> pd.Series:
        var = profiles.first(kind, detail)
        return profiles.means[var] if var else pd.Series(np.nan, index=profiles.means.index)

    out = profiles.summary.assign(
        persona=[p.name for p in personas],
        avg_income=mean_of("income").to_numpy(),
        avg_wine=mean_of("spend", "wine").to_numpy(),
        avg_meat=mean_of("spend", "meat").to_numpy(),
        avg_total_spend=mean_of("total_spend").to_numpy(),
        avg_recency=mean_of("recency").to_numpy(),
        preferred_channel=[_CHANNEL_NAMES.get(p.preferred_channel, p.preferred_channel)
                           for p in personas],
    )
    return out[["segment", "persona", "size", "share", "revenue_share", "avg_income",
                "avg_wine", "avg_meat", "avg_total_spend", "avg_recency",
                "preferred_channel"]]


def segment_value(profiles: Profiles, names: dict[int, str]) -> pd.DataFrame:
    """Average total spend per segment, with its share of customers and of revenue.

    Columns: segment, persona, size, customer_share, revenue_share, avg_total_spend;
    sorted by average total spend, highest first.
    """
    summary = profiles.summary.rename(columns={"share": "customer_share"})
    spend = profiles.first("total_spend")
    summary = summary.assign(
        avg_total_spend=profiles.means[spend].to_numpy() if spend else np.nan)
    out = summary.merge(_names_frame(names), on="segment")
    cols = ["segment", "persona", "size", "customer_share", "revenue_share", "avg_total_spend"]
    return out[cols].sort_values("avg_total_spend", ascending=False, kind="stable",
                                 ignore_index=True)


def spread(fm: FeatureMatrix, seg: Segmentation, names: dict[int, str],
           variable: str) -> pd.DataFrame:
    """Box-plot figures of one variable per segment, whiskers at the 5th/95th percentiles.

    Columns: segment, persona, n, p05, q1, median, q3, p95, mean.
    """
    values = fm.frame[variable].to_numpy(float)
    rows = []
    for s in range(seg.n_clusters):
        v = values[seg.labels == s]
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
            random_state: int = 42, max_points: int = MAX_MAP_POINTS):
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
