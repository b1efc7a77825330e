"""Plan: what each segment is worth, a test that proves segmentation pays, and new customers."""

import pandas as pd
import streamlit as st

import charts
from segmentation import SegmentationError
from segmentation.data.small_csv import read_text_table
from segmentation.export import strategy
from segmentation.export.bundle import bundle_bytes
from segmentation.export.outputs import csv_text
from segmentation.plan import abtest, bandit, campaign_results, signup, value
from ui import cache, flow, state

st.title("Plan")
st.caption("From segments to decisions: value per segment, an A/B test per segment with "
           "randomised arms, the analysis of its results, and segments for new sign-ups.")
result = flow.require_result()
names = flow.names(result)

profiles, frame = result.profiles, result.features.frame


def label(column: str) -> str:
    var = result.features.variables.get(column)
    return var.label if var is not None else column


st.subheader("Value per segment")
moneys = value.money_columns(result)
if moneys:
    c0, c1, c2, c3, c4, c5 = st.columns(6)
    money = c0.selectbox("Value from", moneys, key="w.plan.money", format_func=label,
                         help="The money column a segment's revenue and lifetime value "
                              "are read from.")
    window = c1.number_input("Spend covers (years)", 0.05, 50.0,
                             value.spend_window(result, money), 0.5,
                             key=f"w.plan.window.{money}",
                             help="The years the money column adds up, as the file documents "
                                  "it (the Kaggle export's Mnt columns: the last 2 years).")
    margin = c2.number_input("Margin (share of revenue)", 0.01, 1.0, 0.3, 0.01,
                             key="w.plan.margin")
    retention = c3.number_input("Yearly retention", 0.0, 0.99, 0.8, 0.05,
                                key="w.plan.retention")
    discount = c4.number_input("Yearly discount rate", 0.0, 1.0, 0.1, 0.01,
                               key="w.plan.discount")
    budget = c5.number_input("Budget cap (share of CLV)", 0.01, 1.0, 0.2, 0.01,
                             key="w.plan.budget")
    st.caption("CLV = yearly margin × (1 + discount) / (1 + discount − retention): this "
               "year's margin plus each later year's, kept with the retention and discounted; "
               "the budget cap is a share of that margin, not of revenue.")
else:
    money, window = None, None
    margin, retention, discount, budget = 0.3, 0.8, 0.1, 0.2
    st.info("No value or lifetime value per segment: the file has no money column (spend, "
            "revenue, balance or fee); mark one as Money on the Data page to see it.")

outcomes = value.outcome_columns(result)
if outcomes:
    outcome = st.selectbox("Response from", outcomes, key="w.plan.outcome", format_func=label,
                           help="The yes/no column whose rate per segment is the A/B test's "
                                "baseline.")
    rates = value.response_rates(result, names, column=outcome)
else:
    rates = None
    st.caption("The file has no outcome column (response, churn, conversion): type each "
               "segment's expected baseline rate in the table below.")
observed = (rates.set_index("segment")["rate"] if rates is not None and len(rates)
            else pd.Series(dtype=float))
default_rate = (float(observed.mean()) if len(observed) and 0 < observed.mean() < 1
                else 0.1)
overrides = st.session_state[state.PLAN_OVERRIDES]
value_fields = ("margin_rate", "retention", "discount_rate", "budget_fraction") if money else ()
defaults = {"margin_rate": margin, "retention": retention, "discount_rate": discount,
            "budget_fraction": budget}
assumptions = pd.DataFrame([{
    "segment": s, "persona": names[s],
    **{f: overrides.get(s, {}).get(f, defaults[f]) for f in value_fields},
    "baseline": overrides.get(s, {}).get(
        "baseline", float(observed[s]) if s in observed and 0 < observed[s] < 1
        else default_rate),
} for s in sorted(names)])


def _apply_overrides():
    # Rows arrive by position; the table lists segments in order.
    for row, change in state.pop_edits("plan").items():
        segment = int(assumptions.loc[row, "segment"])
        st.session_state[state.PLAN_OVERRIDES].setdefault(segment, {}).update(
            {k: float(v) for k, v in change.items() if v is not None})


if state.has_edits("plan"):  # edits set without the callback
    _apply_overrides()
    st.rerun()
st.caption("Per segment, edit the assumptions below (defaults from the fields above and, "
           "for the test baseline, the segment's observed response rate).")
st.data_editor(assumptions, key=state.editor_key("plan"), on_change=_apply_overrides,
               hide_index=True, width="stretch", disabled=["segment", "persona"],
               column_config={"margin_rate": "Margin", "retention": "Yearly retention",
                              "discount_rate": "Discount rate",
                              "budget_fraction": "Budget share of CLV",
                              "baseline": "Test baseline rate"})
if money:
    per_segment = {int(r.segment): {f: getattr(r, f) for f in value_fields}
                   for r in assumptions.itertuples()}
    try:
        worth = value.segment_value(result, names, per_segment=per_segment, money=money,
                                    window_years=window)
    except SegmentationError as exc:
        flow.stop_with(str(exc))
    st.dataframe(worth, hide_index=True, width="stretch")
    st.plotly_chart(charts.value_chart(worth, charts.persona_colors(names)), width="stretch")
if result.dataset.log is not None and state.lifetime_estimated(result.config):
    st.markdown("**Expected value per segment in the next 12 months** (BG/NBD and Gamma-Gamma "
                "on the order history, as estimated on the Personas page)")
    lifetime = cache.lifetime(*state.data(), result.config)
    st.dataframe(strategy.lifetime_segments(result, lifetime, flow.personas(result)).drop(
        columns="segment"), hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(h, format=f) if f != "text" else h
                       for c, (h, f) in charts.LIFETIME_HEADERS.items()})
elif result.dataset.log is not None:
    st.caption("Each segment's expected orders and value over the next 12 months appear here "
               "once you click \"Estimate customer lifetime (BG/NBD)\" on the Personas page.")
if rates is not None and len(rates):
    st.markdown(f"**{flow.md(label(rates.attrs.get('column') or outcome))} per segment** "
                "(95% Wilson intervals)")
    st.dataframe(rates.dropna(), hide_index=True, width="stretch")

st.subheader("A/B test per segment")
c1, c2, c3, c4, c5 = st.columns(5)
lift = c1.number_input("Minimum detectable relative lift", 0.01, 2.0, 0.15, 0.01,
                       key="w.plan.lift")
split = c5.number_input("Share in the treatment arm", 0.1, 0.9, 0.5, 0.05, key="w.plan.split")
alpha = c2.number_input("Significance level", 0.001, 0.2, 0.05, 0.005, key="w.plan.alpha")
power = c3.number_input("Power", 0.5, 0.99, 0.8, 0.05, key="w.plan.power")
correction = c4.selectbox("Correction across segments", ["holm", "bh", "none"],
                          key="w.plan.correction",
                          format_func={"holm": "Holm", "bh": "Benjamini–Hochberg",
                                       "none": "No correction"}.get)
sizes = {s: int(n) for s, n in enumerate(result.segmentation.sizes)}
baselines = dict(zip(assumptions["segment"], assumptions["baseline"], strict=True))
try:
    planned = abtest.plan_tests(sizes, baselines, relative_lift=lift, alpha=alpha, power=power,
                                correction=correction, split=split)
except SegmentationError as exc:
    flow.stop_with(str(exc))
st.dataframe(planned.assign(persona=planned["segment"].map(names)), hide_index=True,
             width="stretch")
st.caption("Rule of thumb: at least 100 customers per segment per arm; the exact figure is "
           "the two-proportion power calculation beside it.")

arms = abtest.assign_arms(result.segmentation.customer_ids.astype(str),
                          result.segmentation.labels, split=split,
                          random_state=result.config.random_state)
arms = arms.assign(persona=arms["segment"].map(names))
st.download_button("Download the randomised arms (CSV)",
                   data=csv_text(arms[["customer_id", "persona", "arm"]]).encode("utf-8"),
                   file_name="ab_arms.csv", mime="text/csv", icon=":material/download:")
balance_vars = [v for v in (profiles.first("income"), profiles.first("total_spend"),
                            profiles.first("recency")) if v]
if not balance_vars:  # no marketing columns: the first clustering variables stand in
    balance_vars = list(result.features.features[:3])
st.markdown("**Are the arms comparable?** Standardized mean difference per segment "
            "(under 0.1 well balanced, under 0.2 acceptable).")
st.dataframe(abtest.balance_table(arms, result.features.frame, columns=balance_vars),
             hide_index=True, width="stretch")

st.subheader("Campaign results")


def _keep_results():
    upload = st.session_state.get("w.plan.results")
    if upload is not None:
        state.keep_upload(state.PLAN_RESULTS, upload.getvalue(), upload.name)


st.file_uploader("Results file (customer id, arm, and one or more 0/1 or yes/no outcomes)",
                 type=["csv", "tsv"], key="w.plan.results", on_change=_keep_results)
kept = state.kept_upload(state.PLAN_RESULTS)
if kept is not None:
    try:
        header = list(read_text_table(kept[1], "a results CSV")[0].columns)
    except SegmentationError as exc:
        header = []
        st.error(flow.md(str(exc)))
    mapping = {}
    if header:
        cols = st.columns(2)
        for col, field in zip(cols, ("customer_id", "arm"), strict=True):
            guess = header.index(field) if field in header else min(
                len(header) - 1, ("customer_id", "arm").index(field))
            mapping[field] = col.selectbox(f"Column for {field}", header, index=guess,
                                           key=f"w.plan.map.{field}")
        try:
            outcome = campaign_results.read_results(kept[1], columns=mapping)
        except SegmentationError as exc:
            st.error(flow.md(str(exc)))
        else:
            measured = st.selectbox("Outcome", campaign_results.outcomes_of(outcome),
                                    key="w.plan.results_outcome")
            try:
                analysis = campaign_results.analyse(outcome, arms, outcome=measured,
                                           correction=correction)
            except SegmentationError as exc:
                st.error(flow.md(str(exc)))
            else:
                st.info(flow.md(analysis.verdict))
                st.plotly_chart(charts.forest_chart(analysis.per_segment,
                                                    charts.persona_colors(names),
                                                    analysis.cmh), width="stretch")
                st.dataframe(analysis.per_segment, hide_index=True, width="stretch")

st.subheader("Bandit simulation")
st.caption("A simulation with rates you state, not your data: how much traffic a "
           "Thompson-sampling bandit would spend on the worse message against a fixed split.")
c1, c2, c3 = st.columns(3)
rate_a = c1.number_input("True rate of message A", 0.001, 0.999, 0.10, 0.01, key="w.plan.ra")
rate_b = c2.number_input("True rate of message B", 0.001, 0.999, 0.12, 0.01, key="w.plan.rb")
visitors = c3.number_input("Visitors", 100, 200_000, 10_000, 1000, key="w.plan.visitors")
sim = bandit.simulate({"A": rate_a, "B": rate_b}, n_visitors=int(visitors),
                      random_state=result.config.random_state)
st.info(flow.md(sim.summary().verdict))
st.plotly_chart(charts.bandit_chart(sim.traffic), width="stretch")

st.subheader("Segments for new customers")
st.caption("Spend and purchases are what the segments are made of and are unknown at "
           "sign-up, so they are left out by default.")
candidates = signup.signup_candidates(result)
chosen = st.multiselect("Known at sign-up", candidates, default=candidates,
                        key="w.plan.signup",
                        format_func=lambda n: result.features.variables[n].label
                        if n in result.features.variables else n)
if not chosen:
    st.stop()
fp, data, name = state.data()
try:
    model = cache.signup_model(fp, data, name, result.config, tuple(chosen))
except SegmentationError as exc:
    flow.stop_with(str(exc))
(st.success if model.predicts else st.warning)(model.verdict)
st.code("\n".join(model.rules), language=None)
st.dataframe(model.confusion, width="stretch")
st.caption("Cross-validated confusion matrix of the better model (rows: actual segment).")

flow_personas = flow.personas(result)
st.download_button("Save the segmentation with this sign-up model (bundle.json)",
                   data=lambda: bundle_bytes(result, flow_personas, signup=model),
                   file_name="bundle.json", mime="application/json",
                   icon=":material/download:")


def _keep_newcomers():
    upload = st.session_state.get("w.plan.newcomers")
    if upload is not None:
        state.keep_upload(state.PLAN_NEWCOMERS, upload.getvalue(), upload.name)


st.file_uploader("Score a file of new customers", type=["csv", "tsv", "txt", "xlsx", "parquet"],
                 key="w.plan.newcomers", on_change=_keep_newcomers)
newcomers = state.kept_upload(state.PLAN_NEWCOMERS)
if newcomers is not None:
    try:
        predicted = signup.predict_file(newcomers[1], model)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
    else:
        st.dataframe(predicted, hide_index=True, width="stretch")
        st.download_button("Download the predicted segments (CSV)",
                           data=csv_text(predicted).encode("utf-8"),
                           file_name="new_customers_segments.csv", mime="text/csv",
                           icon=":material/download:")
