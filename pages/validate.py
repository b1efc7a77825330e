"""Validate: do the segments replicate, and which of them can be trusted?"""

import pandas as pd
import streamlit as st

import charts
from segmentation.cluster.kmeans import N_SPLITS, REPLICATES
from segmentation.config import JACCARD_DOUBTFUL, JACCARD_HIGHLY_STABLE, JACCARD_STABLE
from segmentation.validate.stability import (
    DEFAULT_BOOTSTRAPS,
    DISSOLVED,
    RECOVERED,
    STATISTIC_CUSTOMERS,
    STATISTIC_MEAN,
    data_size_warning,
    small_segment_check,
)
from ui import cache, flow, state

# Often enough that the bar moves with the resamples, seldom enough to cost nothing.
PROGRESS_EVERY_S = 0.5

st.title("Validate")
st.caption("Segments that do not come back when the data is resampled are noise. These "
           "checks re-cluster parts of your customers with the same settings.")
result = flow.require_result()
seg, fm = result.segmentation, result.features
names = flow.names(result)
colors = charts.persona_colors(names)
fp, data, name = state.data()

size_note = data_size_warning(seg.labels.size)
if size_note:
    st.warning(flow.md(size_note))

st.subheader("Split-half replication")
halves = cache.split_half(fp, data, name, result.config, result.chosen_k)
a, b = st.columns([1, 3])
splits = halves.agreement
a.metric("Agreement (adjusted Rand index)", f"{halves.ari:.2f}",
         help=f"The median over {splits.n_splits} random splits.")
split_summary = halves.summary(result.profiles)
(b.success if halves.ari >= REPLICATES else b.warning)(split_summary.verdict)
rows = []
for pair, figures in split_summary.table.groupby("pair", sort=False):
    size = figures[figures["statistic"] == STATISTIC_CUSTOMERS].iloc[0]
    row = {"pair": pair, "customers (A / B)": f"{int(size.value_a):,} / {int(size.value_b):,}"}
    for f in figures[figures["statistic"] == STATISTIC_MEAN].itertuples(index=False):
        row[f"{f.label} A"], row[f"{f.label} B"], row[f"{f.label} B−A"] = (
            f.value_a, f.value_b, f.difference)
    rows.append(row)
st.dataframe(pd.DataFrame(rows).style.format(precision=0, thousands=","), hide_index=True,
             width="stretch")
for note in split_summary.notes:
    st.caption(note)

st.subheader("Bootstrap stability per persona")
n_boot = st.select_slider("Resamples", [20, 50, 100, 200], value=DEFAULT_BOOTSTRAPS,
                          key="w.validate.n_boot")
slot = flow.start_bootstrap(result, n_boot)


# Polled, not waited for: the bootstrap runs on the server meanwhile and the rest of the page
# is usable; once it is done the whole page is drawn again with its results.
@st.fragment(run_every=PROGRESS_EVERY_S)
def _progress():
    if slot.finished:
        st.rerun()
    st.progress(slot.done / max(slot.total, 1),
                text=f"Re-clustering resample {slot.done} of {slot.total}…")


def _show(boot):
    boot_summary = boot.summary()
    st.markdown(flow.md(boot_summary.verdict))
    summary = boot_summary.table.assign(persona=lambda f: f["segment"].map(names))
    st.plotly_chart(cache.figure(("stability", flow.shown(result, names), boot.n_boot),
                                 lambda: charts.stability_chart(summary, colors)),
                    width="stretch")
    st.dataframe(
        summary[["persona", "mean_jaccard", "band", "recovered", "dissolved"]],
        hide_index=True, width="stretch",
        column_config={
            "persona": "Persona",
            "mean_jaccard": st.column_config.NumberColumn("Mean Jaccard", format="%.2f"),
            "band": "Reading",
            "recovered": st.column_config.NumberColumn(
                f"Recovered (Jaccard > {RECOVERED:g})", format=f"%d of {boot.n_boot}"),
            "dissolved": st.column_config.NumberColumn(
                f"Dissolved (Jaccard ≤ {DISSOLVED:g})", format=f"%d of {boot.n_boot}"),
        })
    st.markdown("\n".join(
        f"- {flow.md(row.persona)}: recovered in {row.recovered} of {boot.n_boot} resamples "
        f"(Jaccard > {RECOVERED:g}), dissolved in {row.dissolved} (Jaccard ≤ {DISSOLVED:g})."
        for row in summary.itertuples(index=False)))
    st.caption("Hennig's clusterboot: each resample draws customers with replacement, keeps "
               "each drawn customer once and re-clusters them. Reading of the mean Jaccard: "
               f"{JACCARD_HIGHLY_STABLE:g} or more highly stable, {JACCARD_STABLE:g} stable, "
               f"{JACCARD_DOUBTFUL:g} to {JACCARD_STABLE:g} a real pattern but doubtful "
               f"membership, under {JACCARD_DOUBTFUL:g} not to be trusted.")
    for note in small_segment_check(seg, halves, boot):
        st.info(flow.md(note))


if slot.error is not None:
    st.error(flow.md(slot.error))
elif slot.value is None:
    _progress()
else:
    _show(slot.value)

st.subheader("Stability for every K")
metrics = cache.sweep(fp, data, name, result.config.roles, result.config.prep,
                      tuple(result.config.k_values), result.config.random_state,
                      result.config.n_init, result.config.stability,
                      cache.reading_of(result.config)).metrics
if "stability" in metrics:
    st.dataframe(metrics[["k", "silhouette", "stability", "stability_min", "stability_max",
                          "min_share"]], hide_index=True,
                 column_config={"k": "K",
                                "silhouette": st.column_config.NumberColumn("Silhouette",
                                                                            format="%.2f"),
                                "stability": st.column_config.NumberColumn(
                                    "Split-half agreement (median)", format="%.2f"),
                                "stability_min": st.column_config.NumberColumn(
                                    "Lowest split", format="%.2f"),
                                "stability_max": st.column_config.NumberColumn(
                                    "Highest split", format="%.2f"),
                                "min_share": st.column_config.NumberColumn(
                                    "Smallest segment", format="percent")})
    st.caption(f"Agreement over {N_SPLITS} random splits per K. A K whose median is under "
               f"{REPLICATES:g} is not recommended, however well one split happens to agree.")
