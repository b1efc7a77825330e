"""The strata control and the per-stratum K panel on the Variables & K page (AppTest)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from segmentation import RunConfig, run
from tests.app.test_app import VARIABLES, errors, frame_with, go, ok, start
from tests.helpers import SAMPLE_PATH
from tests.helpers.pages import views

COLUMN = "Stratify by"


def _select(at, label):
    return next(s for s in at.selectbox if s.label == label)


def _stratum_table(at):
    return frame_with(at, "Why this K")


@pytest.fixture(scope="module")
def expected():
    """The engine's own run with the settings the page starts from, within Income thirds."""
    return run(SAMPLE_PATH, replace(RunConfig(), strata="Income:3"))


@pytest.fixture
def page():
    return go(start(), VARIABLES)


def test_choosing_a_column_shows_each_strata_k_and_quality(page, expected):
    at = page
    assert _select(at, COLUMN).value == "(no strata)"
    assert "Inertia (WCSS)" in [c for d in at.dataframe for c in d.value.columns]
    ok(_select(at, COLUMN).set_value("Income").run())
    assert at.session_state["strata"] == "Income:3"
    table = _stratum_table(at)
    fits = expected.strata.fits
    assert table["Stratum"].tolist() == ["Low Income", "Mid Income", "High Income"]
    assert table["K"].tolist() == [f.n_clusters for f in fits]
    assert table["Customers"].tolist() == [f.n_customers for f in fits]
    np.testing.assert_allclose(table["Silhouette"].to_numpy(float),
                               [f.silhouette for f in fits])
    assert not any("Inertia (WCSS)" in d.value.columns for d in at.dataframe)
    assert any("within 3 strata of Income" in i.value for i in at.info)


def test_the_strata_key_set_elsewhere_drives_the_control(page):
    at = page
    at.session_state["strata"] = "Income:3"  # what another page's button writes
    ok(at.run())
    assert _select(at, COLUMN).value == "Income"
    assert _stratum_table(at)["Stratum"].tolist() == ["Low Income", "Mid Income",
                                                      "High Income"]
    ok(_select(at, COLUMN).set_value("(no strata)").run())
    assert at.session_state["strata"] is None
    assert "Inertia (WCSS)" in [c for d in at.dataframe for c in d.value.columns]


def test_bands_and_cut_offs_are_read_and_bad_ones_refused(page):
    at = page
    at.session_state["strata"] = "Income:3"
    ok(at.run())
    ok(next(n for n in at.number_input if n.label == "Quantile bands").set_value(2).run())
    assert at.session_state["strata"] == "Income:2"
    cuts = next(t for t in at.text_input if t.label.startswith("Or cut-offs"))
    ok(cuts.set_value("40000, lots").run())
    assert at.session_state["strata"] == "Income:2"  # unchanged
    assert len(errors(at)) == 1 and "'lots'" in errors(at)[0]
    cuts = next(t for t in at.text_input if t.label.startswith("Or cut-offs"))
    ok(cuts.set_value("40000, 70000").run())
    assert at.session_state["strata"] == "Income:40000,70000"
    assert not errors(at)
    strata = _stratum_table(at)["Stratum"].tolist()
    assert len(strata) == 3 and strata[1] == "Income 40,000–70,000"


def test_a_fixed_k_applies_within_every_stratum(page):
    at = page
    at.session_state["strata"] = "Income:3"
    ok(at.run())
    ok(_select(at, "K within each stratum").set_value(2).run())
    assert _stratum_table(at)["K"].tolist() == [2, 2, 2]


def test_every_page_works_on_segments_within_strata(page, expected):
    from segmentation.cluster.strata import strata_split_half

    at = page
    at.session_state["strata"] = "Income:3"
    ok(at.run())
    for path in ("pages/personas.py", "pages/explore.py", "pages/export.py", "pages/plan.py"):
        for where in views(at, path):
            ok(at)
            assert not errors(at), (where, errors(at))
    at = go(at, "pages/validate.py")
    assert not errors(at)
    halves = strata_split_half(expected.strata, expected.config.random_state,
                               expected.config.n_init)
    shown = next(m for m in at.metric if m.label.startswith("Agreement"))
    assert shown.value == f"{halves.ari:.2f}"


def test_category_values_are_shown_as_typed_not_as_markdown():
    from tests.app.test_app import DATA, upload
    from tests.helpers.shapes import to_bytes
    from tests.helpers.strata import income_bands

    frame = income_bands(n=600)
    frame = frame.assign(Region=np.where(np.arange(len(frame)) % 2, "**North**", "South"))
    at = upload(go(start(), DATA), "regions.csv", to_bytes(frame))
    at = go(at, VARIABLES)
    ok(_select(at, COLUMN).set_value("Region").run())
    assert at.session_state["strata"] == "Region"
    assert _stratum_table(at)["Stratum"].tolist() == ["**North**", "South"]
    verdict = next(i.value for i in at.info if "strata of Region" in i.value)
    assert "\\*\\*North\\*\\*" in verdict
