"""What every page needs first: the current data and segmentation, or a clear stop."""

from __future__ import annotations

import streamlit as st

from segmentation import SegmentationError, SegmentationResult
from segmentation.data.dataset import Dataset
from segmentation.describe.carry_names import CarriedOver, carry_over, record_edit
from segmentation.describe.personas import Persona
from segmentation.validate.stability import Bootstrap, bootstrap_stability

from . import cache, state

DATA_PAGE = "pages/data.py"


def stop_with(message: str) -> None:
    """Show the engine's one-sentence message and a way back to the Data page, then stop."""
    st.error(md(message))
    st.page_link(DATA_PAGE, label="Go to the Data page", icon=":material/upload_file:")
    st.stop()


def require_dataset() -> Dataset:
    state.init()
    fp, data, name = state.data()
    try:
        return cache.dataset(fp, data, name, state.roles_key(), state.reading())
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


def carried_over(result: SegmentationResult) -> CarriedOver:
    """The engine's suggestions with the user's edits carried over by segment profile."""
    return carry_over(result.personas, result.profiles.z, state.persona_records())


def personas(result: SegmentationResult) -> tuple[Persona, ...]:
    return carried_over(result).personas


def edit_persona(result: SegmentationResult, segment: int, changes: dict[str, str]) -> None:
    state.set_persona_records(
        record_edit(state.persona_records(), result.profiles.z, segment, changes))


def names(result: SegmentationResult) -> dict[int, str]:
    return {p.segment: p.name for p in personas(result)}


def bootstrap(result: SegmentationResult, n_boot: int, progress=None) -> Bootstrap:
    """The bootstrap of this segmentation, computed once per session and kept."""
    key = f"{state.run_key(result.config, result.chosen_k)}|{n_boot}"
    done = st.session_state[state.BOOTSTRAPS]
    if key not in done:
        done[key] = bootstrap_stability(result.features, result.segmentation, n_boot,
                                        result.config.random_state, result.config.n_init,
                                        progress=progress)
    return done[key]


def known_bootstrap(result: SegmentationResult) -> Bootstrap | None:
    """The latest bootstrap computed for this segmentation, if any (for badges)."""
    prefix = f"{state.run_key(result.config, result.chosen_k)}|"
    found = [b for k, b in st.session_state[state.BOOTSTRAPS].items() if k.startswith(prefix)]
    return found[-1] if found else None


_MARKDOWN_SPECIAL = "\\`*_{}[]()<>#!|~$"


def md(text: str) -> str:
    """User-typed text made literal inside st.markdown (no links, colours or HTML)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in str(text))
