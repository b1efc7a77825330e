"""Segmentation Studio: find, name and explore the customer segments in a CRM export.

Run with ``streamlit run serve.py`` (this app on a server that warms itself as it starts)
or ``streamlit run app.py``. This file only sets up navigation; each page lives in
``pages/``.
"""

import streamlit as st

from ui import state

st.set_page_config(page_title="Segmentation Studio", page_icon=":material/groups:",
                   layout="wide")
state.init()

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
    st.Page("pages/variables.py", title="Variables & K", icon=":material/tune:"),
    st.Page("pages/personas.py", title="Personas", icon=":material/groups:"),
    st.Page("pages/explore.py", title="Explore", icon=":material/insights:"),
    st.Page("pages/validate.py", title="Validate", icon=":material/verified:"),
    st.Page("pages/plan.py", title="Plan", icon=":material/campaign:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
    st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
    st.Page("pages/history.py", title="History", icon=":material/history:"),
])
with st.sidebar:
    source = "bundled sample" if st.session_state[state.DATA_SOURCE] == "sample" else "upload"
    st.caption(f"Data: **{st.session_state[state.DATA_NAME]}** ({source})")
navigation.run()
