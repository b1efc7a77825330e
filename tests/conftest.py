"""Shared fixtures: the bundled sample, the real public export (when present), planted data."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import REAL_PATH, SAMPLE_PATH, planted_customers
from tests.helpers.markers import FIXTURE_MARKERS, module_markers


def pytest_collection_modifyitems(config, items):
    cache: dict[str, list[str]] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is None:
            continue
        if module.__name__ not in cache:
            cache[module.__name__] = module_markers(module)
        for marker in cache[module.__name__]:
            item.add_marker(marker)
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(scope="module", autouse=True)
def _freeze_long_lived_objects():
    """Move everything alive when a test module starts out of the garbage collector's sight.

    The imported libraries hold hundreds of thousands of objects that live for the whole
    session, and every full collection walks them all again; statsmodels' Holm correction
    calls ``gc.collect()`` on each use, which made one A/B analysis cost half a second late
    in a run. Freezing at each module, not once, also covers libraries imported lazily by an
    earlier module (PyMC-Marketing's). Each collection here only walks what the previous
    module left, and objects created by the tests themselves are still collected as usual.
    """
    gc.collect()
    gc.freeze()
    yield
    # Pages start bootstraps in the background of this process; a module must not leave
    # them computing while later modules (the browser journeys above all) run.
    cache = sys.modules.get("ui.cache")
    if cache is not None:
        cache.stop_background_work()


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE_PATH


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    return SAMPLE_PATH.read_bytes()


@pytest.fixture(scope="session")
def sample_result():
    """The default segmentation of the bundled sample, computed once per session."""
    from segmentation import run

    return run(SAMPLE_PATH)


@pytest.fixture(scope="session")
def real_path() -> Path:
    if not REAL_PATH.exists():
        pytest.skip(f"the public marketing_campaign.csv is not at {REAL_PATH}; "
                    "these checks run where it is")
    return REAL_PATH


@pytest.fixture(scope="session")
def real_result(real_path):
    """The default segmentation of the public export, computed once per session."""
    from segmentation import run

    return run(real_path)  # no options at all


@pytest.fixture
def planted() -> pd.DataFrame:
    return planted_customers()
