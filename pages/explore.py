"""Explore: how the segments differ, chart by chart, in persona names and colours."""

import streamlit as st

from segmentation import explore
from ui import charts, flow

st.title("Explore")
result = flow.require_result()
names = flow.names(result)
colors = charts.persona_colors(names)
fm, seg, profiles = result.features, result.segmentation, result.profiles

st.subheader("Who brings the revenue")
st.plotly_chart(charts.spend_ranking_chart(explore.segment_value(profiles, names), colors),
                width="stretch")

income = profiles.first("income")
if income:
    st.subheader("Income by segment")
    st.plotly_chart(charts.box_chart(explore.spread(fm, seg, names, income), colors,
                                     fm.variables[income].label), width="stretch")

if len(profiles.kind("spend")) > 1:
    st.subheader("Which categories are bought together")
    options = [None, *names]
    scope = st.selectbox("Customers", options, key="w.explore.corr_scope",
                         format_func=lambda s: "All customers" if s is None else names[s])
    title = "All customers" if scope is None else names[scope]
    st.plotly_chart(charts.correlation_heatmap(explore.spend_correlation(fm, seg, scope),
                                               f"Spend correlation: {title}"), width="stretch")

if profiles.kind("channel"):
    st.subheader("Where each segment buys")
    shares = st.toggle("Show as 100% shares of purchases", key="w.explore.channel_shares")
    st.plotly_chart(charts.channel_mix_chart(explore.channel_mix(profiles, names), colors,
                                             normalized=shares), width="stretch")

st.subheader("How each segment differs from everyone")
st.plotly_chart(charts.profile_heatmap(explore.profile_z(profiles, names)), width="stretch")
frame, explained = explore.pca_map(fm, seg, names, result.config.random_state)
st.plotly_chart(charts.pca_chart(frame, colors, explained), width="stretch")
if len(frame) < seg.labels.size:
    st.caption(f"A fixed sample of {len(frame):,} customers is drawn.")

st.subheader("Any variable by segment")
numeric = [n for n in fm.frame.columns if n in fm.variables]
variable = st.selectbox("Variable", numeric, key="w.explore.variable",
                        index=numeric.index(profiles.first("total_spend"))
                        if profiles.first("total_spend") in numeric else 0,
                        format_func=lambda n: fm.variables[n].label)
st.plotly_chart(charts.distribution_chart(explore.customer_values(fm, seg, names, variable),
                                          colors, fm.variables[variable].label),
                width="stretch")
