"""Waiting in AppTest for work the studio does in the background."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

# The bootstrap of the bundled sample takes seconds; a loaded machine may take minutes.
BACKGROUND_TIMEOUT_S = 180
POLL_S = 0.1


def settled(at: AppTest, timeout: float = BACKGROUND_TIMEOUT_S) -> AppTest:
    """Rerun the page until no progress bar is left: the bootstrap has finished."""
    deadline = time.monotonic() + timeout
    while at.get("progress") and time.monotonic() < deadline:
        time.sleep(POLL_S)
        at.run()
    assert not at.get("progress"), "the background work did not finish in time"
    assert not at.exception, [e.message for e in at.exception]
    return at
