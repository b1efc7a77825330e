"""Plan: what each segment is worth, a test that proves segmentation pays, and new customers."""

import streamlit as st

from ui import flow
from ui import plan_sections as sections

st.title("Plan")
st.caption("From segments to decisions: value per segment, an A/B test per segment with "
           "randomised arms, the analysis of its results, and segments for new sign-ups.")
result = flow.require_result()
names = flow.names(result)
# One tab per step; only the open one is computed and drawn. What a step needs from another
# (the assumptions, the test's split) is read from that step's inputs, kept while closed.
value_tab, test_tab, results_tab, bandit_tab, signup_tab = st.tabs(
    ["Value per segment", "A/B test per segment", "Campaign results", "Bandit simulation",
     "Segments for new customers"], key="w.plan.tab", on_change="rerun")

if value_tab.open:
    with value_tab:
        money, window, defaults = sections.value_inputs(result)
        sections.outcome_input(result)
        rates = sections.outcome_rates(result, names)
        assumptions = sections.assumptions(names, money, defaults, rates)
        sections.segment_value(result, names, assumptions, money, window)
        sections.lifetime(result)
        sections.response_rates(result, rates)

if test_tab.open:
    with test_tab:
        money, window, defaults = sections.value_settings(result)
        table = sections.assumption_table(names, money, defaults,
                                          sections.outcome_rates(result, names))
        sections.ab_test_plan(result, names, table)
        sections.arms(result, names, sections.test_settings().split)

if results_tab.open:
    with results_tab:
        chosen = sections.test_settings()
        sections.campaign(names, sections.arms_of(result, names, chosen.split),
                          chosen.correction)

if bandit_tab.open:
    with bandit_tab:
        sections.bandit_simulation(result)

if signup_tab.open:
    with signup_tab:
        model = sections.signup_model(result)
        if model is not None:
            sections.newcomers(model)
