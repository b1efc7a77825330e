"""Figures for comparing clustering methods and for how segments split as K grows.

Tidy frames in (from :mod:`segmentation.cluster.methods` and
:mod:`segmentation.cluster.splits`), plotly figures out; nothing statistical is computed here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts import CHOSEN_COLOR, LINE_COLOR, REFERENCE_COLOR, TEMPLATE, _finish

# The widest edge of the split tree, in pixels: one K's whole population.
MAX_EDGE_WIDTH = 18
# Edges carrying under this share of their parent are drawn faint: strays, not a split.
FAINT_SHARE = 0.1


def agreement_heatmap(agreement: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Adjusted Rand index between every pair of methods.

    ``agreement`` has ``method_a``, ``method_b`` and ``ari`` (both orders and the diagonal);
    ``labels`` gives each method's display name, in the order to draw.
    """
    order = [m for m in labels if m in set(agreement["method_a"])]
    grid = agreement.pivot(index="method_a", columns="method_b", values="ari").loc[order, order]
    names = [labels[m] for m in order]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=names, y=names, zmin=0, zmax=1, colorscale="Blues",
        text=grid.map(lambda v: f"{v:.2f}").to_numpy(), texttemplate="%{text}",
        colorbar={"title": "ARI"},
        hovertemplate="%{y} vs %{x}: adjusted Rand index %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _finish(fig, "Agreement between methods (adjusted Rand index; 1 = same segments)")


def dendrogram_chart(frame: pd.DataFrame, cut_height: float | None = None) -> go.Figure:
    """Ward's tree from its line segments (``link``, ``x``, ``y``), with the cut drawn."""
    fig = go.Figure()
    for _, link in frame.groupby("link", sort=True):
        fig.add_trace(go.Scatter(x=link["x"], y=link["y"], mode="lines",
                                 line={"color": LINE_COLOR, "width": 1.5},
                                 hoverinfo="skip", showlegend=False))
    if cut_height is not None:
        fig.add_hline(y=cut_height, line={"color": CHOSEN_COLOR, "dash": "dash"},
                      annotation_text="cut at the chosen K")
    fig.update_xaxes(showticklabels=False, title="customers (merged groups at the bottom)")
    fig.update_yaxes(title="Ward merge distance")
    return _finish(fig, "Ward's dendrogram")


def _node_positions(nodes: pd.DataFrame) -> dict[tuple[int, int], tuple[float, float]]:
    """Each (K, segment) at x spread evenly across its row, y = K (top to bottom)."""
    out = {}
    for k, row in nodes.groupby("k", sort=True):
        count = len(row)
        for i, seg in enumerate(row.sort_values("segment")["segment"]):
            out[(int(k), int(seg))] = ((i + 1) / (count + 1), float(k))
    return out


def split_tree_chart(nodes: pd.DataFrame, edges: pd.DataFrame) -> go.Figure:
    """The clustree: one row of segments per K, edges as wide as the customers they carry.

    ``nodes`` has ``k``, ``segment``, ``customers``, ``unstable``, ``why``; ``edges`` has
    ``k``, ``parent``, ``child``, ``customers``, ``share_of_parent``.
    """
    pos = _node_positions(nodes)
    total = float(nodes.groupby("k")["customers"].sum().max())
    fig = go.Figure()
    for edge in edges.itertuples():
        (x0, y0), (x1, y1) = pos[(edge.k - 1, edge.parent)], pos[(edge.k, edge.child)]
        faint = edge.share_of_parent < FAINT_SHARE
        fig.add_trace(go.Scatter(
            x=[x0, x1], y=[y0, y1], mode="lines", showlegend=False,
            line={"color": REFERENCE_COLOR if faint else LINE_COLOR,
                  "width": max(1.0, MAX_EDGE_WIDTH * edge.customers / total)},
            opacity=0.35 if faint else 0.7,
            hovertemplate=(f"K = {edge.k - 1} segment {edge.parent} → K = {edge.k} segment "
                           f"{edge.child}: {edge.customers:,} customers "
                           f"({edge.share_of_parent:.0%} of the parent)<extra></extra>")))
    for unstable, name, color in ((False, "stable", LINE_COLOR),
                                  (True, "unstable", CHOSEN_COLOR)):
        part = nodes[nodes["unstable"] == unstable]
        if part.empty:
            continue
        xy = [pos[(int(r.k), int(r.segment))] for r in part.itertuples()]
        fig.add_trace(go.Scatter(
            x=[p[0] for p in xy], y=[p[1] for p in xy], mode="markers+text", name=name,
            text=[str(s) for s in part["segment"]], textposition="middle right",
            marker={"size": [8 + 24 * c / total for c in part["customers"]], "color": color,
                    "symbol": "x" if unstable else "circle"},
            customdata=part[["customers", "why"]].to_numpy(),
            hovertemplate=("segment %{text} at K = %{y}: %{customdata[0]:,} customers"
                           "<br>%{customdata[1]}<extra></extra>")))
    fig.update_yaxes(autorange="reversed", dtick=1, title="K")
    fig.update_xaxes(visible=False)
    fig.update_layout(template=TEMPLATE)
    return _finish(fig, "How segments split as K grows", "Segment")
