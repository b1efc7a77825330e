"""AppTest for the Plan page: every figure equals the engine's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.plan import abtest, bandit, campaign_results, signup, value
from tests.helpers import ROOT
from tests.helpers.pages import PLAN, open_tab
from ui.flow import md

VALUE, TEST, RESULTS, BANDIT, SIGNUP = ("Value per segment", "A/B test per segment",
                                        "Campaign results", "Bandit simulation",
                                        "Segments for new customers")


def plan_page(tab: str = VALUE) -> AppTest:
    """The Plan page with one of its tabs open (only the open tab is computed)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(PLAN).run()
    assert not at.exception, [e.message for e in at.exception]
    return tab_of(at, tab)


def tab_of(at: AppTest, tab: str) -> AppTest:
    open_tab(at, tab, PLAN)
    assert not at.exception, [e.message for e in at.exception]
    return at


def with_signup_model(at: AppTest) -> AppTest:
    """The Plan page after "Build the sign-up model" was clicked."""
    tab_of(at, SIGNUP)
    at.button(key="w.plan.signup.build").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture(scope="module")
def names(sample_result):
    return {p.segment: p.name for p in sample_result.personas}


@pytest.fixture(scope="module")
def arms(sample_result, names):
    seg = sample_result.segmentation
    out = abtest.assign_arms(seg.customer_ids.astype(str), seg.labels,
                             random_state=sample_result.config.random_state)
    return out.assign(persona=out["segment"].map(names))


def test_value_plan_bandit_and_signup_equal_the_engine(sample_result, names):
    at = plan_page()
    shown = frame_with(at, "clv")
    expected = value.segment_value(sample_result, names)
    np.testing.assert_allclose(shown["clv"], expected["clv"])
    assert shown["persona"].tolist() == expected["persona"].tolist()

    plan = frame_with(tab_of(at, TEST), "needed_per_arm")
    rates = value.response_rates(sample_result, names).set_index("segment")["rate"]
    want = abtest.plan_tests({s: int(n) for s, n in enumerate(sample_result.segmentation.sizes)},
                             {s: float(rates[s]) for s in rates.index})
    assert plan["needed_per_arm"].tolist() == want["needed_per_arm"].tolist()

    sim = bandit.simulate({"A": 0.10, "B": 0.12}, n_visitors=10_000,
                          random_state=sample_result.config.random_state)
    assert any(i.value == sim.summary().verdict for i in tab_of(at, BANDIT).info)

    with_signup_model(at)
    model = signup.train(sample_result, signup.signup_candidates(sample_result),
                         random_state=sample_result.config.random_state)
    assert any(m.value == model.verdict for m in [*at.success, *at.warning])


def test_campaign_results_are_analysed_per_segment(sample_result, arms):
    rng = np.random.default_rng(0)
    rate = np.where(arms["arm"] == "treatment", 0.2, 0.1)
    outcome = pd.DataFrame({"customer_id": arms["customer_id"], "arm": arms["arm"],
                            "clicked": (rng.random(len(arms)) < rate).astype(int),
                            "converted": (rng.random(len(arms)) < rate / 2).astype(int)})
    data = outcome.to_csv(index=False).encode()
    at = plan_page(RESULTS)
    at.file_uploader(key="w.plan.results").upload("results.csv", data).run()
    assert not at.exception
    expected = campaign_results.analyse(campaign_results.read_results(data), arms)
    assert any(i.value == md(expected.verdict) for i in at.info)
    assert "lifted" in expected.verdict


def test_a_bad_results_file_shows_one_error():
    at = plan_page(RESULTS)
    at.file_uploader(key="w.plan.results").upload("results.csv", b"id,x\n1,2\n").run()
    assert not at.exception
    assert len(at.error) == 1


def test_new_customers_are_given_a_segment(sample_result, sample_path):
    fresh = pd.read_csv(sample_path, sep="\t", dtype=str).head(40)
    data = fresh.to_csv(sep="\t", index=False).encode()
    at = with_signup_model(plan_page())
    at.file_uploader(key="w.plan.newcomers").upload("new.tsv", data).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = frame_with(at, "probability")
    model = signup.train(sample_result, signup.signup_candidates(sample_result),
                         random_state=sample_result.config.random_state)
    expected = signup.predict_file(data, model)
    assert shown["customer_id"].tolist() == expected["customer_id"].tolist()
    assert shown["segment"].tolist() == expected["segment"].tolist()


def test_per_segment_assumptions_change_that_segment_only(sample_result, names):
    at = plan_page()
    at.session_state["w.plan.0"] = {"edited_rows": {0: {"retention": 0.5},
                                                    1: {"baseline": 0.3}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["plan.overrides"] == {0: {"retention": 0.5}, 1: {"baseline": 0.3}}
    shown = frame_with(at, "clv")
    defaults = {"margin_rate": 0.3, "retention": 0.8, "discount_rate": 0.1,
                "budget_fraction": 0.2}
    per_segment = {s: dict(defaults) for s in names}
    per_segment[0]["retention"] = 0.5
    expected = value.segment_value(sample_result, names, per_segment=per_segment)
    np.testing.assert_allclose(shown["clv"], expected["clv"])
    plan = frame_with(tab_of(at, TEST), "needed_per_arm")  # the edits reach the closed tab
    rates = value.response_rates(sample_result, names).set_index("segment")["rate"]
    baselines = {s: float(rates[s]) for s in rates.index} | {1: 0.3}
    sizes = {s: int(n) for s, n in enumerate(sample_result.segmentation.sizes)}
    expected_plan = abtest.plan_tests(sizes, baselines)  # the page's defaults: +15%, Holm
    assert plan["baseline"].tolist() == pytest.approx(expected_plan["baseline"].tolist())
    assert plan["needed_per_arm"].tolist() == expected_plan["needed_per_arm"].tolist()


def test_results_columns_can_be_mapped_and_the_forest_plot_shows_each_segment(arms, names):
    rng = np.random.default_rng(1)
    rate = np.where(arms["arm"] == "treatment", 0.2, 0.1)
    outcome = pd.DataFrame({"client": arms["customer_id"],
                            "group": arms["arm"].map({"control": "A", "treatment": "B"}),
                            "click": (rng.random(len(arms)) < rate).astype(int),
                            "sale": (rng.random(len(arms)) < rate / 2).astype(int)})
    data = outcome.to_csv(index=False).encode()
    at = plan_page(RESULTS)
    at.file_uploader(key="w.plan.results").upload("results.csv", data).run()
    for field, column in (("customer_id", "client"), ("arm", "group")):
        at.selectbox(key=f"w.plan.map.{field}").set_value(column)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # every 0/1 column is an outcome to choose from, under its own name
    assert at.selectbox(key="w.plan.results_outcome").options == ["click", "sale"]
    mapping = {"customer_id": "client", "arm": "group"}
    read = campaign_results.read_results(data, columns=mapping)
    expected = campaign_results.analyse(read, arms, outcome="click")
    assert any(i.value == md(expected.verdict) for i in at.info)
    forest = [c for c in at.get("plotly_chart") if "Lift per segment" in c.proto.spec]
    assert len(forest) == 1
    at.selectbox(key="w.plan.results_outcome").set_value("sale").run()
    assert not at.exception
    assert any(i.value == md(campaign_results.analyse(read, arms, outcome="sale").verdict)
               for i in at.info)


def test_a_chosen_split_reaches_the_plan_and_the_arms(sample_result):
    at = plan_page(TEST)
    at.number_input(key="w.plan.split").set_value(0.3).run()
    assert not at.exception
    plan = frame_with(at, "available_per_arm")
    sizes = sample_result.segmentation.sizes
    assert plan["available_per_arm"].tolist() == [int(np.floor(n * 0.3)) for n in sizes]


def test_the_plan_sizes_each_arm_for_the_chosen_split(sample_result, names):
    at = plan_page(TEST)
    at.number_input(key="w.plan.split").set_value(0.2).run()
    assert not at.exception, [e.message for e in at.exception]
    plan = frame_with(at, "needed_treatment")
    rates = value.response_rates(sample_result, names).set_index("segment")["rate"]
    sizes = {s: int(n) for s, n in enumerate(sample_result.segmentation.sizes)}
    expected = abtest.plan_tests(sizes, {s: float(rates[s]) for s in rates.index}, split=0.2)
    for column in ("needed_treatment", "needed_control", "available_treatment",
                   "available_control", "big_enough"):
        assert plan[column].tolist() == expected[column].tolist()
    # With one in five treated, the control arm needs four times the treated arm.
    ratio = plan["needed_control"] / plan["needed_treatment"]
    assert ratio.between(3.99, 4.01).all()
    np.testing.assert_allclose(plan["power"], expected["power"])


def test_value_assumptions_are_editable_and_change_the_clv(sample_result, names):
    at = plan_page()
    before = frame_with(at, "clv")
    assert before["window_years"].eq(2.0).all()  # the Kaggle-style sample: two years of spend
    at.number_input(key="w.plan.margin").set_value(0.6).run()
    at.number_input(key="w.plan.discount").set_value(0.0).run()
    at.number_input(key="w.plan.window.total_spend").set_value(1.0).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = frame_with(at, "clv")
    expected = value.segment_value(sample_result, names, margin_rate=0.6, discount_rate=0.0,
                                   window_years=1.0)
    np.testing.assert_allclose(shown["clv"], expected["clv"])
    np.testing.assert_allclose(shown["budget_cap"], expected["budget_cap"])
    # Twice the margin, no discounting and a one-year window: 2 * 2 * (1.1/0.3) / (1/0.2) more.
    np.testing.assert_allclose(shown["clv"] / before["clv"], 4 * 5 / (1.1 / 0.3))
    assert shown["margin_rate"].eq(0.6).all() and shown["discount_rate"].eq(0.0).all()


def test_the_saved_bundle_keeps_its_signup_model_and_predicts_like_the_page(sample_result,
                                                                            sample_path):
    from segmentation.export.bundle import load_bundle
    from tests.helpers import capture_downloads

    mp, captured = capture_downloads()
    try:
        at = with_signup_model(plan_page())
        (button,) = [b for b in at.get("download_button")
                     if b.proto.label.startswith("Save the segmentation with this sign-up")]
        data = captured[button.proto.deferred_file_id]()
    finally:
        mp.undo()
    bundle = load_bundle(data)
    assert bundle.signup is not None
    model = signup.train(sample_result, signup.signup_candidates(sample_result),
                         random_state=sample_result.config.random_state)
    assert bundle.signup.features == model.features
    fresh = pd.read_csv(sample_path, sep="\t", dtype=str).head(40)
    new = fresh.to_csv(sep="\t", index=False).encode()
    got, expected = signup.predict_file(new, bundle), signup.predict_file(new, model)
    assert got["segment"].tolist() == expected["segment"].tolist()
    np.testing.assert_array_equal(got["probability"], expected["probability"])


def test_the_signup_model_is_fitted_only_when_asked_and_then_kept(sample_result):
    at = plan_page(SIGNUP)
    model = signup.train(sample_result, signup.signup_candidates(sample_result),
                         random_state=sample_result.config.random_state)
    verdicts = [m.value for m in [*at.success, *at.warning]]
    assert model.verdict not in verdicts
    assert not [b for b in at.get("download_button")
                if b.proto.label.startswith("Save the segmentation with this sign-up")]
    assert not [u for u in at.get("file_uploader") if u.proto.label.startswith("Score a file")]
    with_signup_model(at)
    assert model.verdict in [m.value for m in [*at.success, *at.warning]]
    assert not [b for b in at.button if b.key == "w.plan.signup.build"]
    # Asked once, it follows the variables chosen without asking again.
    chosen = signup.signup_candidates(sample_result)[:2]
    at.multiselect(key="w.plan.signup").set_value(chosen).run()
    fewer = signup.train(sample_result, chosen, random_state=sample_result.config.random_state)
    assert fewer.verdict in [m.value for m in [*at.success, *at.warning]]


def test_inputs_outlive_their_closed_tab_and_reach_the_others(sample_result, names):
    """Only the open tab is computed: what one tab needs from another is read from that
    tab's inputs, which keep their values while it is closed."""
    at = plan_page()
    at.number_input(key="w.plan.margin").set_value(0.6).run()
    tab_of(at, TEST)
    assert "w.plan.margin" not in [n.key for n in at.number_input]  # the value tab is closed
    assert not [d for d in at.dataframe if "clv" in d.value.columns]
    at.number_input(key="w.plan.split").set_value(0.3).run()
    at.selectbox(key="w.plan.correction").set_value("bh").run()
    tab_of(at, BANDIT)
    at.number_input(key="w.plan.visitors").set_value(20_000).run()
    tab_of(at, VALUE)
    assert at.number_input(key="w.plan.margin").value == 0.6
    shown = frame_with(at, "clv")
    expected = value.segment_value(sample_result, names, margin_rate=0.6)
    np.testing.assert_allclose(shown["clv"], expected["clv"])
    tab_of(at, TEST)
    assert at.number_input(key="w.plan.split").value == 0.3
    assert at.selectbox(key="w.plan.correction").value == "bh"
    plan = frame_with(at, "available_per_arm")
    assert plan["available_per_arm"].tolist() == [
        int(np.floor(n * 0.3)) for n in sample_result.segmentation.sizes]
    tab_of(at, BANDIT)
    assert at.number_input(key="w.plan.visitors").value == 20_000
    # The campaign's analysis uses the split and the correction chosen on the test's tab.
    drawn = abtest.assign_arms(sample_result.segmentation.customer_ids.astype(str),
                               sample_result.segmentation.labels, split=0.3,
                               random_state=sample_result.config.random_state)
    rng = np.random.default_rng(2)
    rate = np.where(drawn["arm"] == "treatment", 0.2, 0.1)
    data = pd.DataFrame({"customer_id": drawn["customer_id"], "arm": drawn["arm"],
                         "clicked": (rng.random(len(drawn)) < rate).astype(int)}
                        ).to_csv(index=False).encode()
    tab_of(at, RESULTS)
    at.file_uploader(key="w.plan.results").upload("results.csv", data).run()
    assert not at.exception, [e.message for e in at.exception]
    expected = campaign_results.analyse(campaign_results.read_results(data),
                                        drawn.assign(persona=drawn["segment"].map(names)),
                                        correction="bh")
    assert any(i.value == md(expected.verdict) for i in at.info)
    shown = frame_with(at, "p_adjusted")
    np.testing.assert_allclose(shown["p_adjusted"], expected.per_segment["p_adjusted"])
    holm = campaign_results.analyse(campaign_results.read_results(data),
                                    drawn.assign(persona=drawn["segment"].map(names)))
    assert not np.allclose(holm.per_segment["p_adjusted"], expected.per_segment["p_adjusted"])
