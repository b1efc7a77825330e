"""Shared fixtures: the bundled sample, the real public export (when present), planted data."""

from __future__ import annotations

import gc
import inspect
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import REAL_PATH, SAMPLE_PATH, planted_customers

# What a test module holds at module level decides its speed class: the fast engine loop is
# `-m "not app and not browser and not spark"`. Judged from the objects themselves (where each imported
# class, function or module was defined), so a renamed file or helper cannot slip through.
MODULE_MARKERS = {
    "app": ("streamlit.testing",),  # Streamlit's AppTest: runs whole pages, seconds each
    "browser": ("tools.browser", "playwright"),  # a real Chromium and a running app
}
# Fixtures that make a test slow by nature: the Spark session starts a Java virtual machine.
FIXTURE_MARKERS = {"spark": "spark"}


def _origins(module) -> set[str]:
    """Dotted names of the modules that defined what ``module`` imported at its top level."""
    origins = set()
    for obj in vars(module).values():
        if inspect.ismodule(obj):
            origins.add(obj.__name__)
        elif inspect.isclass(obj) or inspect.isfunction(obj):
            origins.add(getattr(obj, "__module__", None) or "")
    return origins


def module_markers(module) -> list[str]:
    """The speed markers a test module earns from its imports (see ``MODULE_MARKERS``)."""
    origins = _origins(module)
    return [marker for marker, prefixes in MODULE_MARKERS.items()
            if any(o == p or o.startswith(p + ".") for o in origins for p in prefixes)]


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
