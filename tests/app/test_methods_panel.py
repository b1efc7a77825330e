"""The Variables & K page's method panels, driven with AppTest on planted blobs."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import RunConfig, run
from segmentation.cluster.methods import compare_methods
from segmentation.cluster.splits import split_tree
from tests.app.test_app import DATA, VARIABLES, charts, go, ok, start, upload
from tests.helpers.planted import blobs_with_noise
from tests.helpers.shapes import to_bytes
from ui.flow import md


@pytest.fixture(scope="module")
def noisy_blobs() -> bytes:
    return to_bytes(blobs_with_noise()[0])


@pytest.fixture(scope="module")
def reference(noisy_blobs):
    """The engine's own figures for the page's default run of the same file."""
    result = run(noisy_blobs, RunConfig(), name="blobs.csv")
    k = result.chosen_k
    return (result, compare_methods(result.features, k, RunConfig().k_values),
            split_tree(result.features))


def _on_variables(data: bytes):
    at = start()
    at = go(at, DATA)
    at = upload(at, "blobs.csv", data)
    return go(at, VARIABLES)


def test_the_split_tree_is_drawn_and_the_comparison_waits_to_be_asked(noisy_blobs, reference):
    at = _on_variables(noisy_blobs)
    assert "Compare methods" in [h.value for h in at.subheader]
    assert "How segments split as K grows" in [h.value for h in at.subheader]
    drawn = charts(at)
    assert any("How segments split as K grows" in c for c in drawn)
    assert not any("Agreement between methods" in c for c in drawn)
    _, _, tree = reference
    assert md(tree.summary().verdict) in [c.value for c in at.caption]


def test_comparing_shows_the_engines_figures(noisy_blobs, reference):
    at = _on_variables(noisy_blobs)
    at.toggle(key="w.methods.compare").set_value(True)
    at = ok(at.run())
    _, comparison, _ = reference
    shown = {m.label: m.value for m in at.metric}
    assert shown["No clear segment (HDBSCAN)"] == f"{comparison.fits['hdbscan'].n_noise:,}"
    assert shown["Between segments (Gaussian mixture)"] == \
        f"{int(comparison.fits['gmm'].between.sum()):,}"
    table = next(d.value for d in at.dataframe if "Between segments" in d.value.columns)
    np.testing.assert_allclose(table["Silhouette"].to_numpy(float),
                               comparison.quality["silhouette"].to_numpy(float))
    assert table["No clear segment"].tolist() == comparison.quality["no_clear_segment"].tolist()
    drawn = charts(at)
    assert any("Agreement between methods" in c for c in drawn)
    assert any("Ward's dendrogram" in c for c in drawn)
    assert md(comparison.summary().verdict) in [i.value for i in at.info]


def test_choosing_a_method_reruns_the_segmentation_with_it(noisy_blobs):
    at = _on_variables(noisy_blobs)
    at.radio(key="w.method").set_value("hdbscan")
    at = ok(at.run())
    assert at.session_state["k.method"] == "hdbscan"
    assert any("HDBSCAN finds its own number of segments" in c.value for c in at.caption)
    assert not at.error
