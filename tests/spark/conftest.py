"""One local Spark session for every Spark test (a session takes seconds to start)."""

from __future__ import annotations

import pytest

from tests.helpers.spark import require_spark


@pytest.fixture(scope="session")
def spark():
    require_spark()
    from segmentation.spark.session import spark_session

    # Two cores, a few shuffle partitions, no web UI: small data, quick tasks. The
    # commands run in this process find this session active and use it.
    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "4",
                                         "spark.default.parallelism": "2"})
    yield session
    session.stop()
