"""One version number: the package, the run summary and the project metadata agree."""

from __future__ import annotations

import tomllib

import segmentation
from segmentation import _version
from segmentation.export.outputs import _versions
from tests.helpers import ROOT


def test_the_version_is_defined_once_and_read_everywhere():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert segmentation.__version__ is _version.__version__
    assert _versions()["segmentation"] == _version.__version__
    # pyproject.toml states the number statically; this keeps the two from drifting.
    assert declared["project"]["version"] == _version.__version__
