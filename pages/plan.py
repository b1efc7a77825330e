"""Plan: what each segment is worth, a test that proves segmentation pays, and new customers."""

import streamlit as st

from ui import flow
from ui import plan_sections as sections

st.title("Plan")
st.caption("From segments to decisions: value per segment, an A/B test per segment with "
           "randomised arms, the analysis of its results, and segments for new sign-ups.")
result = flow.require_result()
names = flow.names(result)

st.subheader("Value per segment")
money, window, defaults = sections.value_inputs(result)
rates = sections.outcome_rates(result, names)
assumptions = sections.assumptions(names, money, defaults, rates)
sections.segment_value(result, names, assumptions, money, window)
sections.lifetime(result)
sections.response_rates(result, rates)

st.subheader("A/B test per segment")
correction, split = sections.ab_test_plan(result, names, assumptions)
arms = sections.arms(result, names, split)

st.subheader("Campaign results")
sections.campaign(names, arms, correction)

st.subheader("Bandit simulation")
sections.bandit_simulation(result)

st.subheader("Segments for new customers")
model = sections.signup_model(result)
if model is not None:
    sections.newcomers(model)
