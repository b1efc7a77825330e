"""An order log totalled per customer in Spark SQL, by the definitions the local engine uses.

The per-customer figures, the reasons a line is left out and the date and decimal decisions
all come from :mod:`segmentation.data.orders`; only the SQL dialect differs, so the two
engines cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from segmentation.data.orders import (
    SPARK,
    OrderLog,
    _aggregation_sql,
    _check_mapping,
    _collect,
    _date_format,
    _decimal_of,
    _encoding,
    _is_many,
    _paths,
    _Query,
    detect_mapping,
)
from segmentation.errors import SegmentationError

# As many rows as the local engine looks at to map the columns and tell the decimal mark,
# and as many dates as it tries each format on: the same sample, the same decisions.
MAPPING_SAMPLE_ROWS = 2000
DATE_SAMPLE_ROWS = 20000
CACHED_VIEWS = ("typed", "orders", "customers")


def aggregate_log_spark(spark, source, mapping: dict[str, str] | None = None,
                        reference_date: str | None = None) -> OrderLog:
    """Aggregate order lines to one row per customer in Spark, counting every line.

    Parameters
    ----------
    spark : SparkSession
    source : path, glob, folder or list of paths
        CSV or Parquet order lines (several files read as one log).
    mapping, reference_date
        As for :func:`segmentation.data.orders.aggregate_log`.

    Returns
    -------
    OrderLog
        The customer table (collected to the driver, one row per customer) and the account
        of every line, equal to the local engine's.

    Raises
    ------
    SegmentationError
        As the local engine: a missing file, a column that cannot be mapped, no line left.
    """
    paths, name = _files(source)
    lines = _read(spark, paths)
    columns = list(lines.columns)
    lines.createOrReplaceTempView("src")
    lines_read = lines.count()
    sample = _pandas(lines.limit(MAPPING_SAMPLE_ROWS))
    found = detect_mapping(sample)
    found.update({k: v for k, v in (mapping or {}).items() if v})
    _check_mapping(found, columns, name)
    date_format, date_note = _sample_date_format(lines, found["date"])
    decimal = _decimal_of(sample, found)
    sql = _aggregation_sql(found, date_format, decimal, reference_date, columns, SPARK)
    try:
        for statement in _statements(sql):
            spark.sql(statement)
        # Read by several of the queries that follow: computed once, not once per query.
        for table in CACHED_VIEWS:
            spark.catalog.cacheTable(table)
        try:
            return _collect(_Query(spark, SPARK), found, lines_read, (), date_note, decimal,
                            sql, name)
        finally:
            for table in CACHED_VIEWS:
                spark.catalog.uncacheTable(table)
    except SegmentationError:
        raise
    except Exception as exc:  # an analysis or execution error of Spark: its first line
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise SegmentationError(
            f"{name} could not be totalled per customer ({type(exc).__name__}: {first}): "
            "check the column mapping.") from None


def _files(source) -> tuple[list[Path], str]:
    """The files and the name the local engine gives them in its messages."""
    if not _is_many(source):
        from segmentation.spark.columns import input_files

        path = Path(input_files(source)[0])  # a missing file, worded as the local reader
        return [path], path.name
    paths = _paths(source)
    return paths, paths[0].name if len(paths) == 1 else f"{len(paths)} files"


def _read(spark, paths: list[Path]):
    """Every cell as text, as the local engine reads a log."""
    from pyspark.sql import functions as F

    from segmentation.data.customer_file import _sniff_delimiter

    if all(p.suffix.lower() == ".parquet" for p in paths):
        frame = spark.read.parquet(*map(str, paths))
        return frame.select(*[F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns])
    head = [r[0] for r in spark.read.text(str(paths[0])).limit(50).collect()]
    separator = _sniff_delimiter([line for line in head if line.strip()])
    frame = (spark.read.option("header", True).option("sep", separator or ",")
             .option("inferSchema", False).option("encoding", _encoding(paths[0]))
             .csv([str(p) for p in paths]))
    return frame.toDF(*[c.lstrip("\ufeff") for c in frame.columns])


def _sample_date_format(lines, column: str) -> tuple[str, str]:
    """The local engine's date decision, on the same first non-empty dates."""
    import duckdb
    from pyspark.sql import functions as F

    dates = (lines.select(F.col(f"`{column}`"))
             .where(F.col(f"`{column}`").isNotNull() & (F.trim(F.col(f"`{column}`")) != ""))
             .limit(DATE_SAMPLE_ROWS))
    con = duckdb.connect()
    try:
        con.register("src", _pandas(dates).astype("string"))
        return _date_format(con, column)
    finally:
        con.close()


def _pandas(frame) -> pd.DataFrame:
    """A small Spark frame as text columns in pandas (no pandas conversion inside pyspark)."""
    return pd.DataFrame.from_records([tuple(r) for r in frame.collect()],
                                     columns=frame.columns).astype("string")


def _statements(sql: str) -> list[str]:
    """The statements of a script, without its comment lines."""
    text = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in text.split(";") if part.strip()]
