"""What every page needs first: the current data and segmentation, or a clear stop."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from segmentation import RunConfig, SegmentationError, SegmentationResult
from segmentation.data.dataset import Dataset
from segmentation.describe.carry_names import CarriedOver, carry_over, record_edit
from segmentation.describe.personas import Persona
from segmentation.validate.stability import Bootstrap

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


def shown(result: SegmentationResult, names: dict[int, str]) -> tuple:
    """The part of a chart's cache key (``cache.figure``) naming the segmentation drawn and
    the persona names it is drawn with; the chart and the choices made for it complete it."""
    return state.run_key(result.config, result.chosen_k), tuple(sorted(names.items()))


# Segmentations whose bootstrap a session remembers (for the badges): a handful covers
# going back and forth between a few K or variable choices.
KNOWN_BOOTSTRAPS = 8


def _settled(result: SegmentationResult) -> RunConfig:
    # The K used, not "recommended": the same segments whichever way K was reached.
    return replace(result.config, k=result.chosen_k)


def start_bootstrap(result: SegmentationResult, n_boot: int) -> cache.Slot:
    """The bootstrap of this segmentation, computed once per server in the background
    (see ``cache.start_bootstrap``).

    The session records only which resample count it last asked for this
    segmentation, so :func:`known_bootstrap` can find the result again.
    """
    slot = cache.start_bootstrap(state.data()[0], _settled(result), n_boot, result)
    remember_bootstrap(st.session_state[state.BOOTSTRAPS],
                       state.run_key(result.config, result.chosen_k), n_boot)
    return slot


def remember_bootstrap(known: dict[str, int], key: str, n_boot: int,
                       limit: int = KNOWN_BOOTSTRAPS) -> None:
    """Record ``n_boot`` as the latest for ``key``, forgetting the oldest beyond ``limit``."""
    known.pop(key, None)  # re-inserted last: the most recent is kept longest
    known[key] = n_boot
    while len(known) > limit:
        known.pop(next(iter(known)))


def known_bootstrap(result: SegmentationResult) -> Bootstrap | None:
    """The latest bootstrap computed in this session for this segmentation, if any (for badges)."""
    n_boot = st.session_state[state.BOOTSTRAPS].get(
        state.run_key(result.config, result.chosen_k))
    if n_boot is None:
        return None
    return cache.known_bootstrap(state.data()[0], _settled(result), n_boot)


_MARKDOWN_SPECIAL = "\\`*_{}[]()<>#!|~$"


def md(text: str) -> str:
    """User-typed text made literal inside st.markdown (no links, colours or HTML)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in str(text))
