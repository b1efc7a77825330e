"""Kaggle-shaped customer tables whose groups are planted either in income or in behaviour.

``drivers_customers(planted="income")``: three income bands (about 30k, 60k and 90k, four
thousand apart within a band) and spend and purchase levels that follow income, while the
mix of what and where customers buy is the same in every band: the segments any clusterer
finds are an income split.

``drivers_customers(planted="behaviour")``: three groups that differ only in the mix (wine,
meat or gold and sweets; store, catalog or web), with income, age, household, total spend,
purchase counts and recency drawn independently of the group.

``frame.attrs["planted"]`` holds the group of each row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPEND = ("MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts",
         "MntGoldProds")
CHANNELS = ("NumWebPurchases", "NumCatalogPurchases", "NumStorePurchases")
# Each behaviour group's spend mix and channel mix (rows sum to 1).
SPEND_MIX = np.array([[0.70, 0.04, 0.14, 0.04, 0.04, 0.04],
                      [0.10, 0.06, 0.66, 0.10, 0.04, 0.04],
                      [0.12, 0.08, 0.10, 0.06, 0.30, 0.34]])
CHANNEL_MIX = np.array([[0.10, 0.10, 0.80],
                        [0.10, 0.75, 0.15],
                        [0.75, 0.10, 0.15]])
AVERAGE_SPEND_MIX = SPEND_MIX.mean(axis=0)
AVERAGE_CHANNEL_MIX = CHANNEL_MIX.mean(axis=0)


def _mix(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    """Each row's own mix: the base mix jittered multiplicatively, renormalised."""
    jittered = base * np.exp(rng.normal(0.0, 0.25, base.shape))
    return jittered / jittered.sum(axis=1, keepdims=True)


def drivers_customers(n: int = 900, seed: int = 0, planted: str = "behaviour") -> pd.DataFrame:
    """A customer table with three planted groups (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    kind = rng.permutation(np.arange(n) % 3)
    if planted == "income":
        income = np.array([30000.0, 60000.0, 90000.0])[kind] + rng.normal(0, 4000, n)
        level = np.array([0.3, 1.0, 2.2])[kind]  # spend and purchases follow income
        spend_mix = _mix(rng, np.tile(AVERAGE_SPEND_MIX, (n, 1)))
        channel_mix = _mix(rng, np.tile(AVERAGE_CHANNEL_MIX, (n, 1)))
    else:
        income = rng.normal(55000, 15000, n)
        level = np.ones(n)
        spend_mix = _mix(rng, SPEND_MIX[kind])
        channel_mix = _mix(rng, CHANNEL_MIX[kind])
    total_spend = 600 * level * np.exp(rng.normal(0, 0.3, n))
    purchases = np.maximum(np.round(16 * level * np.exp(rng.normal(0, 0.2, n))), 3)
    frame = pd.DataFrame({
        "ID": np.arange(1, n + 1),
        "Year_Birth": rng.integers(1950, 2000, n),
        "Income": np.round(np.maximum(income, 1000)),
        "Kidhome": rng.integers(0, 3, n),
        "Teenhome": rng.integers(0, 3, n),
        "Recency": rng.integers(0, 100, n),
        **{c: np.round(total_spend * spend_mix[:, i]) for i, c in enumerate(SPEND)},
        "NumDealsPurchases": rng.poisson(2, n),
        **{c: np.round(purchases * channel_mix[:, i]) for i, c in enumerate(CHANNELS)},
        "NumWebVisitsMonth": rng.poisson(5, n),
    })
    frame.attrs["planted"] = kind
    return frame
