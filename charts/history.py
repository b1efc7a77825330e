"""Figures of the run history: each persona's share, averages and stability over the runs.

Tidy frames in (from :mod:`segmentation.history.trends`), figures out; one colour per
persona line (``charts.persona_colors`` keyed by line), so a persona keeps its colour
through the runs and across a rename.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from charts import LINE_COLOR, REFERENCE_COLOR, _finish, _plain, persona_colors
from segmentation.config import STABILITY_ALERT


def line_colors(lines: dict[int, str]) -> dict[str, str]:
    """``{persona: colour}`` for the history's lines (``History.lines``)."""
    return persona_colors(lines)


def _runs(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``run`` ("3 · 2026-06-30"), ``label`` (escaped persona) for display."""
    out = frame.assign(run=frame["run_id"].astype(int).astype(str) + " · "
                       + frame["created"].astype(str).str[:10])
    if "persona" in out:
        out["label"] = out["persona"].map(_plain)
    return out


def _order(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame.sort_values("run_id")["run"]))


def share_trend_chart(frame: pd.DataFrame, colors: dict[str, str],
                      value: str = "share") -> go.Figure:
    """Each persona's share (or ``value="size"``: customers) per run, one line per persona.

    ``frame`` is :func:`segmentation.history.trends.persona_trend`.
    """
    shown = _runs(frame)
    fig = px.line(shown, x="run", y=value, color="label", markers=True,
                  category_orders={"run": _order(shown)},
                  color_discrete_map={_plain(p): c for p, c in colors.items()},
                  labels={"run": "Run", "share": "Share of customers", "size": "Customers",
                          "label": "Persona"},
                  hover_data={"name": True})
    if value == "share":
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    title = "Share of customers per persona" if value == "share" else "Customers per persona"
    return _finish(fig, f"{title}, run by run", legend_title="Persona")


def means_trend_chart(frame: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """The money and outcome averages of each persona per run, one panel per variable.

    ``frame`` is :func:`segmentation.history.trends.means_trend`; each panel has its own
    scale (income and a response rate share no axis).
    """
    shown = _runs(frame).assign(variable_label=frame["label"].map(_plain))
    fig = px.line(shown, x="run", y="mean", color="label", facet_col="variable_label",
                  facet_col_wrap=3, markers=True, category_orders={"run": _order(shown)},
                  color_discrete_map={_plain(p): c for p, c in colors.items()},
                  labels={"run": "Run", "mean": "Average", "label": "Persona"},
                  facet_row_spacing=0.12)
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    return _finish(fig, "Money and outcome averages per persona, run by run",
                   legend_title="Persona")


def stability_trend_chart(personas: pd.DataFrame, runs: pd.DataFrame,
                          colors: dict[str, str]) -> go.Figure:
    """Bootstrap stability per persona (where computed) and the run's split-half agreement.

    ``personas`` is :func:`~segmentation.history.trends.persona_trend`, ``runs``
    :func:`~segmentation.history.trends.run_trend`; the alert line is drawn at 0.75.
    """
    shown = _runs(personas.dropna(subset=["stability"]))
    whole = _runs(runs)
    order = _order(_runs(runs))
    fig = go.Figure()
    for label, rows in shown.groupby("label", sort=False):
        persona = rows["persona"].iloc[0]
        fig.add_trace(go.Scatter(x=rows["run"], y=rows["stability"], name=label,
                                 mode="lines+markers",
                                 line={"color": colors.get(persona, REFERENCE_COLOR)}))
    fig.add_trace(go.Scatter(x=whole["run"], y=whole["stability"], mode="lines+markers",
                             name="Split-half agreement (whole run)",
                             line={"color": LINE_COLOR, "dash": "dot"}))
    fig.add_hline(y=STABILITY_ALERT, line_dash="dash", line_color=REFERENCE_COLOR,
                  annotation_text="alert below", annotation_position="bottom left")
    fig.update_xaxes(title_text="Run", categoryorder="array", categoryarray=order)
    fig.update_yaxes(title_text="Stability", range=[0, 1.05])
    return _finish(fig, "Stability run by run", legend_title="Persona")
