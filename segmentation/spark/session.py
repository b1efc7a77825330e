"""The one Spark session a command runs in, with one sentence when Spark cannot start."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from segmentation.errors import SegmentationError

# java_found is also how the test suite decides to skip the Spark tests.
__all__ = ["NO_JAVA", "NO_PYSPARK", "java_found", "spark_session"]

NO_PYSPARK = ("The Spark engine needs pyspark, which is not installed: add it with "
              "'pip install -r requirements-spark.txt' (or drop --engine spark).")
NO_JAVA = ("The Spark engine needs a Java runtime (17 or 21), and none was found on the PATH "
           "or in JAVA_HOME: install one (e.g. 'apt-get install openjdk-17-jre-headless') "
           "or set JAVA_HOME.")
# pyspark warns that its pandas UDFs do not support pandas 3; this engine runs none (Spark
# SQL expressions only), so the warning would only alarm.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                        category=FutureWarning)
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
LOCAL_MASTER = "local[*]"  # every core of this machine, when no cluster is named
APP_NAME = "segmentation"
# Spark's default of 200 shuffle partitions is sized for clusters; on one machine a few
# per core keep the per-task overhead below the work.
LOCAL_SHUFFLE_PARTITIONS = 8


def java_found() -> bool:
    """Whether a ``java`` executable is on the PATH or under ``JAVA_HOME``."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return True
    return shutil.which("java") is not None


def spark_session(master: str | None = None, config: dict[str, str] | None = None):
    """The active Spark session, or a new one on ``master`` (default: this machine).

    Under ``spark-submit`` the session the submit configured (its master, memory,
    packages) is picked up as it is; ``master`` only applies when no cluster was named.

    Raises
    ------
    SegmentationError
        When pyspark is not installed or no Java runtime can be found.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SegmentationError(NO_PYSPARK) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        _quiet_codegen(active)
        return active
    if not java_found():
        raise SegmentationError(NO_JAVA)
    builder = SparkSession.builder.appName(APP_NAME).config(
        "spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={LOG_CONFIG.as_uri()}")
    # spark-submit hands its settings over as system properties of the JVM it started,
    # announced to Python by this variable: a master named there wins.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if master or not submitted:
        builder = builder.master(master or LOCAL_MASTER)
    if not submitted and (master or LOCAL_MASTER).startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
        builder = builder.config("spark.ui.enabled", "false")
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: its first line says why
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise SegmentationError(
            f"Spark could not start ({first}): check the Java runtime and --spark-master."
        ) from None
    session.sparkContext.setLogLevel("ERROR")  # the command's own lines are what it prints
    _quiet_codegen(session)
    return session


CODEGEN_LOGGER = "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator"


def _quiet_codegen(session) -> None:
    """No compiler stack trace when a stage outgrows one generated method: Spark then runs
    it without whole-stage code generation (spark.sql.codegen.fallback), correctly. Set on
    the JVM too, for a session spark-submit started with its own logging settings."""
    try:
        jvm = session.sparkContext._jvm
        level = jvm.org.apache.logging.log4j.Level.OFF
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(CODEGEN_LOGGER, level)
    except Exception:  # noqa: BLE001 - a logging nicety, never a reason to fail
        return
