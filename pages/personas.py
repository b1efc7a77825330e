"""Personas: the cheat sheet, and names and strategies the team can edit."""

import pandas as pd
import streamlit as st

from segmentation.clustering import quality_warnings
from segmentation.explore import cheat_sheet
from segmentation.personas import EDITABLE_FIELDS
from ui import flow, state

st.title("Personas")
result = flow.require_result()
seg = result.segmentation
run_key = state.run_key(result.config, result.chosen_k)


def _table(personas) -> pd.DataFrame:
    return pd.DataFrame([{"segment": p.segment, **{f: getattr(p, f) for f in EDITABLE_FIELDS}}
                         for p in personas])


table = _table(flow.personas(result))


def _apply_edits():
    # Rows arrive by position; map them to segments through the table shown.
    for row, change in state.pop_edits("personas").items():
        segment = int(table.loc[row, "segment"])
        for field, value in change.items():
            if field in EDITABLE_FIELDS:
                state.set_persona_edit(run_key, segment, field, "" if value is None else value)


# Edits are applied in the editor's callback; this catches edits set on the
# editor's state without one (as a test does), before anything is drawn.
if state.has_edits("personas"):
    _apply_edits()
    table = _table(flow.personas(result))
personas = flow.personas(result)

st.subheader("Cheat sheet")
st.dataframe(
    cheat_sheet(result.profiles, personas).drop(columns=["segment"]), hide_index=True,
    width="stretch",
    column_config={
        "persona": "Persona",
        "size": st.column_config.NumberColumn("Customers", format="%d"),
        "share": st.column_config.NumberColumn("Share", format="percent"),
        "revenue_share": st.column_config.NumberColumn("Revenue share", format="percent"),
        "avg_income": st.column_config.NumberColumn("Avg income", format="%.0f"),
        "avg_wine": st.column_config.NumberColumn("Avg wine", format="%.0f"),
        "avg_meat": st.column_config.NumberColumn("Avg meat", format="%.0f"),
        "avg_total_spend": st.column_config.NumberColumn("Avg total spend", format="%.0f"),
        "avg_recency": st.column_config.NumberColumn("Days since purchase", format="%.0f"),
        "preferred_channel": "Preferred channel",
    },
)
for warning in quality_warnings(seg.silhouette, seg.shares, seg.labels.size):
    st.warning(warning)

st.subheader("Names and strategies")
st.caption("Edit in the table: changes are kept for this segmentation across pages and "
           "reruns, and appear on every chart. Suggestions come from each segment's numbers.")
st.data_editor(
    table, key=state.editor_key("personas"), on_change=_apply_edits, hide_index=True,
    width="stretch", disabled=["segment"],
    column_config={
        "segment": st.column_config.NumberColumn("Segment", width="small"),
        "name": st.column_config.TextColumn("Persona name", required=True, max_chars=80),
        "description": st.column_config.TextColumn("Description", width="large"),
        "offer": "Offer", "channels": "Channels", "tone": "Tone",
        "products": "Products to promote",
    },
)
if state.persona_edits(run_key):
    st.button("Restore the suggestions",
              on_click=lambda: st.session_state[state.PERSONA_EDITS].pop(run_key, None))

st.subheader("How to treat each segment")
for p in personas:
    with st.container(border=True):
        st.markdown(f"**{p.name}** — {seg.shares[p.segment]:.0%} of customers")
        st.caption(p.treatment)
        st.caption("Stands out on: " + "; ".join(p.traits[:3]))
