"""Customer segmentation: from a customer export or an order log to named, profiled segments.

The engine behind the studio app and the ``python -m segmentation`` command line. It never
imports streamlit or plotting libraries; every stage is a function taking and returning
plain data (DataFrames and small frozen dataclasses).

In five lines::

    from segmentation import RunConfig, run
    result = run("customers.csv", RunConfig(random_state=7))   # K chosen for you
    print(result.summary())            # K and why; each segment's persona, size, share
    result.segmentation.labels         # each customer's segment, in the dataset's order
    result.profiles.means              # what each segment looks like

The stages live in subpackages, in the order data flows through them:

``data``      reading files, what each column means, one record per customer, order logs
``prepare``   variables, missing values, outliers, scaling
``cluster``   k-means, the choice of K, the saved model, RFM
``describe``  profiles, persona names, carrying names across runs, exploration frames
``validate``  stability and migration between runs
``plan``      value, A/B tests, campaign results, the bandit simulation, sign-up prediction
``export``    safe cells, the assignments file, strategy sheets, the bundle
``cli``       the command line (depends on the engine and the report, never the reverse)

Thresholds and defaults, each with its reason, are in :mod:`segmentation.config`.
"""

from typing import TYPE_CHECKING

from segmentation._version import __version__ as __version__  # public outside __all__

if TYPE_CHECKING:  # what type checkers and readers see; at run time, see __getattr__
    from segmentation.cluster.model import score
    from segmentation.data.customer_file import read_table
    from segmentation.errors import SegmentationError
    from segmentation.export.bundle import load_bundle
    from segmentation.pipeline import RunConfig, SegmentationResult, run

# Each public name and the module it lives in, imported on first use (PEP 562): the
# command line's --version and --help, and a script needing only one stage, then skip
# scikit-learn, pyarrow and pydantic, which take over a second to import.
_LAZY = {
    "RunConfig": "segmentation.pipeline",
    "SegmentationError": "segmentation.errors",
    "SegmentationResult": "segmentation.pipeline",
    "load_bundle": "segmentation.export.bundle",
    "read_table": "segmentation.data.customer_file",
    "run": "segmentation.pipeline",
    "score": "segmentation.cluster.model",
}

__all__ = ["RunConfig", "SegmentationError", "SegmentationResult", "load_bundle", "read_table",
           "run", "score"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'segmentation' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
