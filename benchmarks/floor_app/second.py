"""Second page: one small plotly chart from a pandas frame."""

import pandas as pd
import plotly.express as px
import streamlit as st

st.title("Second")
frame = pd.DataFrame({"segment": ["A", "B", "C"], "customers": [420, 310, 270]})
st.plotly_chart(px.bar(frame, x="segment", y="customers"), width="stretch")
