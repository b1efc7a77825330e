"""Segments within strata on the Variables & K page: the choice of strata and the per-stratum K."""

from __future__ import annotations

import streamlit as st

from charts.strata import stratum_k_chart
from segmentation import SegmentationError
from segmentation.cluster.kmeans import MAX_K, quality_warnings
from segmentation.cluster.strata import MAX_STRATA, parse_strata, strata_candidates
from segmentation.data.dataset import Dataset
from ui import cache, flow, state

_NONE = "(no strata)"
_ERROR = "w.strata.error"  # the last cut-offs typed that could not be read, and why


def _key(name: str) -> str:
    # Keyed on the stored spec, so a change made elsewhere (a button setting "Income:3")
    # recreates the widgets from it instead of leaving them showing the old choice.
    return f"w.strata.{name}.{st.session_state[state.STRATA]}"


def strata_control(dataset: Dataset) -> None:
    """Choose a column to segment within, and its bands or cut-offs when it is a number."""
    candidates = strata_candidates(dataset)
    current = st.session_state[state.STRATA]
    spec = parse_strata(current) if current else None
    st.subheader("Segments within strata")
    st.caption("Split the customers by one column first (income bands, a region) and find "
               "the behavioural segments inside each part; the column is profiled, not "
               "clustered on.")
    options = [_NONE, *candidates]
    if spec is not None and spec.column not in candidates:
        options.append(spec.column)  # a saved or suggested choice stays visible

    def _on_column():
        picked = st.session_state[_key("column")]
        st.session_state[_ERROR] = None
        st.session_state[state.STRATA] = None if picked == _NONE else candidates.get(picked,
                                                                                     picked)

    c1, c2, c3 = st.columns([2, 1, 2])
    c1.selectbox("Stratify by", options, key=_key("column"), on_change=_on_column,
                 index=options.index(spec.column) if spec is not None else 0)
    if spec is None or candidates.get(spec.column, current) == spec.column:
        return  # no strata, or a category: nothing more to choose

    def _on_bands():
        st.session_state[_ERROR] = None
        st.session_state[state.STRATA] = f"{spec.column}:{st.session_state[_key('bands')]}"

    def _on_cuts():
        text = st.session_state[_key("cuts")].strip()
        if not text:
            st.session_state[state.STRATA] = f"{spec.column}:3"
            return
        try:
            # One number is one cut-off, not a number of bands.
            new = parse_strata(f"{spec.column}:{text if ',' in text else text + ','}").text
        except SegmentationError as exc:
            st.session_state[_ERROR] = str(exc)
            return
        st.session_state[_ERROR] = None
        st.session_state[state.STRATA] = new

    c2.number_input("Quantile bands", min_value=2, max_value=MAX_STRATA, step=1,
                    value=spec.bands or 3, key=_key("bands"), on_change=_on_bands,
                    disabled=spec.cuts is not None)
    c3.text_input("Or cut-offs (comma-separated)", key=_key("cuts"), on_change=_on_cuts,
                  value=spec.text.rpartition(":")[2].rstrip(",") if spec.cuts else "",
                  placeholder="e.g. 40000, 70000")
    if st.session_state.get(_ERROR):
        st.error(flow.md(st.session_state[_ERROR]))


def k_panel() -> None:
    """Each stratum's K, quality and reason, in place of the single sweep."""
    st.subheader("How many segments in each stratum?")
    result = flow.require_result()
    fit = result.strata
    summary = fit.summary()
    st.info(flow.md(summary.verdict))

    def _on_k():
        picked = st.session_state["w.strata.k"]
        st.session_state[state.K_CHOICE] = None if picked == "auto" else picked

    choices = ["auto", *range(2, MAX_K + 1)]
    st.session_state["w.strata.k"] = st.session_state[state.K_CHOICE] or "auto"
    st.selectbox("K within each stratum", choices, key="w.strata.k", on_change=_on_k,
                 format_func=lambda k: "each stratum's recommended K" if k == "auto"
                 else str(k))
    table = summary.table
    st.plotly_chart(cache.figure(("stratum_k", state.run_key(result.config, result.chosen_k)),
                                 lambda: stratum_k_chart(table)), width="stretch")
    st.dataframe(table.rename(columns={
        "stratum": "Stratum", "customers": "Customers", "k": "K", "silhouette": "Silhouette",
        "stability": "Split-half agreement (median)", "reason": "Why this K"}).style.format(
        {"Customers": "{:,}", "Silhouette": "{:.2f}",
         "Split-half agreement (median)": "{:.2f}"}, na_rep="–"), hide_index=True)
    seg = result.segmentation
    for warning in quality_warnings(seg.silhouette, seg.shares, seg.labels.size):
        st.warning(flow.md(warning))
    for note in summary.notes[len(fit.fits):]:
        st.caption(flow.md(note))
