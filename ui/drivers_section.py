"""The Variables & K page's "What drives the segments" panel.

The ranked share of each variable's variance between segments, the warning when one
demographic or money variable is what the segments mostly are (with the two ways
forward), the behaviour-first preset, and the ablation table on demand.
"""

from __future__ import annotations

import streamlit as st

from charts import drivers as driver_charts
from segmentation import SegmentationError
from segmentation.data.dataset import Dataset
from segmentation.prepare.behaviour import BEHAVIOUR_SCALING, behaviour_features
from segmentation.prepare.variables import Variable

from . import cache, flow, state

BEHAVIOUR_BUTTON = "Cluster on behaviour only"
BEHAVIOUR_HELP = ("Cluster on spend and channel mix, deals, recency and purchases; "
                  "demographics and money levels describe the segments afterwards.")


def _use_behaviour(features: tuple[str, ...]) -> None:
    state.set_features(features)
    st.session_state[state.SCALING] = BEHAVIOUR_SCALING
    st.session_state[state.K_CHOICE] = None  # a new variable set earns its own K
    for key in [k for k in st.session_state
                if str(k).startswith(("w.features.", "w.weight.")) or k == "w.scaling"]:
        del st.session_state[key]  # widgets reseed from the preset
    # The panel lives in the K fragment; the variable pickers above it must redraw too.
    st.rerun()


def show(variables: dict[str, Variable], dataset: Dataset) -> None:
    """Draw the panel for the current segmentation."""
    st.subheader("What drives the segments")
    result = flow.require_result()
    drivers, warning = cache.drivers(*state.data(), result.config)
    try:
        preset = behaviour_features(variables, dataset.log)
    except SegmentationError as exc:
        preset, no_preset = None, str(exc)
    if warning is not None:
        st.warning(flow.md(warning.message))
        b1, b2 = st.columns(2)
        if preset is not None and b1.button(
                BEHAVIOUR_BUTTON, key="w.drivers.behaviour", help=BEHAVIOUR_HELP):
            _use_behaviour(preset)
        if b2.button(f"Segments within {warning.label} bands", key="w.drivers.strata",
                     help=f"Cut {warning.label} into low, middle and high bands and find "
                          "behavioural segments inside each."):
            st.session_state[state.STRATA] = warning.strata  # e.g. "Income:3"
            st.rerun()
    st.caption("Each bar is the share of a variable's variance that lies between segments "
               "(η²): near 100%, the segments are that variable's bands; pale bars are "
               "variables only profiled, not clustered on.")
    st.plotly_chart(cache.figure(("drivers", flow.shown(result, {})),
                                 lambda: driver_charts.drivers_chart(drivers)), width="stretch")
    if warning is None:
        if (preset is not None and tuple(result.features.features) != preset
                and st.button(BEHAVIOUR_BUTTON, key="w.drivers.behaviour",
                              help=BEHAVIOUR_HELP)):
            _use_behaviour(preset)
        elif preset is None:
            st.caption(flow.md(no_preset))
    _ablation(result)


def _ablation(result) -> None:
    st.markdown("**Does each variable matter?**")
    st.caption("Refits the segmentation once without each clustering variable, at the same "
               "K and seed, and measures how much the segments move.")
    fp, data, name = state.data()
    config = result.config
    key = state.run_key(config, result.chosen_k)
    if key not in st.session_state[state.ABLATIONS]:
        if st.button("Leave out each variable in turn", key="w.drivers.ablation"):
            st.session_state[state.ABLATIONS] = (*st.session_state[state.ABLATIONS], key)
        else:
            return
    try:
        found = cache.ablation(fp, data, name, config)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
        return
    if found.suggestion:
        st.info(flow.md(found.suggestion))
    st.dataframe(driver_charts.ablation_frame(found.table), hide_index=True)
