"""What to do when a suite's outside tools are missing: skip here, fail under CI."""

from __future__ import annotations

import os

import pytest


def skip_or_fail(suite: str, reason: str) -> None:
    """Skip with ``reason``; under CI (``CI=true``), which installs everything, fail instead.

    ``suite`` names what must run, e.g. "the Spark tests".
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"{suite} must run under CI, but {reason}")
    pytest.skip(reason)
