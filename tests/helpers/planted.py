"""Customer tables with planted shapes that suit one clustering method more than another.

Each generator is deterministic for its ``n`` and ``seed`` and returns the frame (an id
column and float measures, plus a text category where stated) and the true group of each
row (-1 for planted noise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.data.customer_file import read_table
from segmentation.data.dataset import load_dataset
from segmentation.prepare.features import FeatureMatrix, PrepConfig, prepare
from tests.helpers.shapes import to_bytes


def _frame(X: np.ndarray, **extra) -> pd.DataFrame:
    return pd.DataFrame({"customer": np.arange(1, len(X) + 1),
                         "alpha": X[:, 0].round(4), "beta": X[:, 1].round(4), **extra})


def ellipses(n: int = 600, seed: int = 0, gap: float = 2.5) -> tuple[pd.DataFrame, np.ndarray]:
    """Two long parallel ellipses along the diagonal, ``gap`` apart across it.

    Each is ten times longer than it is wide, so k-means, which wants round groups, cuts
    across both; a full-covariance mixture follows them.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    t = rng.normal(0, 3, n)
    across = rng.normal(0, 0.3, n) + np.where(truth == 1, gap, 0.0)
    return _frame(np.c_[t, t + across]), truth


def blobs(n: int = 600, seed: int = 0, spread: float = 0.6) -> tuple[pd.DataFrame, np.ndarray]:
    """Three round groups of unequal size, their centres 6 apart (10 spreads)."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, n, p=[0.45, 0.33, 0.22])
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return _frame(centres[truth] + rng.normal(0, spread, (n, 2))), truth


def blobs_with_noise(n: int = 540, n_noise: int = 60, seed: int = 1,
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`blobs` plus ``n_noise`` customers spread uniformly over a box around them."""
    frame, truth = blobs(n, seed)
    rng = np.random.default_rng(seed + 1)
    noise = rng.uniform(-4.0, 10.0, (n_noise, 2))
    X = np.vstack([frame[["alpha", "beta"]].to_numpy(), noise])
    return _frame(X), np.r_[truth, np.full(n_noise, -1)]


def mixed_groups(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two groups told apart by two measures (means two within-group spreads apart) and two
    categories whose value follows the group nine times in ten."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(2, n, p=[0.6, 0.4])
    X = rng.normal(0, 1, (n, 2)) + truth[:, None] * 2.0

    def follows(values: tuple[str, str]) -> np.ndarray:
        own = rng.random(n) < 0.9
        return np.where(own == (truth == 0), values[0], values[1])

    return _frame(X, plan=follows(("basic", "premium")),
                  region=follows(("north", "south"))), truth


def features_of(frame: pd.DataFrame, features: tuple[str, ...] = ("alpha", "beta"),
                ) -> FeatureMatrix:
    """The frame read as a file and prepared on ``features`` (z-scored)."""
    return prepare(load_dataset(read_table(to_bytes(frame))), PrepConfig(features=features))
