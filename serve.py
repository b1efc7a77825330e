"""Serve the studio: ``streamlit run serve.py``.

The same studio as ``streamlit run app.py`` (which Streamlit runs for each visitor), on a
server that warms itself as it starts (``ui/warm.py``): the engine imported and the bundled
sample segmented before the first visitor asks.
"""

from contextlib import asynccontextmanager

import streamlit as st

from ui.warm import start_warming


@asynccontextmanager
async def _warm_at_start(_app):
    start_warming()
    yield


app = st.App("app.py", lifespan=_warm_at_start)
