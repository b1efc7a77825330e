"""AppTest: the home page shows the run's own summary, its verdict and its table."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT
from ui.flow import md

APP_TIMEOUT = 180


def test_home_shows_the_run_summary(sample_result):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT).run()
    assert not at.exception
    summary = sample_result.summary()
    assert md(summary.verdict) in [c.value for c in at.caption]
    shown = next(d.value for d in at.dataframe if "Persona" in d.value.columns)
    assert list(shown.columns) == ["Segment", "Persona", "Customers", "Share"]
    labels = sample_result.segmentation.labels
    np.testing.assert_array_equal(shown["Customers"], np.bincount(labels))
    np.testing.assert_allclose(shown["Share"], np.bincount(labels) / labels.size, rtol=1e-12)
    assert shown["Persona"].tolist() == [p.name for p in sample_result.personas]
