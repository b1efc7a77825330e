"""How segments split as K grows: the edges by hand, their totals, and the unstable marks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.cluster.splits import split_edges, split_nodes, split_tree
from tests.helpers.planted import blobs, features_of


def test_edges_of_a_small_case_by_hand():
    # Eight customers. K = 2: {0,1,2,3} and {4,5,6,7}. K = 3: segment 0 keeps 0-2, segment 1
    # takes 3 and 4, segment 2 keeps 5-7. By hand: parent 0 gives 3 to child 0 (3/4 of the
    # parent, all of the child) and 1 to child 1 (1/4, half the child); parent 1 gives 1 to
    # child 1 (1/4, half) and 3 to child 2 (3/4, all).
    k2 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    k3 = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    edges = split_edges({2: k2, 3: k3})
    expected = pd.DataFrame({"k": [3, 3, 3, 3], "parent": [0, 0, 1, 1], "child": [0, 1, 1, 2],
                             "customers": [3, 1, 1, 3],
                             "share_of_parent": [0.75, 0.25, 0.25, 0.75],
                             "share_of_child": [1.0, 0.5, 0.5, 1.0]})
    pd.testing.assert_frame_equal(edges.reset_index(drop=True), expected, check_dtype=False)
    nodes = split_nodes({2: k2, 3: k3}, edges).set_index(["k", "segment"])
    # Child 1 at K = 3 is half from each parent: no parent gives it 70%, so it is unstable.
    assert nodes.loc[(3, 1), "unstable"] and "70%" in nodes.loc[(3, 1), "why"]
    assert not nodes.loc[(3, 0), "unstable"] and not nodes.loc[(3, 2), "unstable"]
    # Both parents pass 75% to one child: neither dissolves.
    assert not nodes.loc[(2, 0), "unstable"] and not nodes.loc[(2, 1), "unstable"]


def test_a_segment_whose_customers_scatter_dissolves():
    k2 = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    k3 = np.array([0, 0, 1, 1, 2, 2, 2, 2, 2, 2])  # segment 0 of K = 2 splits three ways
    nodes = split_nodes({2: k2, 3: k3}, split_edges({2: k2, 3: k3})).set_index(["k", "segment"])
    assert nodes.loc[(2, 0), "unstable"] and "no majority" in nodes.loc[(2, 0), "why"]
    assert not nodes.loc[(2, 1), "unstable"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 3)),
                min_size=12, max_size=60))
def test_edges_account_for_every_customer_at_every_k(rows):
    labels = {k: np.array([r[i] for r in rows]) for i, k in enumerate((2, 3, 4))}
    edges = split_edges(labels)
    n = len(rows)
    assert edges.groupby("k")["customers"].sum().to_dict() == {3: n, 4: n}
    for _, group in edges.groupby("k"):
        parents = group.groupby("parent")["share_of_parent"].sum()
        np.testing.assert_allclose(parents.to_numpy(), 1.0)
        children = group.groupby("child")["share_of_child"].sum()
        np.testing.assert_allclose(children.to_numpy(), 1.0)


def test_planted_blobs_split_cleanly_up_to_their_number():
    frame, _ = blobs()
    tree = split_tree(features_of(frame), range(2, 5))
    assert tree.nodes.groupby("k")["customers"].sum().eq(len(frame)).all()
    assert tree.edges.groupby("k")["customers"].sum().eq(len(frame)).all()
    # From 2 to 3 segments, one parent passes whole to a child and the other splits in two:
    # every K = 3 segment comes from one parent.
    at3 = tree.edges[tree.edges["k"] == 3]
    assert at3["share_of_child"].min() == 1.0
    assert not tree.nodes[tree.nodes["k"] == 3]["unstable"].any()


def test_the_tree_reuses_the_sweeps_fits(monkeypatch):
    from segmentation.cluster import kmeans, splits
    from segmentation.cluster.kmeans import sweep_k

    frame, _ = blobs()
    fm = features_of(frame)
    expected = split_tree(fm, range(2, 6), random_state=7, n_init=3)
    sweep = sweep_k(fm, range(2, 6), random_state=7, n_init=3)
    calls, real = [], kmeans._fit_kmeans

    def counted(X, k, *args, **kwargs):
        calls.append(k)
        return real(X, k, *args, **kwargs)

    monkeypatch.setattr(splits, "_fit_kmeans", counted)
    reused = split_tree(fm, range(2, 6), random_state=7, n_init=3, sweep=sweep)
    pd.testing.assert_frame_equal(reused.nodes, expected.nodes)
    pd.testing.assert_frame_equal(reused.edges, expected.edges)
    assert calls == []
    # A sweep made with another seed lends nothing.
    split_tree(fm, range(2, 4), random_state=8, n_init=3, sweep=sweep)
    assert calls == [2, 3]
