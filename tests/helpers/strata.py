"""A retail table whose income bands dominate a plain clustering, with behaviour planted inside.

In each of three income bands two groups of customers differ by 35 points in the wine share of
their spend (the rest goes to meat), and by channel; total spend grows fivefold from band to
band, so a plain clustering splits by income and misses the groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BAND_INCOMES = (25_000.0, 55_000.0, 95_000.0)  # median income of each band
BAND_SPEND = (150.0, 700.0, 3_000.0)  # median total spend of each band
WINE_SHARES = (0.65, 0.30)  # of spend, per planted group: 35 points apart
WEB_SHARES = (0.70, 0.25)  # of purchases, per planted group


def income_bands(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """``n`` customers in three income bands of equal size, two planted groups in each.

    ``frame.attrs["band"]`` is each row's band (0 low to 2 high), ``frame.attrs["planted"]``
    its group within the band (0 or 1), ``frame.attrs["group"]`` the two together (0..5).
    """
    rng = np.random.default_rng(seed)
    band = rng.permutation(np.arange(n) % 3)
    group = rng.integers(0, 2, n)
    # Incomes never cross bands: each band's spread stays inside its own third.
    income = np.asarray(BAND_INCOMES)[band] * rng.uniform(0.85, 1.15, n)
    total = np.asarray(BAND_SPEND)[band] * rng.lognormal(0.0, 0.15, n)
    wine_share = np.clip(np.asarray(WINE_SHARES)[group] + rng.normal(0, 0.04, n), 0.05, 0.95)
    purchases = np.asarray((6.0, 12.0, 20.0))[band] + rng.integers(0, 3, n)
    web = np.round(purchases * np.clip(np.asarray(WEB_SHARES)[group]
                                       + rng.normal(0, 0.05, n), 0.05, 0.95))
    frame = pd.DataFrame({
        "ID": np.arange(1, n + 1),
        "Income": np.round(income),
        "MntWines": np.round(total * wine_share),
        "MntMeatProducts": np.round(total * (1 - wine_share)),
        "NumWebPurchases": web.astype(int),
        "NumStorePurchases": (purchases - web).astype(int),
        "Recency": rng.integers(0, 100, n),
    })
    frame.attrs.update(band=band, planted=group, group=band * 2 + group)
    return frame
