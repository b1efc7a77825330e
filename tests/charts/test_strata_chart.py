"""The per-stratum K chart, drawn from a StrataFit table without a browser."""

from __future__ import annotations

import numpy as np
import pandas as pd

from charts.strata import stratum_k_chart


def test_each_stratum_is_a_bar_of_its_silhouette_labelled_with_its_k():
    table = pd.DataFrame({"stratum": ["Low Income", "<b>North</b>", "Islands"],
                          "customers": [300, 280, 40], "k": [2, 3, 1],
                          "silhouette": [0.55, 0.21, np.nan], "stability": [1.0, 0.8, np.nan],
                          "reason": ["", "", ""]})
    fig = stratum_k_chart(table)
    bar = fig.data[0]
    assert list(bar.x) == ["Low Income", "&lt;b&gt;North&lt;/b&gt;", "Islands"]
    np.testing.assert_allclose(bar.y, [0.55, 0.21, 0.0])
    assert list(bar.text) == ["K = 2", "K = 3", "1 segment"]
