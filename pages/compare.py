"""Compare runs: next quarter's customers against a saved segmentation."""

from dataclasses import replace

import pandas as pd
import streamlit as st

import charts
from segmentation import SegmentationError
from segmentation.describe.carry_names import carry_over
from segmentation.export.outputs import assignments_frame, csv_text
from segmentation.validate.migration import (
    HIGH_CHURN_RATE,
    PSI_MODERATE,
    STABLE_RATE,
    compare_assignments,
    drift,
    shares_with_counts,
)
from ui import cache, flow, state

st.title("Compare runs")
st.caption("Open a saved segmentation and next quarter's export: see where the new customers "
           "fall in the saved segments, and how the segments and their customers moved.")

UPLOADS = {"w.compare.bundle": state.COMPARE_BUNDLE, "w.compare.export": state.COMPARE_EXPORT}


def _keep(widget_key: str) -> None:
    upload = st.session_state.get(widget_key)
    if upload is not None:  # removing a file keeps the last one, as on the Data page
        state.keep_upload(UPLOADS[widget_key], upload.getvalue(), upload.name)


left, right = st.columns(2)
left.file_uploader("Saved segmentation (bundle.json)", type=["json"], key="w.compare.bundle",
                   on_change=_keep, args=("w.compare.bundle",),
                   help="Saved from the Personas page, or written by "
                        "'python -m segmentation run'.")
right.file_uploader("New export (next quarter's customer file)",
                    type=["csv", "tsv", "txt", "xlsx", "parquet"], key="w.compare.export",
                    on_change=_keep, args=("w.compare.export",))
kept = {key: state.kept_upload(key) for key in UPLOADS.values()}
for column, (key, what) in zip((left, right), ((state.COMPARE_BUNDLE, "the saved segmentation"),
                                               (state.COMPARE_EXPORT, "the new export")),
                               strict=True):
    if kept[key] is None:
        column.info(f"Upload {what} to compare.")
    else:
        column.caption(f"Using **{flow.md(kept[key][2])}**; upload another file to replace it.")
if None in kept.values():
    st.stop()

bundle_fp, bundle_data, _ = kept[state.COMPARE_BUNDLE]
fp, data, name = kept[state.COMPARE_EXPORT]
try:
    bundle = cache.bundle(bundle_fp, bundle_data)
    scores = cache.scores(bundle_fp, bundle.model, fp, data, name)
except SegmentationError as exc:
    st.error(flow.md(str(exc)))
    st.stop()

st.subheader("The new customers in the saved segments")
st.caption(f"Segmentation saved on {flow.md(bundle.created[:10])} for "
           f"{flow.md(bundle.data_name)}. Each new customer goes to the nearest saved segment, "
           "prepared exactly as the saved data was: nothing is refitted.")
assigned = scores.segmented
a, b, c = st.columns(3)
a.metric("Rows read", f"{scores.rows_read:,}")
b.metric("Customers assigned", f"{len(assigned):,}")
c.metric("Rows not assigned", f"{sum(scores.dropped.values()):,}")
for why, n in scores.dropped.items():
    st.caption(f"Not assigned: {n:,} × {why}")
same_model = compare_assignments(bundle.assignments, assigned)
st.dataframe(
    shares_with_counts(same_model, bundle.assignments, assigned), hide_index=True, width="stretch",
    column_config={"persona": "Persona", "then": "Customers in the bundle",
                   "old_share": st.column_config.NumberColumn("Share then", format="percent"),
                   "now": "Customers now",
                   "new_share": st.column_config.NumberColumn("Share now", format="percent"),
                   "change": st.column_config.NumberColumn("Change", format="percent")})

st.subheader("Re-clustered with the saved settings")
try:
    result = cache.recluster(fp, data, name, bundle.config)
except SegmentationError as exc:
    st.error(flow.md(str(exc)))
    st.stop()
carried = carry_over(result.personas, result.profiles.z, bundle.records)
names = {p.segment: p.name for p in carried.personas}
match = carried.match
st.caption(f"The new customers clustered afresh into K = {result.chosen_k} segments; each saved "
           "persona keeps its name on the new segment whose profile matches it.")
st.dataframe(pd.DataFrame({
    "persona": [names[s] for s in sorted(names)],
    "status": ["matched a saved persona" if s in match.pairs else "new: suggested name"
               for s in sorted(names)],
    "gap": [match.distances.get(s) for s in sorted(names)],
    "share": [result.segmentation.shares[s] for s in sorted(names)]}),
    hide_index=True, width="stretch",
    column_config={"persona": "Persona", "status": "Status",
                   "gap": st.column_config.NumberColumn("Profile gap (sd)", format="%.2f"),
                   "share": st.column_config.NumberColumn("Share now", format="percent")})
for vanished in carried.vanished_names:
    st.warning(f"**{flow.md(vanished)}** has no matching segment in the new run: its "
               "customers are now split or merged differently.")

st.subheader("Profile drift of the matched personas")
old_z = pd.DataFrame([r.signature for r in bundle.records])  # row = record index, as in pairs
# The bundle keeps profiles in sd only, so old means (and natural-unit changes) stay NaN.
moved = drift(old_z, result.profiles.z, match.pairs, new_means=result.profiles.means,
              names=names)
labels = {v: var.label for v, var in result.profiles.variables.items()}
st.plotly_chart(charts.drift_chart(moved.assign(label=moved["variable"].map(labels)
                                                .fillna(moved["variable"]))), width="stretch")
st.caption("Each cell: where the persona stands against the average customer now, minus where "
           "it stood in the saved run, in standard deviations (blue: higher now, red: lower).")

migration = compare_assignments(bundle.assignments, assignments_frame(
    replace(result, personas=carried.personas)))
st.subheader("Segment shares")
a, b = st.columns([1, 3])
a.metric("Population stability index", f"{migration.psi:.3f}")
(b.success if migration.psi < PSI_MODERATE else b.warning)(
    f"Persona shares, saved run against new run: {migration.psi_reading}.")
st.dataframe(migration.shares, hide_index=True, width="stretch", column_config={
    "persona": "Persona",
    "old_share": st.column_config.NumberColumn("Share then", format="percent"),
    "new_share": st.column_config.NumberColumn("Share now", format="percent"),
    "change": st.column_config.NumberColumn("Change", format="percent")})

st.subheader("Who moved between personas")
a, b, c = st.columns(3)
a.metric("Customers in both runs", f"{migration.customers_both:,}")
b.metric("Only in the saved run", f"{migration.only_old:,}")
c.metric("Only in the new export", f"{migration.only_new:,}")
for note in migration.notes:
    st.info(flow.md(note))
if migration.customers_both:
    a, b = st.columns([1, 3])
    a.metric("Migration rate", f"{migration.rate:.1%}")
    (b.warning if migration.rate > HIGH_CHURN_RATE else
     b.success if migration.rate < STABLE_RATE else b.info)(
        f"Share of customers in both runs whose persona changed: {migration.reading}.")
    st.plotly_chart(charts.sankey_chart(migration.matrix, charts.persona_colors(names)),
                    width="stretch")
    st.caption("Customers per saved persona (rows) and new persona (columns):")
    st.dataframe(migration.matrix.rename_axis(index="Saved persona", columns=None),
                 width="stretch")
    st.caption("The same as percentages of each saved persona's customers:")
    st.dataframe(migration.row_percent.rename_axis(index="Saved persona", columns=None),
                 width="stretch",
                 column_config={persona: st.column_config.NumberColumn(format="%.1f%%")
                                for persona in migration.row_percent.columns})

st.subheader("From high value to lapsed")
roles = [f"high value: {', '.join(flow.md(p) for p in migration.high_value) or 'none'}",
         f"lapsed: {', '.join(flow.md(p) for p in migration.lapsed) or 'none'}"]
st.caption(f"Personas counted by their names — {'; '.join(roles)}.")
st.dataframe(migration.movers, hide_index=True, width="stretch",
             column_config={"customer_id": "Customer", "old_persona": "Saved persona",
                            "new_persona": "New persona"})
st.download_button("Download these customers (CSV)",
                   csv_text(migration.movers).encode("utf-8"),
                   file_name="high_value_to_lapsed.csv", mime="text/csv",
                   icon=":material/download:", disabled=migration.movers.empty)
