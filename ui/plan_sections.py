"""The Plan page's sections: each draws one part of the page from the engine's figures.

The page shows one section per tab and computes only the open one, so what a section needs
from another (the value assumptions, the test's split and correction, the arms) is read
from that section's inputs, which are kept while their tab is closed
(:func:`ui.state.kept_input`), and computed without drawing anything.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import streamlit as st

import charts
from segmentation import SegmentationError, SegmentationResult
from segmentation.export.bundle import bundle_bytes
from segmentation.export.outputs import csv_text
from segmentation.plan import abtest, campaign_results, signup, value
from segmentation.plan.signup import SignupModel

from . import cache, flow, state

VALUE_FIELDS = ("margin_rate", "retention", "discount_rate", "budget_fraction")
# What the value fields hold when the data has no money column to value.
VALUE_DEFAULTS = {"margin_rate": 0.3, "retention": 0.8, "discount_rate": 0.1,
                  "budget_fraction": 0.2}
CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": "No correction"}
VALUE_KEYS = {"margin_rate": "w.plan.margin", "retention": "w.plan.retention",
              "discount_rate": "w.plan.discount", "budget_fraction": "w.plan.budget"}
# The A/B test's settings and their defaults: +15% detectable, 5%, 80% power, Holm, 50/50.
TEST_DEFAULTS = {"w.plan.lift": 0.15, "w.plan.alpha": 0.05, "w.plan.power": 0.8,
                 "w.plan.correction": "holm", "w.plan.split": 0.5}
ASSUMPTION_HEADERS = {"margin_rate": "Margin", "retention": "Yearly retention",
                      "discount_rate": "Discount rate", "budget_fraction": "Budget share of CLV",
                      "baseline": "Test baseline rate"}


def label(result: SegmentationResult, column: str) -> str:
    var = result.features.variables.get(column)
    return var.label if var is not None else column


def value_settings(result: SegmentationResult) -> tuple[str | None, float | None, dict]:
    """The money column, the years it covers, and the value assumptions' defaults, as the
    value inputs hold them (drawn or not)."""
    moneys = value.money_columns(result)
    if not moneys:
        return None, None, dict(VALUE_DEFAULTS)
    money = state.input_value("w.plan.money", moneys[0], moneys)
    window = float(state.input_value(f"w.plan.window.{money}",
                                     value.spend_window(result, money)))
    defaults = {f: float(state.input_value(key, VALUE_DEFAULTS[f]))
                for f, key in VALUE_KEYS.items()}
    return money, window, defaults


def value_inputs(result: SegmentationResult) -> tuple[str | None, float | None, dict]:
    """Draws the value inputs; returns :func:`value_settings`."""
    moneys = value.money_columns(result)
    if not moneys:
        st.info("No value or lifetime value per segment: the file has no money column (spend, "
                "revenue, balance or fee); mark one as Money on the Data page to see it.")
        return value_settings(result)
    c0, c1, c2, c3, c4, c5 = st.columns(6)
    money = c0.selectbox("Value from", moneys, format_func=lambda c: label(result, c),
                         help="The money column a segment's revenue and lifetime value "
                              "are read from.",
                         **state.kept_input("w.plan.money", moneys[0], moneys))
    c1.number_input("Spend covers (years)", min_value=0.05, max_value=50.0, step=0.5,
                    help="The years the money column adds up, as the file documents it "
                         "(the Kaggle export's Mnt columns: the last 2 years).",
                    **state.kept_input(f"w.plan.window.{money}",
                                       float(value.spend_window(result, money))))
    for col, (field, key), text, top, step in zip(
            (c2, c3, c4, c5), VALUE_KEYS.items(),
            ("Margin (share of revenue)", "Yearly retention", "Yearly discount rate",
             "Budget cap (share of CLV)"), (1.0, 0.99, 1.0, 1.0), (0.01, 0.05, 0.01, 0.01),
            strict=True):
        col.number_input(text, min_value=0.0 if field in ("retention", "discount_rate")
                         else 0.01, max_value=top, step=step,
                         **state.kept_input(key, VALUE_DEFAULTS[field]))
    st.caption("CLV = yearly margin × (1 + discount) / (1 + discount − retention): this "
               "year's margin plus each later year's, kept with the retention and discounted; "
               "the budget cap is a share of that margin, not of revenue.")
    return value_settings(result)


def outcome_column(result: SegmentationResult) -> str | None:
    """The yes/no column whose rate is the test's baseline, as chosen; None without one."""
    outcomes = value.outcome_columns(result)
    return state.input_value("w.plan.outcome", outcomes[0], outcomes) if outcomes else None


def outcome_rates(result: SegmentationResult, names: dict[int, str]) -> pd.DataFrame | None:
    """The response rate per segment of the outcome chosen, or None without an outcome."""
    outcome = outcome_column(result)
    if outcome is None:
        return None
    rates = value.response_rates(result, names, column=outcome)
    rates.attrs["column"] = rates.attrs.get("column") or outcome
    return rates


def outcome_input(result: SegmentationResult) -> None:
    """Draws the choice of outcome, or says there is none."""
    outcomes = value.outcome_columns(result)
    if not outcomes:
        st.caption("The file has no outcome column (response, churn, conversion): type each "
                   "segment's expected baseline rate in the table below.")
        return
    st.selectbox("Response from", outcomes, format_func=lambda c: label(result, c),
                 help="The yes/no column whose rate per segment is the A/B test's baseline.",
                 **state.kept_input("w.plan.outcome", outcomes[0], outcomes))


def _apply_overrides(segments: list[int]) -> None:
    # Rows arrive by position; the table lists segments in order.
    for row, change in state.pop_edits("plan").items():
        st.session_state[state.PLAN_OVERRIDES].setdefault(segments[row], {}).update(
            {k: float(v) for k, v in change.items() if v is not None})


def assumption_table(names: dict[int, str], money: str | None, defaults: dict,
                     rates: pd.DataFrame | None) -> pd.DataFrame:
    """The per-segment assumptions: the defaults, the observed baselines, the user's edits."""
    segments = sorted(names)
    overrides = st.session_state[state.PLAN_OVERRIDES]
    baselines = abtest.default_baselines(segments, rates)
    fields = VALUE_FIELDS if money else ()
    return pd.DataFrame([{
        "segment": s, "persona": names[s],
        **{f: overrides.get(s, {}).get(f, defaults[f]) for f in fields},
        "baseline": overrides.get(s, {}).get("baseline", baselines[s]),
    } for s in segments])


def assumptions(names: dict[int, str], money: str | None, defaults: dict,
                rates: pd.DataFrame | None) -> pd.DataFrame:
    """Draws the editable table of per-segment assumptions; returns it, edits applied."""
    segments = sorted(names)
    if state.has_edits("plan"):  # edits set without the callback
        _apply_overrides(segments)
        st.rerun()
    table = assumption_table(names, money, defaults, rates)
    st.caption("Per segment, edit the assumptions below (defaults from the fields above and, "
               "for the test baseline, the segment's observed response rate).")
    st.data_editor(table, key=state.editor_key("plan"), on_change=_apply_overrides,
                   args=(segments,), hide_index=True, width="stretch",
                   disabled=["segment", "persona"], column_config=ASSUMPTION_HEADERS)
    return table


def segment_value(result: SegmentationResult, names: dict[int, str], table: pd.DataFrame,
                  money: str | None, window: float | None) -> None:
    if not money:
        return
    per_segment = {int(r.segment): {f: getattr(r, f) for f in VALUE_FIELDS}
                   for r in table.itertuples()}
    try:
        worth = value.segment_value(result, names, per_segment=per_segment, money=money,
                                    window_years=window)
    except SegmentationError as exc:
        flow.stop_with(str(exc))
    st.dataframe(worth, hide_index=True, width="stretch")
    st.plotly_chart(charts.value_chart(worth, charts.persona_colors(names)), width="stretch")


def lifetime(result: SegmentationResult) -> None:
    if result.dataset.log is None:
        return
    if not state.lifetime_estimated(result.config):
        st.caption("Each segment's expected orders and value over the next 12 months appear "
                   "here once you click \"Estimate customer lifetime (BG/NBD)\" on the "
                   "Personas page.")
        return
    st.markdown("**Expected value per segment in the next 12 months** (BG/NBD and Gamma-Gamma "
                "on the order history, as estimated on the Personas page)")
    fitted = cache.lifetime(*state.data(), result.config)
    from segmentation.export import strategy  # its spreadsheet writers: only when used

    st.dataframe(strategy.lifetime_segments(result, fitted, flow.personas(result)).drop(
        columns="segment"), hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(h, format=f) if f != "text" else h
                       for c, (h, f) in charts.LIFETIME_HEADERS.items()})


def response_rates(result: SegmentationResult, rates: pd.DataFrame | None) -> None:
    if rates is None or not len(rates):
        return
    st.markdown(f"**{flow.md(label(result, rates.attrs['column']))} per segment** "
                "(95% Wilson intervals)")
    st.dataframe(rates.dropna(), hide_index=True, width="stretch")


class ABSettings(NamedTuple):
    lift: float
    alpha: float
    power: float
    correction: str
    split: float


def test_settings() -> ABSettings:
    """The A/B test's settings as its inputs hold them (drawn or not)."""
    kept = {key: state.input_value(key, default) for key, default in TEST_DEFAULTS.items()}
    return ABSettings(
        lift=float(kept["w.plan.lift"]), alpha=float(kept["w.plan.alpha"]),
        power=float(kept["w.plan.power"]),
        correction=state.input_value("w.plan.correction", TEST_DEFAULTS["w.plan.correction"],
                                     list(CORRECTION_NAMES)),
        split=float(kept["w.plan.split"]))


def ab_test_plan(result: SegmentationResult, names: dict[int, str],
                 table: pd.DataFrame) -> None:
    """Draws the A/B test's settings and the customers each segment needs."""
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.number_input("Minimum detectable relative lift", min_value=0.01, max_value=2.0,
                    step=0.01, **state.kept_input("w.plan.lift", TEST_DEFAULTS["w.plan.lift"]))
    c5.number_input("Share in the treatment arm", min_value=0.1, max_value=0.9, step=0.05,
                    **state.kept_input("w.plan.split", TEST_DEFAULTS["w.plan.split"]))
    c2.number_input("Significance level", min_value=0.001, max_value=0.2, step=0.005,
                    **state.kept_input("w.plan.alpha", TEST_DEFAULTS["w.plan.alpha"]))
    c3.number_input("Power", min_value=0.5, max_value=0.99, step=0.05,
                    **state.kept_input("w.plan.power", TEST_DEFAULTS["w.plan.power"]))
    c4.selectbox("Correction across segments", list(CORRECTION_NAMES),
                 format_func=CORRECTION_NAMES.get,
                 **state.kept_input("w.plan.correction", TEST_DEFAULTS["w.plan.correction"],
                                    list(CORRECTION_NAMES)))
    chosen = test_settings()
    sizes = {s: int(n) for s, n in enumerate(result.segmentation.sizes)}
    baselines = dict(zip(table["segment"], table["baseline"], strict=True))
    try:
        planned = abtest.plan_tests(sizes, baselines, relative_lift=chosen.lift,
                                    alpha=chosen.alpha, power=chosen.power,
                                    correction=chosen.correction, split=chosen.split)
    except SegmentationError as exc:
        flow.stop_with(str(exc))
    st.dataframe(planned.assign(persona=planned["segment"].map(names)), hide_index=True,
                 width="stretch")
    st.caption("Rule of thumb: at least 100 customers per segment per arm; the exact figure is "
               "the two-proportion power calculation beside it.")


def arms_of(result: SegmentationResult, names: dict[int, str], split: float) -> pd.DataFrame:
    """The randomised arms: every customer's arm, drawn per segment with the run's seed."""
    seg = result.segmentation
    drawn = abtest.assign_arms(seg.customer_ids.astype(str), seg.labels, split=split,
                               random_state=result.config.random_state)
    return drawn.assign(persona=drawn["segment"].map(names))


def arms(result: SegmentationResult, names: dict[int, str], split: float) -> None:
    """Draws the randomised arms, to download, and whether they are comparable."""
    drawn = arms_of(result, names, split)
    st.download_button("Download the randomised arms (CSV)",
                       data=csv_text(drawn[["customer_id", "persona", "arm"]]).encode("utf-8"),
                       file_name="ab_arms.csv", mime="text/csv", icon=":material/download:")
    st.markdown("**Are the arms comparable?** Standardized mean difference per segment "
                "(under 0.1 well balanced, under 0.2 acceptable).")
    st.dataframe(abtest.balance_table(drawn, result.features.frame,
                                      columns=abtest.balance_columns(result)),
                 hide_index=True, width="stretch")


def _keep(upload_key: str, state_key: str) -> None:
    upload = st.session_state.get(upload_key)
    if upload is not None:
        state.keep_upload(state_key, upload.getvalue(), upload.name)


def _results_columns(data: bytes) -> dict[str, str] | None:
    """The user's choice of id and arm columns, first guessed from their names."""
    try:
        header = campaign_results.results_header(data)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
        return None
    guessed = campaign_results.guess_columns(header)
    chosen = {}
    for col, field in zip(st.columns(2), campaign_results.REQUIRED, strict=True):
        chosen[field] = col.selectbox(
            f"Column for {field}", header, placeholder="Choose the column",
            **state.kept_input(f"w.plan.map.{field}", guessed.get(field), header))
    # A field not chosen keeps its own name, and reading says if there is no such column.
    return {f: c for f, c in chosen.items() if c is not None}


def campaign(names: dict[int, str], drawn: pd.DataFrame, correction: str) -> None:
    """The lift a campaign's results file shows, per segment and overall."""
    st.file_uploader("Results file (customer id, arm, and one or more 0/1 or yes/no outcomes)",
                     type=["csv", "tsv"], key="w.plan.results",
                     on_change=_keep, args=("w.plan.results", state.PLAN_RESULTS))
    kept = state.kept_upload(state.PLAN_RESULTS)
    mapping = _results_columns(kept[1]) if kept is not None else None
    if mapping is None:
        return
    try:
        outcome = campaign_results.read_results(kept[1], columns=mapping)
        outcomes = campaign_results.outcomes_of(outcome)
        measured = st.selectbox("Outcome", outcomes, **state.kept_input(
            "w.plan.results_outcome", outcomes[0] if outcomes else None, outcomes))
        analysis = campaign_results.analyse(outcome, drawn, outcome=measured,
                                            correction=correction)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
        return
    st.info(flow.md(analysis.verdict))
    st.plotly_chart(charts.forest_chart(analysis.per_segment, charts.persona_colors(names),
                                        analysis.cmh), width="stretch")
    st.dataframe(analysis.per_segment, hide_index=True, width="stretch")


def bandit_simulation(result: SegmentationResult) -> None:
    st.caption("A simulation with rates you state, not your data: how much traffic a "
               "Thompson-sampling bandit would spend on the worse message against a fixed "
               "split.")
    c1, c2, c3 = st.columns(3)
    rate_a = c1.number_input("True rate of message A", min_value=0.001, max_value=0.999,
                             step=0.01, **state.kept_input("w.plan.ra", 0.10))
    rate_b = c2.number_input("True rate of message B", min_value=0.001, max_value=0.999,
                             step=0.01, **state.kept_input("w.plan.rb", 0.12))
    visitors = c3.number_input("Visitors", min_value=100, max_value=200_000, step=1000,
                               **state.kept_input("w.plan.visitors", 10_000))
    sim = cache.bandit_simulation((("A", rate_a), ("B", rate_b)), int(visitors),
                                  result.config.random_state)
    st.info(flow.md(sim.summary().verdict))
    st.plotly_chart(charts.bandit_chart(sim.traffic), width="stretch")


def signup_model(result: SegmentationResult) -> SignupModel | None:
    """The sign-up model on the variables chosen, and the bundle that keeps it.

    None until the user asks for it: fitting cross-validates a tree and a logistic
    regression on every customer, most of this page's first visit.
    """
    st.caption("Spend and purchases are what the segments are made of and are unknown at "
               "sign-up, so they are left out by default.")
    candidates = signup.signup_candidates(result)
    chosen = st.multiselect("Known at sign-up", candidates,
                            format_func=lambda n: label(result, n),
                            **state.kept_input("w.plan.signup", list(candidates), candidates))
    if not chosen:
        st.stop()
    if not st.session_state[state.PLAN_SIGNUP]:
        st.button("Build the sign-up model", key="w.plan.signup.build",
                  icon=":material/model_training:",
                  on_click=lambda: st.session_state.update({state.PLAN_SIGNUP: True}))
        st.caption("It learns each segment from these variables alone, cross-validated on "
                   "every customer, so that new customers can be given a segment.")
        return None
    fp, data, name = state.data()
    try:
        model = cache.signup_model(fp, data, name, result.config, tuple(chosen))
    except SegmentationError as exc:
        flow.stop_with(str(exc))
    (st.success if model.predicts else st.warning)(model.verdict)
    st.code("\n".join(model.rules), language=None)
    st.dataframe(model.confusion, width="stretch")
    st.caption("Cross-validated confusion matrix of the better model (rows: actual segment).")
    personas = flow.personas(result)
    st.download_button("Save the segmentation with this sign-up model (bundle.json)",
                       data=lambda: bundle_bytes(result, personas, signup=model),
                       file_name="bundle.json", mime="application/json",
                       icon=":material/download:")
    return model


def newcomers(model: SignupModel) -> None:
    st.file_uploader("Score a file of new customers",
                     type=["csv", "tsv", "txt", "xlsx", "parquet"], key="w.plan.newcomers",
                     on_change=_keep, args=("w.plan.newcomers", state.PLAN_NEWCOMERS))
    kept = state.kept_upload(state.PLAN_NEWCOMERS)
    if kept is None:
        return
    try:
        predicted = signup.predict_file(kept[1], model)
    except SegmentationError as exc:
        st.error(flow.md(str(exc)))
        return
    st.dataframe(predicted, hide_index=True, width="stretch")
    st.download_button("Download the predicted segments (CSV)",
                       data=csv_text(predicted).encode("utf-8"),
                       file_name="new_customers_segments.csv", mime="text/csv",
                       icon=":material/download:")
