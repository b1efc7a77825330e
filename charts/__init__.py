"""Plotly figures for the studio pages and the HTML report, drawn from the tidy frames of
``segmentation.describe.explore``.

Every builder takes a frame, returns a ``go.Figure`` and computes nothing
statistical: percentiles, correlations, shares and PCA coordinates all come
from :mod:`segmentation.describe.explore`, so a number on a chart is the number the
engine reports. Nothing here calls Streamlit, so the report draws the same
figures without the app. Personas are drawn in segment order (unless a chart
ranks them) and keep one colour everywhere, chosen by segment number.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.colors as pc
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmentation.cluster.kmeans import REPLICATES, SMALL_SEGMENT_SHARE, WEAK_SILHOUETTE
from segmentation.describe.explore import WHISKER_QUANTILES

TEMPLATE = "plotly_white"
# Paul Tol's colour-blind-safe qualitative set (11 colours). Its last colour is
# grey, which K <= 10 never reaches, so no segment looks like "other".
PALETTE: tuple[str, ...] = tuple(
    "#{:02X}{:02X}{:02X}".format(*(int(round(c)) for c in pc.unlabel_rgb(rgb)))
    for rgb in pc.qualitative.Safe
)
# Okabe-Ito blue and vermillion: the K-sweep lines and the chosen K stay
# distinct from each other for every common colour-vision deficiency.
LINE_COLOR = "#0072B2"
CHOSEN_COLOR = "#D55E00"
REFERENCE_COLOR = "#666666"
# Headers and number formats of the lifetime table per persona, on the pages and in the report.
LIFETIME_HEADERS: dict[str, tuple[str, str]] = {
    "persona": ("Persona", "text"),
    "customers": ("Customers", "%d"),
    "mean_expected_orders_12m": ("Expected orders in 12 months (mean)", "%.1f"),
    "mean_p_alive": ("Probability active (mean)", "percent"),
    "total_expected_value_12m": ("Expected value in 12 months", "%.0f"),
    "mean_expected_value_12m": ("Expected value per customer", "%.0f"),
    "share_expected_value": ("Share of expected value", "percent"),
}


def _plain(text) -> str:
    """Escape ``<``, ``>`` and ``&`` so plotly shows user text as typed, never as markup."""
    return html.escape(str(text), quote=False)


def _segment_color(segment: int) -> str:
    return PALETTE[int(segment) % len(PALETTE)]


def persona_colors(names: dict[int, str]) -> dict[str, str]:
    """Map each persona name to a hex colour chosen by its segment number."""
    # Keyed by segment, not by name: renaming a persona keeps its colour.
    return {name: _segment_color(segment) for segment, name in sorted(names.items())}


def _personas(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per segment present in ``frame``: segment, persona, label (escaped), color."""
    rows = frame[["segment", "persona"]].drop_duplicates("segment").sort_values("segment")
    return rows.assign(label=rows["persona"].map(_plain)).reset_index(drop=True)


def _color_of(colors: dict[str, str], persona: str, segment: int) -> str:
    # A persona missing from ``colors`` still gets the colour persona_colors
    # would give it, so a stale map never recolours a chart.
    return colors.get(persona, _segment_color(segment))


def _label_colors(personas: pd.DataFrame, colors: dict[str, str]) -> dict[str, str]:
    return {row.label: _color_of(colors, row.persona, row.segment)
            for row in personas.itertuples(index=False)}


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with persona (and customer id) escaped for display."""
    out = frame.assign(persona=frame["persona"].map(_plain))
    if "customer_id" in out:
        out["customer_id"] = out["customer_id"].map(_plain)
    return out


def _ordinal(q: float) -> str:
    n = int(round(q * 100))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _finish(fig: go.Figure, title: str, legend_title: str | None = None) -> go.Figure:
    fig.update_layout(template=TEMPLATE, title={"text": title, "x": 0.0, "xanchor": "left"},
                      margin={"t": 70, "l": 10, "r": 10, "b": 10})
    if legend_title is not None:
        fig.update_layout(legend_title_text=legend_title)
    return fig


def _row_at(metrics: pd.DataFrame, k: int | None) -> pd.Series | None:
    if k is None:
        return None
    hit = metrics.loc[metrics["k"] == k]
    return None if hit.empty else hit.iloc[0]


def elbow_chart(metrics: pd.DataFrame, knee_k: int | None, chosen_k: int | None) -> go.Figure:
    """Inertia (WCSS) per K with the elbow annotated and the chosen K highlighted."""
    fig = go.Figure(go.Scatter(
        x=metrics["k"], y=metrics["inertia"], mode="lines+markers", name="Inertia",
        line={"color": LINE_COLOR}, marker={"size": 8},
        hovertemplate="K = %{x}<br>inertia %{y:,.0f}<extra></extra>"))
    knee = _row_at(metrics, knee_k)
    if knee is not None:
        fig.add_annotation(x=int(knee["k"]), y=float(knee["inertia"]), text="elbow",
                           showarrow=True, arrowhead=2, ax=40, ay=-40)
    chosen = _row_at(metrics, chosen_k)
    if chosen is not None:
        fig.add_trace(go.Scatter(
            x=[int(chosen["k"])], y=[float(chosen["inertia"])], mode="markers",
            name=f"Chosen K = {int(chosen['k'])}",
            marker={"size": 18, "symbol": "circle-open", "color": CHOSEN_COLOR,
                    "line": {"width": 3}},
            hovertemplate="chosen K = %{x}<br>inertia %{y:,.0f}<extra></extra>"))
    fig.update_xaxes(title_text="Number of segments (K)", dtick=1)
    fig.update_yaxes(title_text="Inertia (within-cluster sum of squares)")
    return _finish(fig, "Elbow: inertia by number of segments (lower is tighter)")


# (column, subplot title, scale applied for display, reference line, its note)
_K_PANELS = (
    ("silhouette", "Silhouette (higher is better)", 1.0, WEAK_SILHOUETTE,
     f"weak below {WEAK_SILHOUETTE:g}"),
    ("calinski_harabasz", "Calinski–Harabasz (higher is better)", 1.0, None, None),
    ("davies_bouldin", "Davies–Bouldin (lower is better)", 1.0, None, None),
    ("min_share", "Smallest segment share, % (higher is better)", 100.0,
     SMALL_SEGMENT_SHARE * 100, f"small below {SMALL_SEGMENT_SHARE:.0%}"),
)


_STABILITY_PANEL = ("stability", "Split-half agreement, median and range of splits",
                    1.0, REPLICATES, f"does not replicate below {REPLICATES:g}")


def _split_range(metrics: pd.DataFrame, column: str) -> dict:
    """Error bars from the median to the lowest and highest split, where the sweep has them."""
    if column != "stability" or "stability_min" not in metrics:
        return {}
    return {"error_y": {"type": "data", "symmetric": False,
                        "array": metrics["stability_max"] - metrics["stability"],
                        "arrayminus": metrics["stability"] - metrics["stability_min"],
                        "color": LINE_COLOR},
            "customdata": metrics[["stability_min", "stability_max"]].to_numpy(),
            "hovertemplate": "K = %{x}<br>median agreement %{y:.2f} "
                             "(splits %{customdata[0]:.2f}–%{customdata[1]:.2f})<extra></extra>"}


def k_metrics_chart(metrics: pd.DataFrame, chosen_k: int | None) -> go.Figure:
    """Silhouette, Calinski–Harabasz, Davies–Bouldin and smallest share per K (2×2),
    plus split-half agreement when the sweep measured it (2×3): the median over the
    splits, with bars to the lowest and highest split."""
    panels = _K_PANELS + ((_STABILITY_PANEL,) if "stability" in metrics else ())
    n_cols = 2 if len(panels) <= 4 else 3
    fig = make_subplots(rows=2, cols=n_cols, subplot_titles=[p[1] for p in panels],
                        horizontal_spacing=0.08 if n_cols == 3 else 0.12,
                        vertical_spacing=0.18)
    chosen = _row_at(metrics, chosen_k)
    for i, (column, title, scale, ref, note) in enumerate(panels):
        row, col = divmod(i, n_cols)
        fig.add_trace(go.Scatter(**{
            "x": metrics["k"], "y": metrics[column] * scale, "mode": "lines+markers",
            "name": title, "line": {"color": LINE_COLOR}, "showlegend": False,
            "hovertemplate": f"K = %{{x}}<br>{title}: %{{y:,.3~f}}<extra></extra>",
            **_split_range(metrics, column)}),
            row=row + 1, col=col + 1)
        if ref is not None:
            fig.add_hline(y=ref, line_dash="dash", line_color=REFERENCE_COLOR,
                          annotation_text=note, annotation_position="bottom right",
                          row=row + 1, col=col + 1)
        if chosen is not None:
            fig.add_trace(go.Scatter(
                x=[int(chosen["k"])], y=[float(chosen[column]) * scale], mode="markers",
                name=f"Chosen K = {int(chosen['k'])}", legendgroup="chosen", showlegend=i == 0,
                marker={"size": 16, "symbol": "circle-open", "color": CHOSEN_COLOR,
                        "line": {"width": 3}},
                hovertemplate=f"chosen K = %{{x}}<br>{title}: %{{y:,.3~f}}<extra></extra>"),
                row=row + 1, col=col + 1)
    fig.update_xaxes(dtick=1)
    fig.update_xaxes(title_text="Number of segments (K)", row=2)
    return _finish(fig, "Quality of the segmentation by number of segments")


def silhouette_diagram(frame: pd.DataFrame, colors: dict[str, str],
                       mean_silhouette: float) -> go.Figure:
    """Every customer's silhouette, best first within each segment, with the mean marked.

    The classic silhouette plot: one row per customer, filled from zero to its silhouette.
    Each segment is one filled outline through its customers' points rather than a bar per
    customer: the same shape, but a browser draws one path per segment instead of thousands
    of rectangles (2,240 customers: about 20 ms instead of 150-350 ms in Chromium, redrawn
    each time K changes). Hovering a point still names its customer.
    """
    shown = _with_labels(frame)
    fig = go.Figure()
    # One trace per segment (not per name) so two personas typed alike stay apart.
    for p in _personas(frame).itertuples(index=False):
        rows = shown.loc[shown["segment"] == p.segment]
        color = _color_of(colors, p.persona, p.segment)
        fig.add_trace(go.Scatter(
            x=rows["silhouette"], y=rows["rank"], mode="lines", fill="tozerox", name=p.label,
            line={"color": color, "width": 1}, fillcolor=color, hoveron="points",
            customdata=rows[["customer_id"]].to_numpy(),
            hovertemplate="customer %{customdata[0]}<br>silhouette %{x:.3f}"
                          "<extra>%{fullData.name}</extra>"))
    if mean_silhouette is not None and np.isfinite(mean_silhouette):
        fig.add_vline(x=float(mean_silhouette), line_dash="dash", line_color=REFERENCE_COLOR,
                      annotation_text=f"mean {mean_silhouette:.2f}",
                      annotation_position="top right")
    fig.update_yaxes(title_text="Customers, best-fitting first within each segment",
                     autorange="reversed", showticklabels=False, showgrid=False)
    fig.update_xaxes(title_text="Silhouette (−1 misplaced … 1 well separated)")
    return _finish(fig, "Silhouette of every customer, by segment", "Persona")


def spend_ranking_chart(frame: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Average of a value variable per persona (ranked) beside its shares of customers and value.

    ``frame`` is :func:`segmentation.describe.explore.segment_value`'s table. When the
    variable has no meaningful share (it can be negative), the right panel
    shows the share of customers alone.
    """
    # The frame comes ranked, highest first; sorting again keeps the chart
    # right when a caller passes it in another order.
    ranked = frame.sort_values("avg_value", ascending=False, kind="stable")
    label = _plain(ranked["label"].iloc[0]) if len(ranked) else "value"
    labels = ranked["persona"].map(_plain).tolist()
    bar_colors = [_color_of(colors, p, s) for p, s in zip(ranked["persona"], ranked["segment"],
                                                          strict=True)]
    has_share = bool(ranked["value_share"].notna().any())
    right = (f"Share of customers vs share of {label} (%)" if has_share
             else "Share of customers (%)")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=(f"Average {label} per customer", right))
    fig.add_trace(go.Bar(
        y=labels, x=ranked["avg_value"], orientation="h", name=f"Average {label}",
        marker={"color": bar_colors}, showlegend=False, texttemplate="%{x:,.4~g}",
        textposition="auto", hovertemplate=f"%{{y}}<br>average {label} %{{x:,.4~g}}"
                                            "<extra></extra>"), row=1, col=1)
    # Grouped horizontal bars stack the first trace lowest: add the value share
    # first so customers read first, top down, and reverse the legend to match.
    if has_share:
        fig.add_trace(go.Bar(
            y=labels, x=ranked["value_share"] * 100, orientation="h",
            name=f"Share of {label}", marker={"color": bar_colors}, texttemplate="%{x:.0f}%",
            textposition="outside", cliponaxis=False,
            hovertemplate=f"%{{y}}<br>%{{x:.1f}}% of {label}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Bar(
        y=labels, x=ranked["customer_share"] * 100, orientation="h", name="Share of customers",
        marker={"color": bar_colors, "pattern": {"shape": "/", "solidity": 0.5}},
        texttemplate="%{x:.0f}%", textposition="outside", cliponaxis=False,
        hovertemplate="%{y}<br>%{x:.1f}% of customers<extra></extra>"), row=1, col=2)
    # Categories are drawn bottom up: list the lowest first so the highest sits on top.
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])
    fig.update_xaxes(title_text=f"Average {label}", row=1, col=1)
    fig.update_xaxes(title_text=(f"% of all customers / of all {label}" if has_share
                                 else "% of all customers"), ticksuffix="%", row=1, col=2)
    fig.update_layout(barmode="group",
                      legend={"orientation": "h", "y": -0.15, "traceorder": "reversed"})
    return _finish(fig, f"Personas ranked by average {label}")


def category_mix_chart(frame: pd.DataFrame, colors: dict[str, str], label: str,
                       measure: str = "Share of the persona's customers") -> go.Figure:
    """Each persona's split across the levels of a category, as 100% stacked bars.

    ``frame`` is :func:`segmentation.describe.explore.category_mix`'s table (or
    :func:`segmentation.describe.explore.share_mix`'s, with ``measure`` saying what a share is).
    """
    personas = _personas(frame)
    shown = _with_labels(frame).assign(share_pct=lambda d: d["share"] * 100,
                                       level=lambda d: d["level"].map(_plain))
    levels = pd.unique(shown["level"]).tolist()
    shades = _shades(levels)
    fig = px.bar(
        shown, x="persona", y="share_pct", color="level", barmode="stack",
        color_discrete_map=dict(zip(levels, shades, strict=True)),
        category_orders={"persona": personas["label"].tolist(), "level": levels},
        labels={"persona": "Persona", "level": _plain(label),
                "share_pct": f"{_plain(measure)} (%)"},
        hover_data={"share_pct": ":.1f"}, text_auto=".0f")
    fig.update_yaxes(ticksuffix="%")
    return _finish(fig, f"{_plain(label)}: each persona's split (%)", _plain(label))


def box_chart(frame: pd.DataFrame, colors: dict[str, str], label: str) -> go.Figure:
    """One box per persona from precomputed quartiles, whiskers at the 5th/95th percentiles."""
    personas = _personas(frame)
    stats = frame.set_index("segment")
    fig = go.Figure()
    for p in personas.itertuples(index=False):
        s = stats.loc[p.segment]
        color = _color_of(colors, p.persona, p.segment)
        fig.add_trace(go.Box(
            x=[p.label], name=p.label, q1=[s["q1"]], median=[s["median"]], q3=[s["q3"]],
            lowerfence=[s["p05"]], upperfence=[s["p95"]], mean=[s["mean"]], boxmean=True,
            boxpoints=False, marker_color=color, line_color=color, showlegend=False))
    ordered = stats.loc[personas["segment"]]
    fig.add_trace(go.Scatter(
        x=personas["label"], y=ordered["median"], mode="markers", name="Median",
        marker={"symbol": "diamond", "size": 10, "color": "white",
                "line": {"color": "#222222", "width": 2}},
        customdata=ordered["n"].to_numpy(),
        hovertemplate="%{x}<br>median %{y:,.4~g}<br>n = %{customdata:,}<extra></extra>"))
    whiskers = f"{_ordinal(WHISKER_QUANTILES[0])}–{_ordinal(WHISKER_QUANTILES[1])} percentile"
    fig.update_xaxes(title_text="Persona", categoryorder="array",
                     categoryarray=personas["label"].tolist())
    fig.update_yaxes(title_text=f"{_plain(label)} (whiskers: {whiskers})")
    return _finish(fig, f"{_plain(label)} by persona: box = middle 50%, whiskers: {whiskers}, "
                        "dashed = mean")


def correlation_heatmap(frame: pd.DataFrame, title: str) -> go.Figure:
    """Pearson correlations as a heatmap centred at 0, coefficients printed in the cells."""
    rows = pd.unique(frame["var_a"])
    cols = pd.unique(frame["var_b"])
    matrix = frame.pivot(index="var_a", columns="var_b", values="r").reindex(
        index=rows, columns=cols)
    label_a = dict(zip(frame["var_a"], frame["label_a"], strict=True))
    label_b = dict(zip(frame["var_b"], frame["label_b"], strict=True))
    z = matrix.to_numpy(float)
    # NaN (a constant column in this group) prints blank rather than "nan".
    text = [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=[_plain(label_b[c]) for c in cols], y=[_plain(label_a[r]) for r in rows],
        text=text, texttemplate="%{text}", colorscale="RdBu", zmid=0, zmin=-1, zmax=1,
        colorbar={"title": {"text": "r"}}, xgap=1, ygap=1,
        hovertemplate="%{y} × %{x}<br>r = %{z:.2f}<extra></extra>"))
    # Matrix reading order: the first variable on the top row.
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="bottom", tickangle=-30)
    return _finish(fig, _plain(title))


def channel_mix_chart(frame: pd.DataFrame, colors: dict[str, str],
                      normalized: bool = False) -> go.Figure:
    """Average purchases per channel by persona, or each persona's channel split as 100% bars."""
    personas = _personas(frame)
    order = personas["label"].tolist()
    shown = _with_labels(frame)
    if not normalized:
        fig = px.bar(
            shown, x="channel", y="mean", color="persona", barmode="group",
            color_discrete_map=_label_colors(personas, colors),
            category_orders={"persona": order, "channel": pd.unique(frame["channel"]).tolist()},
            labels={"channel": "Channel", "persona": "Persona",
                    "mean": "Average per customer (visits: per month)"},
            hover_data={"mean": ":.2f"})
        return _finish(fig, "How each persona buys: average purchases per channel", "Persona")
    channels = shown.loc[shown["kind"] == "channel"].assign(share_pct=lambda d: d["share"] * 100)
    names = pd.unique(channels["channel"]).tolist()
    shades = _shades(names)
    fig = px.bar(
        channels, x="persona", y="share_pct", color="channel", barmode="stack",
        color_discrete_map=dict(zip(names, shades, strict=True)),
        category_orders={"persona": order, "channel": names},
        labels={"persona": "Persona", "channel": "Channel", "share_pct": "Share of purchases (%)"},
        hover_data={"share_pct": ":.1f", "mean": ":.2f"}, text_auto=".0f")
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return _finish(fig, "Channel split of each persona's purchases (100%)", "Channel")


def profile_heatmap(frame: pd.DataFrame) -> go.Figure:
    """Personas × variables heatmap of standardized differences, means shown on hover."""
    personas = _personas(frame)
    variables = pd.unique(frame["variable"])
    labels = dict(zip(frame["variable"], frame["label"], strict=True))
    z = frame.pivot(index="segment", columns="variable", values="z").reindex(
        index=personas["segment"], columns=variables).to_numpy(float)
    means = frame.pivot(index="segment", columns="variable", values="mean").reindex(
        index=personas["segment"], columns=variables).to_numpy(float)
    # Symmetric range so white means "like everyone" and equal shades mean
    # equal distances above and below.
    finite = np.abs(z[np.isfinite(z)])
    bound = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    text = [["" if np.isnan(v) else f"{v:.1f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=[_plain(labels[v]) for v in variables], y=personas["label"].tolist(),
        text=text, texttemplate="%{text}", customdata=means, colorscale="RdBu", zmid=0,
        zmin=-bound, zmax=bound, xgap=1, ygap=1,
        colorbar={"title": {"text": "sd from<br>average"}},
        hovertemplate="%{y}<br>%{x}<br>mean %{customdata:,.4~g}<br>"
                      "%{z:+.2f} sd from average<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-30)
    return _finish(fig, "How each persona differs from the average customer "
                        "(standard deviations)")


def pca_chart(frame: pd.DataFrame, colors: dict[str, str],
              explained: tuple[float, ...]) -> go.Figure:
    """Customers on the first two principal components, coloured by persona."""
    personas = _personas(frame)
    pc1 = f"PC1 ({explained[0]:.0%} of variance)" if len(explained) > 0 else "PC1"
    # With a single clustering variable there is no second component.
    pc2 = f"PC2 ({explained[1]:.0%} of variance)" if len(explained) > 1 else "PC2 (none)"
    fig = px.scatter(
        _with_labels(frame), x="pc1", y="pc2", color="persona",
        color_discrete_map=_label_colors(personas, colors),
        category_orders={"persona": personas["label"].tolist()},
        hover_data={"customer_id": True, "segment": True, "pc1": ":.2f", "pc2": ":.2f"},
        labels={"pc1": pc1, "pc2": pc2, "persona": "Persona", "customer_id": "Customer",
                "segment": "Segment"},
        # SVG rather than WebGL: renders the same in every browser, fine for
        # the at most 5,000 points explore.pca_map returns.
        render_mode="svg", opacity=0.7)
    fig.update_traces(marker={"size": 6})
    total = f" ({sum(explained[:2]):.0%} of variance shown)" if len(explained) else ""
    return _finish(fig, f"Customers on the first two principal components{total}", "Persona")


def distribution_chart(frame: pd.DataFrame, colors: dict[str, str], label: str) -> go.Figure:
    """One violin per persona with the distribution of a variable, personas in segment order."""
    personas = _personas(frame)
    fig = px.violin(
        _with_labels(frame), x="persona", y="value", color="persona", box=True, points=False,
        color_discrete_map=_label_colors(personas, colors),
        category_orders={"persona": personas["label"].tolist()},
        labels={"persona": "Persona", "value": _plain(label)},
        # Overlay, not group: x and colour are the same, so each category holds one violin.
        violinmode="overlay")
    # Same width for every persona (violins sharing the default scale group are
    # scaled together, which shrinks a spread-out persona to a line), and no
    # density drawn beyond the observed values (a tail below zero would suggest
    # negative spend).
    fig.update_traces(scalemode="width", spanmode="hard")
    fig.for_each_trace(lambda t: t.update(scalegroup=t.name))
    fig.update_layout(showlegend=False)
    return _finish(fig, f"{_plain(label)}: distribution by persona")


def stability_chart(frame: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Mean bootstrap Jaccard per persona, with Hennig's bands as reference lines.

    ``frame`` has persona, segment, mean_jaccard (from the bootstrap summary).
    """
    personas = _personas(frame)
    fig = go.Figure(go.Bar(
        x=[_plain(p) for p in personas["persona"]], y=frame.set_index("segment").loc[
            personas["segment"], "mean_jaccard"],
        marker_color=[_color_of(colors, p, s) for p, s in zip(
            personas["persona"], personas["segment"], strict=True)],
        hovertemplate="%{x}<br>mean Jaccard %{y:.2f}<extra></extra>"))
    for level, note in ((0.85, "highly stable"), (0.75, "stable"), (0.6, "doubtful below")):
        fig.add_hline(y=level, line_dash="dash", line_color=REFERENCE_COLOR,
                      annotation_text=note, annotation_position="top left")
    fig.update_yaxes(title_text="Mean Jaccard over resamples", range=[0, 1.05])
    fig.update_xaxes(title_text="Persona")
    return _finish(fig, "Bootstrap stability per persona")


def _faded(color: str, alpha: float = 0.45) -> str:
    r, g, b = pc.hex_to_rgb(color)
    return f"rgba({r}, {g}, {b}, {alpha})"


def sankey_chart(matrix: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Customers flowing from each old persona (left) to each new persona (right).

    ``matrix`` holds counts, old personas as rows and new personas as columns
    (``Migration.matrix``); empty flows are left out. A persona missing from
    ``colors`` (one the new run no longer has) is drawn grey.
    """
    old = [str(p) for p in matrix.index]
    new = [str(p) for p in matrix.columns]
    counts = matrix.to_numpy(dtype=np.int64)
    rows, cols = np.nonzero(counts)
    node_colors = [colors.get(p, REFERENCE_COLOR) for p in old + new]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": [_plain(p) for p in old + new], "color": node_colors,
              "pad": 14, "thickness": 16,
              "customdata": ["saved run"] * len(old) + ["new run"] * len(new),
              "hovertemplate": "%{label} (%{customdata})<br>%{value:,} customers"
                               "<extra></extra>"},
        link={"source": rows.tolist(), "target": (cols + len(old)).tolist(),
              "value": counts[rows, cols].tolist(),
              "color": [_faded(node_colors[r]) for r in rows],
              "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} customers"
                               "<extra></extra>"}))
    return _finish(fig, "Where the customers of each persona went: saved run (left) → "
                        "new run (right)")


def drift_chart(frame: pd.DataFrame, top: int = 12) -> go.Figure:
    """Matched personas × variables heatmap of how far each profile moved, in sd.

    ``frame`` is the long table of ``migration.drift``; an optional ``label``
    column names the variables for display. Only the ``top`` variables that
    moved most for some persona are drawn, the largest move first.
    """
    if frame.empty:
        fig = go.Figure()
        fig.add_annotation(text="No persona of the saved run matched a segment of the new one",
                           showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _finish(fig, "Profile drift of the matched personas")
    labels = dict(zip(frame["variable"], frame["label"] if "label" in frame
                      else frame["variable"], strict=True))
    moved = frame["change_in_sd"].abs().groupby(frame["variable"], sort=False).max()
    variables = moved.sort_values(ascending=False, kind="stable").index[:top].tolist()
    personas = _personas(frame.rename(columns={"new_segment": "segment"}))
    # Two personas may carry the same name; the segment number keeps their rows apart.
    repeated = personas["label"].duplicated(keep=False)
    rows = [f"{p.label} (segment {p.segment})" if r else p.label
            for p, r in zip(personas.itertuples(index=False), repeated, strict=True)]

    def grid(column: str) -> np.ndarray:
        return frame.pivot(index="new_segment", columns="variable", values=column).reindex(
            index=personas["segment"], columns=variables).to_numpy(float)

    z, now = grid("change_in_sd"), grid("new_mean")
    finite = np.abs(z[np.isfinite(z)])
    bound = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=[_plain(labels[v]) for v in variables], y=rows,
        text=[["" if np.isnan(v) else f"{v:+.2f}" for v in row] for row in z],
        texttemplate="%{text}", customdata=[["n/a" if np.isnan(v) else f"{v:,.4g}"
                                             for v in row] for row in now],
        colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound, xgap=1, ygap=1,
        colorbar={"title": {"text": "change<br>in sd"}},
        hovertemplate="%{y}<br>%{x}<br>%{z:+.2f} sd against the saved profile<br>"
                      "mean now %{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-30)
    return _finish(fig, "Profile drift: how far each matched persona moved, in standard "
                        "deviations from the average customer")


def value_chart(frame: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Value per customer (CLV) and total value per segment, side by side.

    ``frame`` is :func:`segmentation.plan.value.segment_value`'s table (segment,
    persona, customers, clv).
    """
    personas = _personas(frame)
    rows = frame.set_index("segment").loc[personas["segment"]]
    bar_colors = [_color_of(colors, p, s) for p, s in zip(
        personas["persona"], personas["segment"], strict=True)]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Lifetime value per customer",
                                                        "Total lifetime value of the segment"])
    for col, values, fmt in ((1, rows["clv"], ",.0f"),
                             (2, rows["clv"] * rows["customers"], ",.0f")):
        fig.add_trace(go.Bar(x=personas["label"], y=values, marker_color=bar_colors,
                             showlegend=False,
                             hovertemplate=f"%{{x}}<br>%{{y:{fmt}}}<extra></extra>"),
                      row=1, col=col)
    return _finish(fig, "Value per segment")


def forest_chart(frame: pd.DataFrame, colors: dict[str, str],
                 overall: dict | None = None) -> go.Figure:
    """Relative lift per segment with its confidence interval (a forest plot).

    ``frame`` is :class:`segmentation.plan.campaign_results.Analysis`'s ``per_segment``
    (segment, persona, rel_lift, rel_lift_low, rel_lift_high); ``overall``
    adds an "All customers (within segments)" row: the Mantel–Haenszel estimate of
    ``Analysis.cmh``, which compares like with like inside each segment.
    """
    personas = _personas(frame)
    rows = frame.set_index("segment").loc[personas["segment"]]
    labels = list(personas["label"])
    lift, low, high = (list(rows[c] * 100) for c in ("rel_lift", "rel_lift_low",
                                                      "rel_lift_high"))
    marker = [_color_of(colors, p, s) for p, s in zip(
        personas["persona"], personas["segment"], strict=True)]
    if overall is not None:
        labels.append("All customers (within segments)")
        lift.append(overall["rel_lift"] * 100)
        low.append(overall["rel_lift_low"] * 100)
        high.append(overall["rel_lift_high"] * 100)
        marker.append(LINE_COLOR)
    fig = go.Figure(go.Scatter(
        x=lift, y=labels, mode="markers", marker={"size": 12, "color": marker},
        error_x={"type": "data", "symmetric": False,
                 "array": [h - m for h, m in zip(high, lift, strict=True)],
                 "arrayminus": [m - lo for m, lo in zip(lift, low, strict=True)]},
        hovertemplate="%{y}<br>lift %{x:.1f}%<extra></extra>", showlegend=False))
    fig.add_vline(x=0, line_dash="dash", line_color=REFERENCE_COLOR)
    fig.update_xaxes(title_text="Relative lift of the segment message, % (95% CI)")
    fig.update_yaxes(autorange="reversed")
    return _finish(fig, "Lift per segment")


def bandit_chart(traffic: pd.DataFrame) -> go.Figure:
    """Running share of visitors sent to the worse variant: bandit against a fixed split.

    ``traffic`` is :class:`segmentation.plan.bandit.Simulation`'s ``traffic``.
    """
    fig = go.Figure()
    for column, name in (("bandit_share_worse", "Thompson-sampling bandit"),
                         ("split_share_worse", "Fixed 50/50 split")):
        fig.add_trace(go.Scatter(x=traffic["visitor"], y=traffic[column] * 100, name=name,
                                 mode="lines",
                                 hovertemplate="visitor %{x}<br>%{y:.1f}%<extra></extra>"))
    fig.update_xaxes(title_text="Visitors so far")
    fig.update_yaxes(title_text="Share sent to the worse variant, %")
    return _finish(fig, "Simulation: traffic spent on the worse variant")


def _shades(names: list) -> list[str]:
    """Colours for the parts of a stacked bar (channels, category values): a sequential,
    colour-blind-safe scale, so a part is never mistaken for a persona colour."""
    return pc.sample_colorscale("Cividis", [i / max(len(names) - 1, 1) * 0.85 + 0.1
                                            for i in range(len(names))])


def rfm_heatmap(frame: pd.DataFrame) -> go.Figure:
    """RFM grid cells × personas: colour = share of the persona's customers, text = count.

    ``frame`` is :func:`segmentation.describe.explore.rfm_grid`'s table.
    """
    personas = _personas(frame)
    cells = pd.unique(frame["cell"]).tolist()
    share = frame.pivot(index="cell", columns="segment", values="share").reindex(
        index=cells, columns=personas["segment"]).to_numpy(float)
    count = frame.pivot(index="cell", columns="segment", values="customers").reindex(
        index=cells, columns=personas["segment"]).fillna(0).to_numpy(int)
    fig = go.Figure(go.Heatmap(
        z=share * 100, x=personas["label"].tolist(), y=[_plain(c) for c in cells],
        text=count.astype(str), texttemplate="%{text}", customdata=count,
        colorscale="Blues", zmin=0, zmax=100, xgap=1, ygap=1,
        colorbar={"title": {"text": "% of the<br>persona"}},
        hovertemplate="%{y}<br>%{x}<br>%{customdata:,} customers, %{z:.0f}% of the "
                      "persona<extra></extra>"))
    # Grid order from the top: Champions first, Lost last.
    fig.update_yaxes(autorange="reversed", title_text="RFM grid cell")
    fig.update_xaxes(title_text="Persona", tickangle=-20)
    return _finish(fig, "Where each persona sits in the RFM grid (customers; colour = share "
                        "of the persona)")
