"""What drives the segments: each variable's share of variance between segments, ranked.

Draws the tidy frame of :func:`segmentation.describe.drivers.segment_drivers`; computes
nothing statistical.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

TEMPLATE = "plotly_white"
# Okabe-Ito colours, one per role, told apart under every common colour-vision deficiency.
ROLE_COLORS = {"demographic": "#D55E00", "money": "#E69F00", "spend": "#0072B2",
               "behaviour": "#009E73", "other": "#999999"}
ROLE_LABELS = {"demographic": "Demographic", "money": "Money level", "spend": "Spend",
               "behaviour": "Behaviour", "other": "Other"}
# Bars shown at most: the rest explain less than these and only lengthen the page.
TOP_DRIVERS = 20
# Variables only profiled are drawn paler than those clustered on.
PROFILED_OPACITY = 0.45


def drivers_chart(frame: pd.DataFrame, top: int = TOP_DRIVERS) -> go.Figure:
    """Horizontal bars of ``eta2`` per variable, largest on top, coloured by ``role``.

    Parameters
    ----------
    frame : DataFrame
        ``label``, ``role``, ``clustered`` and ``eta2`` per variable (NaN ``eta2`` rows,
        constant variables, are left out).
    top : int
        The number of variables drawn.
    """
    shown = (frame.dropna(subset=["eta2"]).sort_values("eta2", ascending=False, kind="stable")
             .head(top).iloc[::-1])
    fig = go.Figure()
    for role, color in ROLE_COLORS.items():
        for clustered in (True, False):
            part = shown[(shown["role"] == role) & (shown["clustered"] == clustered)]
            if part.empty:
                continue
            how = "clustered on" if clustered else "profiled only"
            fig.add_bar(
                x=part["eta2"], y=[html.escape(str(v), quote=False) for v in part["label"]],
                orientation="h", name=f"{ROLE_LABELS[role]}, {how}",
                marker={"color": color, "opacity": 1.0 if clustered else PROFILED_OPACITY},
                text=[f"{v:.0%}" for v in part["eta2"]], textposition="outside",
                hovertemplate="%{y}: segments explain %{x:.0%} of its variance<extra></extra>")
    order = [html.escape(str(v), quote=False) for v in shown["label"]]
    fig.update_layout(
        template=TEMPLATE, barmode="overlay",
        title="What drives the segments: share of each variable's variance between segments",
        xaxis={"title": "Variance explained by the segments (η²)", "tickformat": ".0%",
               "range": [0, 1.08]},
        yaxis={"categoryorder": "array", "categoryarray": order, "title": None},
        legend_title_text="Variable", height=max(320, 26 * len(shown) + 140),
        margin={"l": 10, "r": 10, "t": 60, "b": 40})
    return fig


def ablation_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The ablation table with display headers, for a page or the report."""
    return table.rename(columns={
        "label": "Variable left out", "ari": "Agreement with all variables (ARI)",
        "profile_change": "Profile change (mean |Δz|)", "droppable": "Barely changes"},
    ).drop(columns=["variable"])
