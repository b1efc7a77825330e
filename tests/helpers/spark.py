"""Whether the Spark tests can run here: skipped with the reason, but never under CI."""

from __future__ import annotations

import importlib.util

from tests.helpers.needs import skip_or_fail


def require_spark() -> None:
    """Skip (fail under CI, which installs both) when pyspark or a Java runtime is missing."""
    from segmentation.spark.session import java_found

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install -r requirements-spark.txt)")
    if not java_found():
        missing.append("a Java runtime (Debian package openjdk-17-jre-headless)")
    if missing:
        skip_or_fail("the Spark tests", f"{' and '.join(missing)} not installed")


def collect(frame):
    """A small Spark frame as pandas, row by row (no pandas conversion inside pyspark)."""
    import pandas as pd

    return pd.DataFrame([row.asDict() for row in frame.collect()], columns=frame.columns)
