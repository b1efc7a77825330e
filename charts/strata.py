"""The per-stratum K panel's figure: each stratum's K and how well its segments separate."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts import LINE_COLOR, REFERENCE_COLOR, _finish, _plain
from segmentation.cluster.kmeans import WEAK_SILHOUETTE


def stratum_k_chart(table: pd.DataFrame) -> go.Figure:
    """Silhouette within each stratum, its bar labelled with the stratum's K.

    ``table`` is :meth:`segmentation.cluster.strata.StrataFit.table` (``stratum``,
    ``customers``, ``k``, ``silhouette``); a one-segment stratum has no silhouette and
    shows an empty bar labelled "1 segment".
    """
    labels = [_plain(s) for s in table["stratum"]]
    text = [f"K = {k}" if k > 1 else "1 segment" for k in table["k"]]
    fig = go.Figure(go.Bar(
        x=labels, y=table["silhouette"].fillna(0.0), text=text, textposition="outside",
        marker_color=LINE_COLOR,
        customdata=table[["customers", "k"]].to_numpy(),
        hovertemplate="%{x}<br>%{customdata[0]:,} customers, K = %{customdata[1]}"
                      "<br>silhouette %{y:.2f}<extra></extra>"))
    fig.add_hline(y=WEAK_SILHOUETTE, line_dash="dot", line_color=REFERENCE_COLOR,
                  annotation_text="weak under 0.3", annotation_position="top left")
    fig.update_yaxes(title_text="Silhouette within the stratum", rangemode="tozero")
    fig.update_xaxes(title_text="Stratum")
    return _finish(fig, "K and separation in each stratum")
