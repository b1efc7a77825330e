"""A customer table whose clustering columns are named as a formula, a function and a script."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Column names a spreadsheet would run and a browser would execute if not made safe.
HOSTILE_COLUMNS = ("=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)", "<script>alert(1)</script>")


def hostile_customers(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three planted groups told apart only by the columns of :data:`HOSTILE_COLUMNS`."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 3
    return pd.DataFrame({
        "id": [f"C{i}" for i in range(n)],
        HOSTILE_COLUMNS[0]: np.round(np.array([10, 50, 90])[group] + rng.normal(0, 5, n), 1),
        HOSTILE_COLUMNS[1]: np.round(np.array([5, 5, 60])[group] + rng.normal(0, 4, n), 1),
        HOSTILE_COLUMNS[2]: np.round(np.array([30, 80, 30])[group] + rng.normal(0, 4, n), 1)})
