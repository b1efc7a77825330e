"""The floor: the least a two-page Streamlit app with a plotly chart per page can do.

``benchmarks/bench_app.py`` times this beside the studio in the same run, so the
studio's figures can be read against what Streamlit, pandas and plotly cost on
this machine at that moment.
"""

import streamlit as st

st.set_page_config(page_title="Floor", layout="wide")
st.navigation([
    st.Page("first.py", title="First", default=True),
    st.Page("second.py", title="Second"),
]).run()
