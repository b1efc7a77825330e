"""Shared fixtures: the bundled sample, the real public export (when present), planted data."""

from __future__ import annotations

import os

# Each pytest-xdist worker is one process, and the fast loop runs two on two cores: a
# library that starts threads of its own on top (OpenMP in scikit-learn's k-means, OpenBLAS
# under numpy) oversubscribes the cores, and their spin-waiting made a test that takes
# 0.16 s alone take 6 s in the loop. The engine's own fits already run on one thread
# (cluster/kmeans.py); this holds the tests' reference fits to one too. It must be set
# before numpy and scikit-learn load, so before the imports below.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import gc  # noqa: E402  (after the thread settings above)
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tests.helpers import REAL_PATH, SAMPLE_PATH, planted_customers  # noqa: E402
from tests.helpers.markers import (  # noqa: E402
    FIXTURE_MARKERS,
    engine_folder,
    folder_left_out,
    module_markers,
    scale_examples,
)


def pytest_addoption(parser):
    parser.addoption("--examples", type=float, default=1.0, metavar="SHARE",
                     help="share of each property test's hypothesis examples to run, e.g. "
                          "0.2 in the fast loop (default: all of them)")


def pytest_ignore_collect(collection_path, config):
    """Skip importing a test folder or top-level test file that ``-m`` leaves out anyway."""
    here = Path(__file__).parent
    if collection_path.parent == here and (collection_path.is_dir()
                                           or collection_path.name.startswith("test_")):
        return True if folder_left_out(collection_path.name, config.option.markexpr) else None
    return None


def pytest_collection_modifyitems(config, items):
    cache: dict[str, list[str]] = {}
    share = config.getoption("examples")
    if not 0 < share <= 1:
        raise pytest.UsageError(f"--examples {share} is not a share: use a number in (0, 1].")
    for item in items:
        scale_examples(getattr(item, "obj", None), share)
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
        if engine_folder(item.path):
            item.add_marker("engine")


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
