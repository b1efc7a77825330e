"""The Variables & K page's method panels: which method makes the segments, the methods side
by side with their agreement, and how segments split as K grows."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from charts.methods import agreement_heatmap, dendrogram_chart, split_tree_chart
from segmentation import RunConfig, SegmentationError
from segmentation.cluster.kmeans import KSweep
from segmentation.cluster.methods import METHOD_LABELS, SCORING_RULES
from segmentation.config import BETWEEN_SEGMENTS_PROBABILITY, DEFAULT_METHOD, METHODS

from . import cache, flow, state

QUALITY_HEADERS = {
    "label": "Method", "n_segments": "Segments", "silhouette": "Silhouette",
    "calinski_harabasz": "Calinski–Harabasz", "davies_bouldin": "Davies–Bouldin",
    "min_share": "Smallest segment", "no_clear_segment": "No clear segment",
    "between_segments": "Between segments",
}
QUALITY_FORMATS = {"Silhouette": "{:.3f}", "Calinski–Harabasz": "{:,.0f}",
                   "Davies–Bouldin": "{:.2f}", "Smallest segment": "{:.0%}",
                   "No clear segment": "{:,}", "Between segments": "{:,}"}


def compare_panel(config: RunConfig, sweep: KSweep) -> None:
    """The method choice, and on request every method side by side at the chosen K."""
    st.subheader("Compare methods")
    st.radio("Segments made with", METHODS, format_func=METHOD_LABELS.get, horizontal=True,
             **state.bind("w.method", state.METHOD))
    method = st.session_state[state.METHOD]
    st.caption(f"New customers are scored by the {flow.md(SCORING_RULES[method])}."
               + (" HDBSCAN finds its own number of segments; the K above is not used."
                  if method == "hdbscan" else "")
               + (" Without a K chosen by hand, the mixture's K is the one of lowest BIC."
                  if method == "gmm" else ""))
    if not st.toggle("Fit every method side by side", key="w.methods.compare"):
        st.caption("k-means, Gaussian mixture, Ward, HDBSCAN and k-prototypes on the same "
                   "prepared customers, with their agreement: segments every method finds are "
                   "a property of the data, not of the method.")
        return
    k = st.session_state[state.K_CHOICE] or sweep.recommended_k
    fp, data, name = state.data()
    try:
        comparison = cache.methods(fp, data, name,
                                   replace(config, k=None, method=DEFAULT_METHOD), k)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
        return
    summary = comparison.summary()
    st.info(flow.md(summary.verdict))
    c1, c2, c3 = st.columns(3)
    c1.metric("Between segments (Gaussian mixture)",
              f"{int(comparison.fits['gmm'].between.sum()):,}",
              help=f"Customers whose most likely segment has a probability under "
                   f"{BETWEEN_SEGMENTS_PROBABILITY:.0%}.")
    c2.metric("No clear segment (HDBSCAN)", f"{comparison.fits['hdbscan'].n_noise:,}",
              help="Customers HDBSCAN places in no segment rather than forcing them into one.")
    c3.metric("Mixture's K by BIC", comparison.bic_k)
    table = comparison.quality[list(QUALITY_HEADERS)].rename(columns=QUALITY_HEADERS)
    st.dataframe(table.style.format(QUALITY_FORMATS), hide_index=True)
    st.plotly_chart(agreement_heatmap(comparison.agreement, METHOD_LABELS), width="stretch")
    st.plotly_chart(dendrogram_chart(comparison.dendrogram, comparison.dendrogram_cut),
                    width="stretch")
    for note in summary.notes:
        st.caption(flow.md(note))


def splits_panel(config: RunConfig) -> None:
    """The clustree of k-means from K = 2 to 6, with the unstable segments named."""
    st.subheader("How segments split as K grows")
    fp, data, name = state.data()
    kmeans = replace(config, k=None, method=DEFAULT_METHOD)
    try:
        tree = cache.splits(fp, data, name, kmeans)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
        return
    # One figure per server for the same data and settings, whatever K is shown.
    st.plotly_chart(cache.figure(("splits", state.run_key(kmeans, None)),
                                 lambda: split_tree_chart(tree.nodes, tree.edges)),
                    width="stretch")
    st.caption(flow.md(tree.summary().verdict))
