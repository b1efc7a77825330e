"""Quarterly customer exports with planted changes, for the run history.

Four customer types, far apart on every variable: premium (high income, big spend, recent),
regular (middle income and spend), lapsed (middle income, little spend, long since the last
purchase) and online (young, low income, buying on the web). Each customer keeps an id and a
type from quarter to quarter unless a change moves them; every quarter draws fresh noise.

``quarterly_exports(changes=True)`` plants, quarter by quarter:

- Q1: 300 premium, 500 regular, 200 lapsed (ids C00000..C00999);
- Q2: the regular segment grows by 150 new customers (share 50% → 56.5%);
- Q3: 120 premium customers lapse (premium 26.1% → 15.7%, lapsed 17.4% → 27.8%);
- Q4: 80 new online customers, a fourth segment.

``changes=False`` repeats Q1's customers four times (fresh noise only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TYPES = ("premium", "regular", "lapsed", "online")
# Per type: income, wine, meat, recency (days), web purchases, store purchases, response rate.
_CENTRES = {
    "premium": (90_000, 900, 700, 10, 3, 10, 0.40),
    "regular": (55_000, 300, 200, 40, 4, 6, 0.10),
    "lapsed": (50_000, 30, 20, 300, 0, 1, 0.02),
    "online": (25_000, 100, 80, 15, 12, 0, 0.20),
}
_SPREAD = (2_500, 40, 30, 5, 0.7, 0.7)
PREMIUM_TO_LAPSED = 120  # premium customers (the first ids of that type) who lapse in Q3
GROWTH = 150  # new regular customers in Q2
NEW_ONLINE = 80  # online customers appearing in Q4


def _table(types: pd.Series, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(types)
    centres = np.array([_CENTRES[t] for t in types], dtype=float)
    noise = rng.normal(0, 1, (n, len(_SPREAD))) * np.array(_SPREAD)
    values = np.maximum(centres[:, :6] + noise, 0)
    return pd.DataFrame({
        "ID": types.index,
        "Income": np.round(values[:, 0]),
        "MntWines": np.round(values[:, 1]),
        "MntMeatProducts": np.round(values[:, 2]),
        "Recency": np.round(values[:, 3]),
        "NumWebPurchases": np.round(values[:, 4]),
        "NumStorePurchases": np.round(values[:, 5]),
        "Response": (rng.random(n) < centres[:, 6]).astype(int),
    })


def quarter_types(changes: bool = True) -> list[pd.Series]:
    """Each quarter's customer → type (index: customer id), the planted truth."""
    q1 = pd.Series(["premium"] * 300 + ["regular"] * 500 + ["lapsed"] * 200,
                   index=[f"C{i:05d}" for i in range(1000)], name="type")
    if not changes:
        return [q1] * 4
    q2 = pd.concat([q1, pd.Series("regular", index=[f"C{i:05d}" for i in range(1000, 1000
                                                                              + GROWTH)])])
    q3 = q2.copy()
    q3.iloc[:PREMIUM_TO_LAPSED] = "lapsed"  # the first ids are premium customers
    q4 = pd.concat([q3, pd.Series("online", index=[f"C{i:05d}" for i in range(
        2000, 2000 + NEW_ONLINE)])])
    return [q1, q2, q3, q4.rename("type")]


def quarterly_exports(changes: bool = True, seed: int = 0) -> list[pd.DataFrame]:
    """Four quarterly customer tables (one row per customer), oldest first."""
    return [_table(types, seed + q) for q, types in enumerate(quarter_types(changes))]
