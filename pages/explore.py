"""Explore: how the segments differ, chart by chart, in persona names and colours."""

import streamlit as st

import charts
from segmentation.describe import explore
from ui import cache, flow, state

st.title("Explore")
result = flow.require_result()
names = flow.names(result)
colors = charts.persona_colors(names)
shown = flow.shown(result, names)  # with the chart and its choices, each figure's cache key
fm, seg, profiles = result.features, result.segmentation, result.profiles


def label(name: str) -> str:
    var = fm.variables.get(name)
    return var.label if var is not None else name


st.subheader("Who brings the value")
worth = explore.value_variables(profiles)
if worth:
    chosen = st.selectbox("Rank the personas by", worth, key="w.explore.value",
                          format_func=label)
    st.plotly_chart(cache.figure(("spend_ranking", shown, chosen), lambda: (
        charts.spend_ranking_chart(explore.segment_value(profiles, names, chosen), colors))),
        width="stretch")
else:
    st.info("No ranking by value: the file has no money or measure column.")

st.subheader("Spread by segment")
measures = explore.measure_variables(profiles)
if measures:
    measure = st.selectbox("Measure", measures, key="w.explore.measure", format_func=label)
    st.plotly_chart(cache.figure(("box", shown, measure), lambda: charts.box_chart(
        explore.spread(fm, seg, names, measure), colors, label(measure))), width="stretch")
else:
    st.info("No box plot: the file has no measure in its own units, only flags and "
            "categories.")

if len(profiles.kind("spend")) > 1:
    st.subheader("Which categories are bought together")
    options = [None, *names]
    scope = st.selectbox("Customers", options, key="w.explore.corr_scope",
                         format_func=lambda s: "All customers" if s is None else names[s])
    title = "All customers" if scope is None else names[scope]
    st.plotly_chart(cache.figure(("correlation", shown, scope), lambda: (
        charts.correlation_heatmap(explore.spend_correlation(fm, seg, scope),
                                   f"Spend correlation: {title}"))), width="stretch")

if profiles.kind("channel"):
    st.subheader("Where each segment buys")
    shares = st.toggle("Show as 100% shares of purchases", key="w.explore.channel_shares")
    st.plotly_chart(cache.figure(("channel_mix", shown, shares), lambda: (
        charts.channel_mix_chart(explore.channel_mix(profiles, names), colors,
                                 normalized=shares))), width="stretch")
else:
    st.subheader("How each segment splits by category")
    categories = explore.category_variables(profiles)
    if categories:
        category = st.selectbox("Category", categories, key="w.explore.category",
                                format_func=label)
        st.plotly_chart(cache.figure(("category_mix", shown, category), lambda: (
            charts.category_mix_chart(explore.category_mix(profiles, names, category), colors,
                                      label(category)))), width="stretch")
    else:
        st.info("No mix chart: the file has neither purchases per channel nor a category "
                "column.")

rfm = cache.rfm(*state.data(), result.config)
if rfm is not None:  # an order log
    st.subheader("Recency, frequency and spend")
    for tab, measure in zip(st.tabs([label(m) for m in explore.RFM_MEASURES]),
                            explore.RFM_MEASURES, strict=True):
        tab.plotly_chart(cache.figure(("box", shown, measure), lambda m=measure: (
            charts.box_chart(explore.spread(fm, seg, names, m), colors, label(m)))),
            width="stretch", key=f"w.explore.rfm.{measure}")  # the same chart may be shown above
    st.plotly_chart(cache.figure(("rfm", shown), lambda: charts.rfm_heatmap(
        explore.rfm_grid(rfm, seg.labels, names))), width="stretch")
    for title, measure, variables in explore.log_share_variables(result.dataset.log):
        st.subheader(title)
        st.plotly_chart(cache.figure(("share_mix", shown, title), lambda t=title, m=measure,
                                     v=variables: charts.category_mix_chart(
            explore.share_mix(profiles, names, v), colors, t, m)), width="stretch")

st.subheader("How each segment differs from everyone")
st.plotly_chart(cache.figure(("profile", shown), lambda: charts.profile_heatmap(
    explore.profile_z(profiles, names))), width="stretch")
frame, explained = explore.pca_map(fm, seg, names, result.config.random_state)
st.plotly_chart(cache.figure(("pca", shown), lambda: charts.pca_chart(frame, colors, explained)),
                width="stretch")
if len(frame) < seg.labels.size:
    st.caption(f"A fixed sample of {len(frame):,} customers is drawn.")

st.subheader("Any variable by segment")
numeric = [n for n in fm.frame.columns
           if n in fm.variables and fm.frame[n].dtype.kind in "biuf"]
default = next((v for v in (profiles.first("total_spend"), *worth) if v in numeric), None)
variable = st.selectbox("Variable", numeric, key="w.explore.variable",
                        index=numeric.index(default) if default else 0, format_func=label)
st.plotly_chart(cache.figure(("distribution", shown, variable), lambda: (
    charts.distribution_chart(explore.customer_values(fm, seg, names, variable), colors,
                              label(variable)))), width="stretch")
