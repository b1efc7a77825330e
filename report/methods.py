"""The report's section on how segments split as K grows, and the method the run used."""

from __future__ import annotations

from charts.methods import split_tree_chart
from segmentation import SegmentationResult
from segmentation.cluster.methods import METHOD_LABELS
from segmentation.cluster.splits import SplitTree, split_tree


def splits_section(result: SegmentationResult, tree: SplitTree | None = None) -> str:
    """The clustree of k-means from K = 2 to 6 with its unstable segments, and, for a run
    made with another method, which one and how it scores new customers.

    ``tree`` defaults to :func:`segmentation.cluster.splits.split_tree` of the run's
    customers with its seed and restarts.
    """
    # The report's helpers, imported here: report.html calls this function.
    from report.html import _chart, _p, _section, _table

    config = result.config
    tree = tree or split_tree(result.features, random_state=config.random_state,
                              n_init=config.n_init)
    parts = []
    fit = result.method_fit
    if fit is not None:
        parts.append(_p(f"The segments of this report were made with "
                        f"{METHOD_LABELS[fit.method]}; new customers are scored by the "
                        f"{fit.rule}."))
    parts.append(_chart(split_tree_chart(tree.nodes, tree.edges), "splits", 520))
    parts.append(_p(tree.summary().verdict))
    unstable = tree.nodes[tree.nodes["unstable"]]
    if not unstable.empty:
        parts.append(_table(["K", "Segment", "Customers", "Why unstable"],
                            [[int(r.k), int(r.segment), f"{int(r.customers):,}", r.why]
                             for r in unstable.itertuples()], numeric=(0, 1, 2),
                            table_id="unstable-segments"))
    parts.append(_p("k-means at each K with the run's seed; an edge is as wide as the "
                    "customers that go from a segment of one K to a segment of the next.",
                    "note"))
    return _section("splits", parts)
