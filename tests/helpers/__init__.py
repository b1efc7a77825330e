"""What the tests share besides fixtures: paths, planted data, message and download checks.

Fixtures live in ``tests/conftest.py``; everything a test module imports by name lives here, so
no test imports ``conftest`` (pytest owns that module and may load it under another name).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import RunConfig

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PATH = ROOT / "sample_data" / "marketing_campaign_sample.csv"
REAL_PATH = ROOT.parent / "shared" / "data" / "marketing_campaign.csv"

# The cheapest real run: K = 3 from a 2..3 sweep, one k-means start, no split-half check. For
# tests whose subject (files, row accounting, sheets) does not depend on how hard the
# clustering searched; ``dataclasses.replace`` it to vary a setting.
CHEAP = RunConfig(k=3, k_min=2, k_max=3, n_init=1, stability=False)


def assert_actionable(message: str) -> None:
    """One sentence, no traceback: what is wrong, a colon, then what to do."""
    assert "\n" not in message
    assert "Traceback" not in message
    assert message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), f"more than one sentence: {message}"
    what, colon, todo = message[:-1].partition(": ")
    assert colon and what.strip() and todo.strip(), f"no 'problem: remedy' in {message!r}"


def planted_customers(n: int = 600, seed: int = 0, separation: float = 4.0) -> pd.DataFrame:
    """A small Kaggle-shaped table with three well-separated customer types.

    Type 0 spends big on wine and meat, type 1 is a low-income family on
    deals, type 2 buys gold on the web. ``separation`` scales the gap
    between the types (in within-type standard deviations).
    """
    rng = np.random.default_rng(seed)
    kind = np.arange(n) % 3
    rng.shuffle(kind)
    s = separation

    def col(means, sd):
        return np.round(np.maximum(np.asarray(means, float)[kind] + rng.normal(0, sd, n), 0))

    frame = pd.DataFrame({
        "ID": [f"C{i:05d}" for i in range(n)],
        "Year_Birth": col([1965, 1985, 1975], 3 * s / 4).astype(int),
        "Education": np.array(["PhD", "Basic", "Graduation"])[kind],
        "Marital_Status": np.array(["Married", "Together", "Single"])[kind],
        "Income": col([85000, 30000, 55000], 2500 * s / 4),
        "Kidhome": np.array([0, 2, 0])[kind],
        "Teenhome": np.array([0, 1, 0])[kind],
        "Dt_Customer": pd.Timestamp("2013-01-01") + pd.to_timedelta(
            rng.integers(0, 500, n), unit="D"),
        "Recency": col([30, 45, 35], 5),
        "MntWines": col([900, 20, 100], 60 * s / 4),
        "MntFruits": col([40, 5, 20], 5),
        "MntMeatProducts": col([600, 15, 60], 50 * s / 4),
        "MntFishProducts": col([80, 5, 30], 8),
        "MntSweetProducts": col([50, 5, 30], 6),
        "MntGoldProds": col([40, 5, 300], 25 * s / 4),
        "NumDealsPurchases": col([1, 8, 2], 1),
        "NumWebPurchases": col([4, 3, 10], 1),
        "NumCatalogPurchases": col([8, 0, 2], 1),
        "NumStorePurchases": col([10, 3, 4], 1),
        "NumWebVisitsMonth": col([2, 8, 5], 1),
        "Response": (rng.random(n) < np.array([0.4, 0.05, 0.15])[kind]).astype(int),
        "Z_CostContact": 3,
    })
    frame["Dt_Customer"] = frame["Dt_Customer"].dt.strftime("%d-%m-%Y")
    frame.attrs["planted"] = kind
    return frame


def to_tsv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(sep="\t", index=False).encode("utf-8")


def capture_downloads():
    """Record every download button's deferred file callable as the app registers it.

    Returns the monkeypatch (undo it when done) and ``{file_id: callable}``: the
    Export page's files are built on click, so tests call the callables themselves.
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    mp = pytest.MonkeyPatch()
    captured: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        captured[file_id] = data_callable
        return file_id

    mp.setattr(MediaFileManager, "add_deferred", capture)
    return mp, captured

