"""The persona card's rules: how a CRM team finds the segment with a filter of its own."""

from __future__ import annotations

import streamlit as st

from segmentation import SegmentationResult

from . import cache, flow, state

HEADING = "Find them with a filter"


def show(result: SegmentationResult, segment: int) -> None:
    """The segment's rules in the variables' own units, with their figures, and how well
    they rebuild the segment on customers held out (or that it has no simple rule)."""
    rules = cache.persona_rules(*state.data(), result.config).for_segment(segment)
    if rules.shown:
        st.markdown(f"**{HEADING}:**\n" + "\n".join(f"- {flow.md(r.text)}" for r in rules.shown))
    st.caption(flow.md(rules.verdict))
