"""History: the recorded runs, each persona's trend, the migration between two runs, alerts."""

from pathlib import Path

import streamlit as st

import charts
from charts.history import (
    line_colors,
    means_trend_chart,
    share_trend_chart,
    stability_trend_chart,
)
from segmentation import SegmentationError
from segmentation.history.store import load_history
from segmentation.history.trends import (
    alerts,
    means_trend,
    migration_between,
    persona_trend,
    run_trend,
)
from ui import flow, state

st.title("History")
st.caption("Every run saved to the run history: is a segment growing, where did last "
           "quarter's customers go, are these still the same personas? A persona keeps one "
           "line through the runs: its segments are matched by profile, and a renamed persona "
           "continues its line under the new name.")
path = st.session_state[state.HISTORY_PATH]
st.caption(f"History file: **{flow.md(path)}** (change it on the Export page).")
if not Path(path).is_file():
    st.info("No run is recorded in this file yet: save one on the Export page, or run "
            "'python -m segmentation run'.")
    st.stop()
try:
    history = load_history(path)
except SegmentationError as exc:
    st.error(flow.md(str(exc)))
    st.stop()
runs = run_trend(history)
if runs.empty:
    st.info("No run is recorded yet: save one on the Export page, or run "
            "'python -m segmentation run'.")
    st.stop()
colors = line_colors(history.lines)

st.subheader("Alerts")
st.number_input("Flag a persona whose share moved by more than (points)", min_value=0.5,
                max_value=50.0, step=0.5, format="%.1f", key="w.history.share_alert",
                value=float(st.session_state[state.SHARE_ALERT]) * 100,
                on_change=lambda: st.session_state.__setitem__(
                    state.SHARE_ALERT, st.session_state["w.history.share_alert"] / 100))
found = alerts(history, share_threshold=st.session_state[state.SHARE_ALERT])
if found.empty:
    st.success("No alert: between consecutive runs no persona's share moved past the "
               "threshold, no persona vanished or appeared, the shares' PSI stayed at or under "
               "0.25 and no stability fell under 0.75.")
for message in found["message"]:
    st.warning(flow.md(message))

st.subheader("The runs")
st.dataframe(runs, hide_index=True, width="stretch", column_config={
    "run_id": "Run", "created": "Recorded", "data_name": "Data", "k": "K",
    "customers": "Customers",
    "silhouette": st.column_config.NumberColumn("Silhouette", format="%.2f"),
    "stability": st.column_config.NumberColumn("Split-half agreement", format="%.2f"),
    "source": "From"})

trend = persona_trend(history)
st.subheader("Size and share per persona")
picked = st.multiselect("Personas", list(history.lines.values()),
                        default=list(history.lines.values()), key="w.history.personas")
shown = trend[trend["persona"].isin(picked)]
st.plotly_chart(share_trend_chart(shown, colors), width="stretch")
st.plotly_chart(share_trend_chart(shown, colors, value="size"), width="stretch")
means = means_trend(history)
means = means[means["persona"].isin(picked)]
if not means.empty:
    st.subheader("Money and outcome averages")
    st.plotly_chart(means_trend_chart(means, colors), width="stretch")
st.subheader("Stability")
st.plotly_chart(stability_trend_chart(shown, runs, colors), width="stretch")
st.caption("Per persona where the bootstrap was computed (Validate page) before saving; the "
           "dotted line is each run's split-half agreement at its K.")

st.subheader("Who moved between two runs")
ids = runs["run_id"].tolist()
a, b = st.columns(2)
old = a.selectbox("From run", ids, index=max(len(ids) - 2, 0), key="w.history.old")
new = b.selectbox("To run", ids, index=len(ids) - 1, key="w.history.new")
if old == new:
    st.info("Choose two different runs to see how their customers moved.")
    st.stop()
try:
    migration = migration_between(history, old, new)
except SegmentationError as exc:
    st.error(flow.md(str(exc)))
    st.stop()
a, b, c = st.columns(3)
a.metric("Customers in both runs", f"{migration.customers_both:,}")
b.metric("Changed persona", "n/a" if not migration.customers_both else f"{migration.rate:.1%}")
c.metric("Population stability index", f"{migration.psi:.3f}")
if migration.customers_both:
    st.plotly_chart(charts.sankey_chart(migration.matrix, colors), width="stretch")
st.caption(f"Customers per persona in run {old} (rows) and run {new} (columns):")
st.dataframe(migration.matrix.rename_axis(index=f"Run {old}", columns=None), width="stretch")
