"""RFM scores and the named RFM grid, beside the k-means personas.

Each customer gets a score of 1 to 5 on recency (5 = bought most recently),
frequency and monetary value (5 = most), by quintile of the customers'
ranks, so ties never leave a quintile empty. The grid names a customer from
the recency score and the frequency score, in the widely used map below
(R, F): analysts know it, so the personas are shown against it.

=================  ======================
R \\ F             cell
=================  ======================
5, F 4-5          Champions
3-4, F 4-5        Loyal
4-5, F 2-3        Potential loyalists
5, F 1            New customers
4, F 1            Promising
3, F 3            Need attention
3, F 1-2          About to sleep
1-2, F 5          Cannot lose them
1-2, F 3-4        At risk
2, F 1-2          Hibernating
1, F 1-2          Lost
=================  ======================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.errors import SegmentationError

#: (cell, recency scores, frequency scores); every (R, F) pair falls in exactly one cell.
GRID = (
    ("Champions", (5,), (4, 5)),
    ("Loyal", (3, 4), (4, 5)),
    ("Potential loyalists", (4, 5), (2, 3)),
    ("New customers", (5,), (1,)),
    ("Promising", (4,), (1,)),
    ("Need attention", (3,), (3,)),
    ("About to sleep", (3,), (1, 2)),
    ("Cannot lose them", (1, 2), (5,)),
    ("At risk", (1, 2), (3, 4)),
    ("Hibernating", (2,), (1, 2)),
    ("Lost", (1,), (1, 2)),
)
CELLS = tuple(name for name, _, _ in GRID)


def _quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by quintile of rank (ties broken by order of appearance, so no quintile is empty).

    Examples
    --------
    >>> _quintile_scores(pd.Series([10, 20, 30, 40, 50])).tolist()
    [1, 2, 3, 4, 5]
    >>> _quintile_scores(pd.Series([10, 20, 30, 40, 50]), higher_is_better=False).tolist()
    [5, 4, 3, 2, 1]
    """
    ranks = values.rank(method="first", ascending=higher_is_better)
    scores = np.ceil(ranks / len(values) * 5).clip(1, 5).astype(int)
    return pd.Series(scores, index=values.index)


def _cell_of(r: int, f: int) -> str:
    """The grid cell of a recency score and a frequency score."""
    for name, rs, fs in GRID:
        if r in rs and f in fs:
            return name
    raise SegmentationError(f"RFM scores must be 1 to 5, not R={r}, F={f}: score them first.")


def _rfm_table(recency_days: pd.Series, frequency: pd.Series, monetary: pd.Series) -> pd.DataFrame:
    """R, F and M scores, the RFM code ("545") and the grid cell of every customer.

    Parameters
    ----------
    recency_days, frequency, monetary : Series
        One value per customer, on the same index (fewer days since the last order
        is better; more orders and more spend are better).
    """
    if len(recency_days) < 5:
        raise SegmentationError(
            f"RFM needs at least 5 customers, not {len(recency_days)}: use a longer log."
        )
    out = pd.DataFrame({
        "r": _quintile_scores(recency_days.fillna(recency_days.max()), higher_is_better=False),
        "f": _quintile_scores(frequency.fillna(0)),
        "m": _quintile_scores(monetary.fillna(0)),
    })
    out["rfm"] = out["r"].astype(str) + out["f"].astype(str) + out["m"].astype(str)
    out["rfm_cell"] = [_cell_of(r, f) for r, f in zip(out["r"], out["f"], strict=True)]
    return out


def rfm_of(result) -> pd.DataFrame | None:
    """The RFM table of a segmentation's customers, or None when it has no recency,
    frequency and monetary columns (an order log always has them)."""
    log = getattr(result.dataset, "log", None)
    frame = result.features.frame
    if log is None or not {"recency_days", "orders", "net_spend"} <= set(frame.columns):
        return None
    return _rfm_table(frame["recency_days"], frame["orders"], frame["net_spend"])


def crosstab(rfm: pd.DataFrame, labels: np.ndarray, names: dict[int, str]) -> pd.DataFrame:
    """Customers in each grid cell (rows, in grid order) by persona (columns)."""
    persona = pd.Series([names.get(int(s), f"Segment {s}") for s in labels], index=rfm.index)
    table = pd.crosstab(rfm["rfm_cell"], persona)
    order = [c for c in CELLS if c in table.index]
    columns = [names[s] for s in sorted(names) if names[s] in table.columns]
    return table.loc[order, columns]
