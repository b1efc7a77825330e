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


worth = explore.value_variables(profiles)
measures = explore.measure_variables(profiles)
rfm = cache.rfm(*state.data(), result.config)
log_shares = explore.log_share_variables(result.dataset.log) if rfm is not None else []
mix_title = ("Where each segment buys" if profiles.kind("channel")
             else "How each segment splits by category")
# One tab per question. Only the open tab's charts are computed and drawn: a first visit
# shows one chart at once, not a gallery the browser draws in full before any is usable.
sections = ["Who brings the value", "Spread by segment",
            *(["Bought together"] if len(profiles.kind("spend")) > 1 else []),
            mix_title,
            *(["Recency, frequency and spend"] if rfm is not None else []),
            "How each segment differs", "Map of the customers", "Any variable"]
tabs = dict(zip(sections, st.tabs(sections, key="w.explore.tab", on_change="rerun"),
                strict=True))


def opened(section: str):
    """The section's tab when it is the one open, else None."""
    tab = tabs.get(section)
    return tab if tab is not None and tab.open else None


if tab := opened("Who brings the value"):
    with tab:
        if worth:
            chosen = st.selectbox("Rank the personas by", worth, key="w.explore.value",
                                  format_func=label)
            st.plotly_chart(cache.figure(("spend_ranking", shown, chosen), lambda: (
                charts.spend_ranking_chart(explore.segment_value(profiles, names, chosen),
                                           colors))), width="stretch")
        else:
            st.info("No ranking by value: the file has no money or measure column.")

if tab := opened("Spread by segment"):
    with tab:
        if measures:
            measure = st.selectbox("Measure", measures, key="w.explore.measure",
                                   format_func=label)
            st.plotly_chart(cache.figure(("box", shown, measure), lambda: charts.box_chart(
                explore.spread(fm, seg, names, measure), colors, label(measure))),
                width="stretch")
        else:
            st.info("No box plot: the file has no measure in its own units, only flags and "
                    "categories.")

if tab := opened("Bought together"):
    with tab:
        options = [None, *names]
        scope = st.selectbox("Customers", options, key="w.explore.corr_scope",
                             format_func=lambda s: "All customers" if s is None else names[s])
        title = "All customers" if scope is None else names[scope]
        st.plotly_chart(cache.figure(("correlation", shown, scope), lambda: (
            charts.correlation_heatmap(explore.spend_correlation(fm, seg, scope),
                                       f"Spend correlation: {title}"))), width="stretch")

if tab := opened(mix_title):
    with tab:
        if profiles.kind("channel"):
            shares = st.toggle("Show as 100% shares of purchases",
                               key="w.explore.channel_shares")
            st.plotly_chart(cache.figure(("channel_mix", shown, shares), lambda: (
                charts.channel_mix_chart(explore.channel_mix(profiles, names), colors,
                                         normalized=shares))), width="stretch")
        elif categories := explore.category_variables(profiles):
            category = st.selectbox("Category", categories, key="w.explore.category",
                                    format_func=label)
            st.plotly_chart(cache.figure(("category_mix", shown, category), lambda: (
                charts.category_mix_chart(explore.category_mix(profiles, names, category),
                                          colors, label(category)))), width="stretch")
        elif not log_shares:
            st.info("No mix chart: the file has neither purchases per channel nor a category "
                    "column.")
        for title, measure, variables in log_shares:  # an order log's shares of spend, orders
            st.subheader(title)
            st.plotly_chart(cache.figure(
                ("share_mix", shown, title), lambda t=title, m=measure, v=variables:
                charts.category_mix_chart(explore.share_mix(profiles, names, v), colors,
                                          t, m)), width="stretch")

if tab := opened("Recency, frequency and spend"):
    with tab:
        for inner, measure in zip(st.tabs([label(m) for m in explore.RFM_MEASURES]),
                                  explore.RFM_MEASURES, strict=True):
            inner.plotly_chart(cache.figure(("box", shown, measure), lambda m=measure: (
                charts.box_chart(explore.spread(fm, seg, names, m), colors, label(m)))),
                width="stretch", key=f"w.explore.rfm.{measure}")  # also a Spread measure
        st.plotly_chart(cache.figure(("rfm", shown), lambda: charts.rfm_heatmap(
            explore.rfm_grid(rfm, seg.labels, names))), width="stretch")

if tab := opened("How each segment differs"):
    with tab:
        st.plotly_chart(cache.figure(("profile", shown), lambda: charts.profile_heatmap(
            explore.profile_z(profiles, names))), width="stretch")

if tab := opened("Map of the customers"):
    with tab:
        frame, explained = explore.pca_map(fm, seg, names, result.config.random_state)
        st.plotly_chart(cache.figure(("pca", shown), lambda: charts.pca_chart(
            frame, colors, explained)), width="stretch")
        if len(frame) < seg.labels.size:
            st.caption(f"A fixed sample of {len(frame):,} customers is drawn.")

if tab := opened("Any variable"):
    with tab:
        numeric = [n for n in fm.frame.columns
                   if n in fm.variables and fm.frame[n].dtype.kind in "biuf"]
        default = next((v for v in (profiles.first("total_spend"), *worth) if v in numeric),
                       None)
        variable = st.selectbox("Variable", numeric, key="w.explore.variable",
                                index=numeric.index(default) if default else 0,
                                format_func=label)
        st.plotly_chart(cache.figure(("distribution", shown, variable), lambda: (
            charts.distribution_chart(explore.customer_values(fm, seg, names, variable),
                                      colors, label(variable)))), width="stretch")
