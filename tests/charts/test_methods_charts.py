"""The method-comparison and split-tree charts draw exactly the tidy frames they are given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from charts.methods import (
    FAINT_SHARE,
    MAX_EDGE_WIDTH,
    agreement_heatmap,
    dendrogram_chart,
    split_tree_chart,
)
from segmentation.cluster.splits import split_edges, split_nodes

LABELS = {"kmeans": "k-means", "gmm": "Gaussian mixture", "ward": "Ward hierarchical"}


def test_the_agreement_heatmap_shows_each_pair_in_the_label_order():
    ari = {("kmeans", "gmm"): 0.2, ("kmeans", "ward"): 0.9, ("gmm", "ward"): 0.3}
    rows = [{"method_a": a, "method_b": b,
             "ari": 1.0 if a == b else ari.get((a, b), ari.get((b, a)))}
            for a in ("ward", "gmm", "kmeans") for b in ("gmm", "kmeans", "ward")]
    fig = agreement_heatmap(pd.DataFrame(rows), LABELS)
    heat = fig.data[0]
    assert list(heat.x) == list(heat.y) == list(LABELS.values())
    z = np.asarray(heat.z)
    assert z[0, 1] == z[1, 0] == 0.2 and z[0, 2] == 0.9 and z[1, 2] == 0.3
    np.testing.assert_array_equal(np.diag(z), 1.0)
    assert heat.text[0][1] == "0.20"


def test_the_dendrogram_draws_one_line_per_link_and_the_cut():
    frame = pd.DataFrame({"link": [0, 0, 0, 0, 1, 1, 1, 1],
                          "x": [5, 5, 15, 15, 10, 10, 25, 25],
                          "y": [0, 1, 1, 0, 1, 3, 3, 0]})
    fig = dendrogram_chart(frame, cut_height=2.0)
    assert len(fig.data) == 2
    assert list(fig.data[1].y) == [1, 3, 3, 0]
    assert fig.layout.shapes[0].y0 == 2.0


def test_the_split_tree_draws_every_edge_and_marks_unstable_segments():
    k2 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    k3 = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    edges = split_edges({2: k2, 3: k3})
    nodes = split_nodes({2: k2, 3: k3}, edges)
    fig = split_tree_chart(nodes, edges)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == len(edges)
    # Widths follow the customers: 3 of 8 customers is 3/8 of the widest edge.
    assert sorted(t.line.width for t in lines) == [
        max(1.0, MAX_EDGE_WIDTH * c / 8) for c in sorted(edges["customers"])]
    assert all(t.opacity == 0.7 for t in lines)  # no edge under FAINT_SHARE here
    assert edges["share_of_parent"].min() > FAINT_SHARE
    unstable = next(t for t in fig.data if t.name == "unstable")
    assert list(unstable.text) == ["1"] and list(unstable.y) == [3.0]
    stable = next(t for t in fig.data if t.name == "stable")
    assert len(stable.x) == len(nodes) - 1
