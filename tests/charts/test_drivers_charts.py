"""The drivers chart and the ablation table's headers, from tidy frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from charts.drivers import PROFILED_OPACITY, ROLE_COLORS, ablation_frame, drivers_chart


def drivers_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "variable": ["Income", "share_wine", "age", "flat", "<b>x</b>"],
        "label": ["Income", "Wine share", "Age", "Flat", "<b>x</b>"],
        "role": ["demographic", "behaviour", "demographic", "other", "money"],
        "clustered": [True, False, True, True, False],
        "eta2": [0.78, 0.30, 0.05, np.nan, 0.5],
    })


def test_bars_are_ranked_coloured_by_role_and_pale_when_only_profiled():
    fig = drivers_chart(drivers_frame())
    bars = {y: (trace.marker.color, trace.marker.opacity, x, text)
            for trace in fig.data for y, x, text in zip(trace.y, trace.x, trace.text,
                                                         strict=True)}
    assert "Flat" not in bars  # a constant variable has no share to rank
    assert list(fig.layout.yaxis.categoryarray) == ["Age", "Wine share", "&lt;b&gt;x&lt;/b&gt;",
                                                   "Income"]  # largest on top
    assert bars["Income"] == (ROLE_COLORS["demographic"], 1.0, 0.78, "78%")
    assert bars["Wine share"][:2] == (ROLE_COLORS["behaviour"], PROFILED_OPACITY)
    assert fig.layout.xaxis.tickformat == ".0%"


def test_top_limits_the_bars_to_the_largest():
    fig = drivers_chart(drivers_frame(), top=2)
    assert sorted(y for trace in fig.data for y in trace.y) == ["&lt;b&gt;x&lt;/b&gt;", "Income"]


def test_the_ablation_table_is_shown_with_plain_headers():
    table = pd.DataFrame({"variable": ["noise"], "label": ["Noise"], "ari": [0.99],
                          "profile_change": [0.01], "droppable": [True]})
    shown = ablation_frame(table)
    assert list(shown.columns) == ["Variable left out", "Agreement with all variables (ARI)",
                                   "Profile change (mean |Δz|)", "Barely changes"]
    assert shown.iloc[0].tolist() == ["Noise", 0.99, 0.01, True]
