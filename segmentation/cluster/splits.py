"""How segments split as K grows: which segment of K comes from which of K - 1.

k-means is fitted at every K of a small range with the same seed; consecutive Ks are
cross-tabulated (a clustree, Zappia & Oshlack 2018). A segment that is not one parent's
offspring, or whose customers scatter at the next K, is marked unstable: it exists at one
K only by accident of where the boundaries fell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.cluster.kmeans import KSweep, _check_k, _fit_kmeans, _order_labels
from segmentation.config import (
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    SPLIT_K_RANGE,
    SPLIT_MAJORITY,
    SPLIT_PARENT_SHARE,
)
from segmentation.prepare.features import FeatureMatrix
from segmentation.summary import Summary

__all__ = ["SplitTree", "split_edges", "split_nodes", "split_tree"]


@dataclass(frozen=True)
class SplitTree:
    """Segments at each K and the customers that flow between consecutive Ks.

    Attributes
    ----------
    nodes : DataFrame
        One row per segment and K: ``k``, ``segment``, ``customers``, ``unstable`` (bool)
        and ``why`` (empty when stable).
    edges : DataFrame
        One row per (K, parent at K - 1, child at K) pair that shares customers: ``k``,
        ``parent``, ``child``, ``customers``, ``share_of_parent``, ``share_of_child``. For
        each K the customers sum to everyone.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame

    def summary(self) -> Summary:
        """Which segments are unstable, and the nodes table."""
        unstable = self.nodes[self.nodes["unstable"]]
        if unstable.empty:
            verdict = (f"Every segment from K = {self.nodes['k'].min()} to "
                       f"{self.nodes['k'].max()} splits cleanly from one parent and passes "
                       "most of its customers to one child.")
        else:
            verdict = ("Unstable: " + "; ".join(f"segment {r.segment} at K = {r.k} ({r.why})"
                                               for r in unstable.itertuples()) + ".")
        return Summary(title="How segments split as K grows", verdict=verdict,
                       table=self.nodes, notes=())


def split_edges(labelings: dict[int, np.ndarray]) -> pd.DataFrame:
    """The customers each segment of K shares with each segment of K - 1.

    Parameters
    ----------
    labelings : dict
        ``{k: labels}`` for consecutive Ks, every labelling of the same customers.

    Returns
    -------
    DataFrame
        ``k``, ``parent``, ``child``, ``customers``, ``share_of_parent``, ``share_of_child``;
        pairs sharing no customer are left out.

    Examples
    --------
    >>> split_edges({2: np.array([0, 0, 1, 1]), 3: np.array([0, 1, 2, 2])})[
    ...     ["parent", "child", "customers"]].to_numpy().tolist()
    [[0, 0, 1], [0, 1, 1], [1, 2, 2]]
    """
    ks = sorted(labelings)
    rows = []
    for low, high in zip(ks, ks[1:], strict=False):
        table = pd.crosstab(labelings[low], labelings[high])
        parents, children = table.sum(axis=1), table.sum(axis=0)
        for parent in table.index:
            for child in table.columns:
                count = int(table.loc[parent, child])
                if count:
                    rows.append({"k": high, "parent": int(parent), "child": int(child),
                                 "customers": count,
                                 "share_of_parent": count / int(parents[parent]),
                                 "share_of_child": count / int(children[child])})
    return pd.DataFrame(rows, columns=["k", "parent", "child", "customers", "share_of_parent",
                                       "share_of_child"])


def split_nodes(labelings: dict[int, np.ndarray], edges: pd.DataFrame) -> pd.DataFrame:
    """Each segment at each K, marked unstable where it was assembled or dissolves.

    A segment is unstable when no single parent at K - 1 gives it at least
    ``SPLIT_PARENT_SHARE`` of its customers, or when no child at K + 1 takes at least
    ``SPLIT_MAJORITY`` of them.
    """
    ks = sorted(labelings)
    rows = []
    for k in ks:
        sizes = np.bincount(labelings[k])
        into = edges[edges["k"] == k].groupby("child")["share_of_child"].max()
        out = edges[edges["k"] == k + 1].groupby("parent")["share_of_parent"].max()
        for seg, size in enumerate(sizes):
            why = []
            if k != ks[0] and into.get(seg, 0.0) < SPLIT_PARENT_SHARE:
                why.append(f"no segment of K = {k - 1} gives it {SPLIT_PARENT_SHARE:.0%} of its "
                           f"customers (at most {into.get(seg, 0.0):.0%})")
            if k != ks[-1] and out.get(seg, 0.0) < SPLIT_MAJORITY:
                why.append(f"its customers split at K = {k + 1} with no majority (largest "
                           f"{out.get(seg, 0.0):.0%})")
            rows.append({"k": k, "segment": seg, "customers": int(size),
                         "unstable": bool(why), "why": "; ".join(why)})
    return pd.DataFrame(rows)


def split_tree(fm: FeatureMatrix | np.ndarray, k_values=range(SPLIT_K_RANGE[0],
                                                               SPLIT_K_RANGE[1] + 1),
               random_state: int = DEFAULT_SEED, n_init: int = DEFAULT_N_INIT,
               sweep: KSweep | None = None) -> SplitTree:
    """k-means at each K (same seed, segments numbered as a run numbers them), and how the
    segments of consecutive Ks share customers.

    Parameters
    ----------
    fm : FeatureMatrix or ndarray
        The prepared customers; a plain matrix is numbered by centre, without spend.
    k_values : iterable of int
        Consecutive Ks, default 2 to 6.
    random_state, n_init : int
    sweep : KSweep, optional
        A sweep of these customers: its fit at a K, made with these settings, is used
        instead of fitting that K again.

    Returns
    -------
    SplitTree
    """
    X = fm.X if isinstance(fm, FeatureMatrix) else np.asarray(fm, dtype=float)
    key = (fm.frame["total_spend"].to_numpy(float)
           if isinstance(fm, FeatureMatrix) and "total_spend" in fm.frame else None)
    labelings = {}
    for k in _check_k(X.shape[0], k_values):
        fit = None if sweep is None else sweep.fit_of(k, X, random_state, n_init)
        labels, centers, _ = fit or _fit_kmeans(X, k, random_state, n_init)
        labelings[k] = _order_labels(labels, centers, key)[0]
    edges = split_edges(labelings)
    return SplitTree(nodes=split_nodes(labelings, edges), edges=edges)
