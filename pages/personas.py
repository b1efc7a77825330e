"""Personas: the cheat sheet, and names and strategies the team can edit."""

import pandas as pd
import streamlit as st

import charts
from segmentation import SegmentationError
from segmentation.cluster.kmeans import quality_warnings
from segmentation.cluster.rfm import crosstab
from segmentation.config import JACCARD_DOUBTFUL, JACCARD_STABLE
from segmentation.describe.explore import cheat_sheet, cheat_sheet_columns
from segmentation.describe.personas import EDITABLE_FIELDS
from segmentation.export.bundle import bundle_bytes
from ui import cache, flow, rules_section, state

st.title("Personas")
result = flow.require_result()
seg = result.segmentation


def _table(personas) -> pd.DataFrame:
    return pd.DataFrame([{"segment": p.segment, **{f: getattr(p, f) for f in EDITABLE_FIELDS}}
                         for p in personas])


table = _table(flow.personas(result))


def _apply_edits():
    # Rows arrive by position; map them to segments through the table shown.
    for row, change in state.pop_edits("personas").items():
        segment = int(table.loc[row, "segment"])
        flow.edit_persona(result, segment, {f: "" if v is None else v
                                            for f, v in change.items() if f in EDITABLE_FIELDS})


# Edits are applied in the editor's callback; this catches edits set on the
# editor's state without one (as a test does), before anything is drawn.
if state.has_edits("personas"):
    _apply_edits()
    table = _table(flow.personas(result))
carried = flow.carried_over(result)
personas = carried.personas

st.subheader("Cheat sheet")
sheet = cheat_sheet(result.profiles, personas)
_FORMATS = {"int": "%d", "pct1": "percent", "num0": "%.0f", "num1": "%.1f", "num2": "%.2f"}
st.dataframe(
    sheet.drop(columns=["segment"]), hide_index=True, width="stretch",
    column_config={
        column: (st.column_config.NumberColumn(header, format=_FORMATS[fmt]) if fmt in _FORMATS
                 else header)
        for column, (header, fmt) in cheat_sheet_columns(result.profiles, sheet).items()
        if column != "segment"},
)
for warning in quality_warnings(seg.silhouette, seg.shares, seg.labels.size):
    st.warning(flow.md(warning))
rfm = cache.rfm(*state.data(), result.config)
if rfm is not None:  # an order log: the personas beside the RFM grid analysts know
    st.markdown("**The personas against the RFM grid** (customers in each cell)")
    grid = crosstab(rfm, seg.labels, {p.segment: p.name for p in personas})
    st.dataframe(grid.rename_axis(index="RFM cell", columns=None).reset_index(), hide_index=True,
                 width="stretch")
    st.caption("Recency and frequency scored 1 to 5 by quintile; the cells are the usual "
               "RFM segment map.")


def _estimate_lifetime() -> None:
    # The engine's sentence is kept too, so a rerun says it again without refitting.
    try:
        with st.spinner("Fitting BG/NBD and Gamma-Gamma to the order history…"):
            cache.lifetime(*state.data(), result.config)
    except SegmentationError as exc:
        state.remember_lifetime(result.config, str(exc))
    else:
        state.remember_lifetime(result.config)


if result.dataset.log is not None:  # lifetime needs each customer's order history
    st.subheader("Customer lifetime")
    if not state.lifetime_asked(result.config):
        st.caption("Expected orders and value per persona over the next 12 months, from when "
                   "and how much each customer bought. Runs when asked: the first estimate "
                   "takes about a minute, later ones a few seconds.")
        if st.button("Estimate customer lifetime (BG/NBD)", icon=":material/timeline:"):
            _estimate_lifetime()
    if state.lifetime_error(result.config):
        st.error(flow.md(state.lifetime_error(result.config)))
    elif state.lifetime_asked(result.config):
        lifetime = cache.lifetime(*state.data(), result.config)
        from segmentation.export import strategy  # its spreadsheet writers: only when used

        st.dataframe(strategy.lifetime_segments(result, lifetime, personas).drop(
            columns="segment"), hide_index=True, width="stretch",
            column_config={c: st.column_config.NumberColumn(h, format=f) if f != "text" else h
                           for c, (h, f) in charts.LIFETIME_HEADERS.items()})
        for note in lifetime.notes:
            st.caption(flow.md(note))

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
if carried.match.pairs:
    st.caption("Names and strategies you edit stay with their segment's profile: change the "
               "variables, K or seed and they follow the segment that matches.")
    kept = [r for i, r in enumerate(state.persona_records())
            if i not in carried.match.pairs.values()]
    st.button("Restore the suggestions", on_click=state.set_persona_records, args=(kept,))
for name in carried.vanished_names:
    st.info(f"'{flow.md(name)}' has no matching segment in this segmentation (its customers are "
            "now split or merged differently); its name returns if a matching segment does.")

st.subheader("How to treat each segment")
st.caption("Stability badges appear once the Validate page has run the bootstrap.")
boot = flow.known_bootstrap(result)
for p in personas:
    with st.container(border=True):
        badge = ""
        if boot is not None:
            row = boot.per_segment.loc[p.segment]
            color = ("green" if row["mean_jaccard"] >= JACCARD_STABLE else
                     "orange" if row["mean_jaccard"] >= JACCARD_DOUBTFUL else "red")
            badge = f" :{color}-badge[{row['band']} · Jaccard {row['mean_jaccard']:.2f}]"
        st.markdown(f"**{flow.md(p.name)}** — {seg.shares[p.segment]:.0%} of customers{badge}")
        st.caption(p.treatment)
        if p.claims:
            st.markdown("**Why this name:** " + "; ".join(flow.md(c.text) for c in p.claims)
                        + ".")
        if p.traits:
            st.caption("Stands out on: " + "; ".join(flow.md(t) for t in p.traits[:3]))
        rules_section.show(result, p.segment)

st.download_button(
    "Save segmentation bundle", data=lambda: bundle_bytes(result, flow.personas(result)),
    file_name="bundle.json", mime="application/json", icon=":material/download:",
    help="Settings, model, persona names and strategies: open it on the Data page to come "
         "back to exactly this, or use it on Compare runs with next quarter's export.")
