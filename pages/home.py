"""Home: what the studio does, and where you are in the flow."""

import streamlit as st

from ui import flow

st.title("Segmentation Studio")
st.markdown(
    "Find the three to five behavioural segments hidden in your customer file, name them "
    "as personas, and see what sets each apart. The bundled sample customers are loaded, "
    "so every page works straight away; upload your own CRM export on the **Data** page."
)
steps = st.columns(4)
for col, (page, title, text) in zip(steps, [
    ("pages/data.py", "1. Data", "Upload a file and check how each column is read."),
    ("pages/variables.py", "2. Variables & K", "Choose what to cluster on and how many segments."),
    ("pages/personas.py", "3. Personas", "Name the segments and plan what each one gets."),
    ("pages/explore.py", "4. Explore", "Compare the segments chart by chart."),
], strict=True):
    with col.container(border=True):
        st.page_link(page, label=title)
        st.caption(text)

result = flow.require_result()
seg = result.segmentation
st.subheader("Current segmentation")
a, b, c = st.columns(3)
a.metric("Customers segmented", f"{seg.labels.size:,}")
b.metric("Segments (K)", result.chosen_k)
c.metric("Silhouette", f"{seg.silhouette:.2f}")
run_summary = result.summary(flow.personas(result))
st.caption(flow.md(run_summary.verdict))
st.dataframe(
    run_summary.table.rename(columns={"segment": "Segment", "persona": "Persona",
                                      "size": "Customers", "share": "Share"}),
    hide_index=True, column_config={"Share": st.column_config.NumberColumn(format="percent")},
)
