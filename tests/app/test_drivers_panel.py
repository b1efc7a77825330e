"""The Variables & K page's "What drives the segments" panel, driven with AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from segmentation import run
from segmentation.data.dataset import load_dataset
from segmentation.data.orders import read_customers
from segmentation.describe.drivers import segment_drivers, split_warning
from segmentation.prepare.behaviour import BEHAVIOUR_SCALING, behaviour_features
from segmentation.prepare.features import variables_of
from segmentation.validate.ablation import ablate
from tests.app.test_app import APP, DATA, VARIABLES, button, chart_text, go, ok, upload
from tests.helpers import SAMPLE_PATH, to_tsv_bytes
from tests.helpers.drivers import drivers_customers
from ui.drivers_section import BEHAVIOUR_BUTTON, STRATA
from ui.flow import md

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
    assert STRATA not in page.session_state
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
