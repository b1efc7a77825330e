"""First page: one small plotly chart from a pandas frame."""

import pandas as pd
import plotly.express as px
import streamlit as st

st.title("First")
frame = pd.DataFrame({"k": range(2, 7), "inertia": [900.0, 610.0, 480.0, 430.0, 400.0]})
st.plotly_chart(px.line(frame, x="k", y="inertia", markers=True), width="stretch")
