"""The Variables & K page's "What drives the segments" panel, driven with AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from segmentation import RunConfig, run
from segmentation.data.dataset import load_dataset
from segmentation.data.orders import read_customers
from segmentation.describe.drivers import segment_drivers, split_warning
from segmentation.prepare.behaviour import BEHAVIOUR_SCALING, behaviour_features, behaviour_prep
from segmentation.prepare.features import PrepConfig, variables_of
from segmentation.validate.ablation import ablate
from tests.app.test_app import (
    APP,
    DATA,
    PERSONAS,
    VARIABLES,
    assert_k_table,
    button,
    chart_text,
    errors,
    frame_with,
    go,
    ok,
    upload,
)
from tests.helpers import SAMPLE_PATH, to_tsv_bytes
from tests.helpers.drivers import drivers_customers
from ui.drivers_section import BEHAVIOUR_BUTTON
from ui.flow import md
from ui.state import STRATA

ABLATION_BUTTON = "Leave out each variable in turn"


@pytest.fixture(scope="module")
def sample():
    return run(SAMPLE_PATH)


@pytest.fixture
def page():
    return go(ok(AppTest.from_file(APP, default_timeout=120).run()), VARIABLES)


def drivers_chart(at: AppTest) -> str:
    found = [chart_text(c) for c in at.get("plotly_chart")
             if "What drives the segments" in chart_text(c)]
    assert len(found) == 1
    return found[0]


def test_the_income_split_is_warned_of_with_both_ways_forward(page, sample):
    warning = split_warning(sample.features, sample.segmentation.labels)
    assert warning is not None
    assert md(warning.message) in [w.value for w in page.warning]
    button(page, BEHAVIOUR_BUTTON)
    button(page, "Segments within Income bands")
    drivers = segment_drivers(sample.features, sample.segmentation.labels)
    text = drivers_chart(page)
    for label in drivers["label"].head(5):
        assert label in text


def test_segments_within_bands_sets_the_strata_choice(page):
    assert page.session_state[STRATA] is None  # no strata until asked for
    ok(button(page, "Segments within Income bands").click().run())
    assert page.session_state[STRATA] == "Income:3"


def test_behaviour_only_applies_the_preset_and_the_warning_goes(page):
    ok(button(page, BEHAVIOUR_BUTTON).click().run())
    dataset = load_dataset(read_customers(SAMPLE_PATH.read_bytes(), "auto", {}, None,
                                          name=SAMPLE_PATH.name))
    preset = behaviour_features(variables_of(dataset))
    assert page.session_state["vars.features"] == preset
    assert page.session_state["vars.scaling"] == BEHAVIOUR_SCALING
    assert not [w for w in page.warning if "largely" in w.value]
    assert not [b for b in page.button if b.label == BEHAVIOUR_BUTTON]  # already applied
    shown = [c.value for c in page.caption if c.value.startswith("Clustering on")]
    assert shown == [f"Clustering on {len(preset)} variables: " + ", ".join(
        variables_of(dataset)[f].label for f in preset) + "."]


def test_the_ablation_table_is_computed_on_demand(page, sample):
    assert not [d for d in page.dataframe if "Variable left out" in d.value.columns]
    ok(button(page, ABLATION_BUTTON).click().run())
    tables = [d.value for d in page.dataframe if "Variable left out" in d.value.columns]
    assert len(tables) == 1
    expected = ablate(sample.features, sample.segmentation)
    assert tables[0]["Variable left out"].tolist() == expected.table["label"].tolist()
    assert tables[0]["Agreement with all variables (ARI)"].tolist() == pytest.approx(
        expected.table["ari"].tolist())
    assert md(expected.suggestion) in [i.value for i in page.info]
    # Asked once, it stays for this segmentation.
    ok(page.run())
    assert [d for d in page.dataframe if "Variable left out" in d.value.columns]


def test_no_warning_when_income_is_random():
    at = go(ok(AppTest.from_file(APP, default_timeout=120).run()), DATA)
    upload(at, "behaviour.tsv", to_tsv_bytes(drivers_customers(450)))
    at = go(at, VARIABLES)
    assert not [w for w in at.warning if "largely" in w.value]
    assert not [b for b in at.button if b.label.startswith("Segments within")]
    drivers_chart(at)


def test_segments_within_bands_leads_to_a_strata_run_named_by_band(page):
    # The button sits in the K panel, which the strata run replaces by each stratum's K.
    ok(button(page, "Segments within Income bands").click().run())
    assert next(s for s in page.selectbox if s.label == "Stratify by").value == "Income"
    table = frame_with(page, "Why this K")
    assert table["Stratum"].tolist() == ["Low Income", "Mid Income", "High Income"]
    expected = run(SAMPLE_PATH, RunConfig(strata="Income:3"))
    assert table["K"].tolist() == [f.n_clusters for f in expected.strata.fits]
    at = go(page, PERSONAS)
    assert not errors(at)
    # Each persona's heading: "**<name>** — <share> of customers".
    shown = [m.value.partition("**")[2].partition("**")[0] for m in at.markdown
             if m.value.startswith("**") and " of customers" in m.value]
    assert shown == [md(p.name) for p in expected.personas]
    assert {n.partition(" · ")[0] for n in shown} == {"Low Income", "Mid Income",
                                                      "High Income"}


def test_behaviour_only_leads_to_a_run_on_the_behaviour_variables(page):
    ok(button(page, BEHAVIOUR_BUTTON).click().run())
    dataset = load_dataset(read_customers(SAMPLE_PATH.read_bytes(), "auto", {}, None,
                                          name=SAMPLE_PATH.name))
    prep = behaviour_prep(PrepConfig(), variables_of(dataset), dataset.log)
    expected = run(SAMPLE_PATH, RunConfig(prep=prep))
    assert_k_table(page, expected.sweep)
    at = go(page, PERSONAS)
    shown = [m.value.partition("**")[2].partition("**")[0] for m in at.markdown
             if m.value.startswith("**") and " of customers" in m.value]
    assert shown == [md(p.name) for p in expected.personas]
