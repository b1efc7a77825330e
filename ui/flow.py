"""What every page needs first: the current data and segmentation, or a clear stop."""

from __future__ import annotations

import streamlit as st

from segmentation import Dataset, SegmentationError, SegmentationResult
from segmentation.personas import Persona, apply_edits

from . import cache, state

DATA_PAGE = "pages/data.py"


def stop_with(message: str) -> None:
    """Show the engine's one-sentence message and a way back to the Data page, then stop."""
    st.error(message)
    st.page_link(DATA_PAGE, label="Go to the Data page", icon=":material/upload_file:")
    st.stop()


def require_dataset() -> Dataset:
    state.init()
    fp, data, name = state.data()
    try:
        return cache.dataset(fp, data, name, state.roles_key())
    except SegmentationError as exc:
        stop_with(str(exc))


def require_result() -> SegmentationResult:
    """The segmentation for the current data and choices (cached)."""
    state.init()
    fp, data, name = state.data()
    try:
        return cache.result(fp, data, name, state.run_config())
    except SegmentationError as exc:
        stop_with(str(exc))


def personas(result: SegmentationResult) -> tuple[Persona, ...]:
    """The engine's suggestions with the user's edits for this segmentation laid over."""
    key = state.run_key(result.config, result.chosen_k)
    return apply_edits(result.personas, state.persona_edits(key))


def names(result: SegmentationResult) -> dict[int, str]:
    return {p.segment: p.name for p in personas(result)}
