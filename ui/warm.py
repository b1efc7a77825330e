"""Warming a studio server as it starts, before anyone opens it.

Streamlit imports a page's modules and fills its caches on the first visit, so the first
visitor waits for scikit-learn's import and the bundled sample's segmentation (about three
seconds on two cores). Started from ``serve.py``, a background thread does both as the
server comes up: a visitor who arrives later finds the sample segmented, and one who
arrives at once waits only for what the thread has not done yet (the cache computes each
result once, whoever asks first).
"""

from __future__ import annotations

import logging
import threading

THREAD_NAME = "studio-warm-up"
_LOG = logging.getLogger(__name__)


class _NotFromWarmUp(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" note for the warm-up thread, which
    calls the cached functions outside any visitor's run on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def warm() -> bool:
    """Segment the bundled sample with the settings a new session opens with, into the
    server's caches. Returns whether it did; a failure is logged, never raised: the
    visitor's own run then says what is wrong."""
    try:
        from ui import cache, state

        fp, data, name, config = state.new_session_run()
        cache.result(fp, data, name, config)
    except Exception:  # noqa: BLE001 - the server must come up whatever happens here
        _LOG.warning("Warming the studio on the bundled sample failed; the first visit "
                     "will segment it.", exc_info=True)
        return False
    return True


def start_warming() -> threading.Thread:
    """Run :func:`warm` on a daemon thread (it never delays the server's start)."""
    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NotFromWarmUp) for f in logger.filters):
            logger.addFilter(_NotFromWarmUp())
    thread = threading.Thread(target=warm, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
