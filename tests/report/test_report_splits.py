"""The report's section on how segments split as K grows, and the method the run used."""

from __future__ import annotations

from dataclasses import replace

from report.methods import splits_section
from segmentation import run
from segmentation.cluster.splits import split_tree
from tests.helpers import CHEAP
from tests.helpers.planted import blobs_with_noise
from tests.helpers.shapes import to_bytes
from tests.report.test_report import Page


def _result(method: str):
    frame, _ = blobs_with_noise()
    return run(to_bytes(frame), replace(CHEAP, method=method, k=3), name="blobs.csv")


def test_the_section_lists_the_engines_unstable_segments_beside_the_tree():
    result = _result("kmeans")
    tree = split_tree(result.features, random_state=result.config.random_state,
                      n_init=result.config.n_init)
    page = Page(splits_section(result))
    assert page.section_ids == ["splits"]
    assert page.chart_divs() == ["chart-splits"]
    text = page.text_of["splits"]
    assert tree.summary().verdict in text
    unstable = tree.nodes[tree.nodes["unstable"]]
    assert not unstable.empty  # the noise makes some K's segments assembled from several
    _, *rows = page.tables["unstable-segments"]
    assert [r[:2] for r in rows] == [[str(k), str(s)] for k, s in
                                     zip(unstable["k"], unstable["segment"], strict=True)]
    assert "made with" not in text  # a k-means run needs no word on its method


def test_a_run_with_another_method_says_which_and_how_it_scores():
    text = Page(splits_section(_result("ward"))).text_of["splits"]
    assert "made with Ward hierarchical" in text
    assert "nearest segment centroid" in text
