"""Reading a customer file in Spark and typing its columns as the local reader does.

The local reader (:mod:`segmentation.data.customer_file`, :mod:`segmentation.data.dataset`)
decides a few things per file (delimiter, decimal mark, day or month first); here they are
decided from a sample or one aggregation pass, and every cell is then typed by a Spark SQL
expression, so no row goes through a Python worker.
"""

from __future__ import annotations

import errno
import glob
import os
from pathlib import Path

import pandas as pd

from segmentation.config import ABSURD_MAGNITUDE
from segmentation.data.customer_file import (
    _ARROW_COMMA_DECIMAL,
    _ARROW_CURRENCY,
    _ARROW_DOT_DECIMAL,
    _WHITESPACE,
    MISSING_MARKERS,
    _detect_decimal,
    _sniff_delimiter,
)
from segmentation.data.roles import _FALSE, _TRUE, BINARY_ROLES, CATEGORY_ROLES, NUMERIC_ROLES, Role
from segmentation.errors import SegmentationError

LINE = "__line"  # the input line of each row (the header is line 1), as the local reader counts
DECIMAL_SAMPLE_ROWS = 256  # the rows the local reader looks at to tell a decimal comma
BINARY_SHARE = 0.95  # a yes/no column is read as numbers below this share of yes/no cells
ISO_SHARE = 0.95  # a date column is ISO when this share of its cells reads as ISO
_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]"
_TEXT_FORMATS = (".csv", ".tsv", ".txt")


def input_files(source: str | Path) -> list[str]:
    """The files of ``source``: a file, a folder of Parquet or CSV files, or a glob pattern."""
    text = str(source)
    if "://" in text:  # object storage (s3a://, abfss://, gs://, hdfs://): Spark lists it
        return [text]
    path = Path(text)
    if path.is_dir():
        files = sorted(str(p) for p in path.iterdir()
                       if p.suffix.lower() in {".parquet", *_TEXT_FORMATS})
    elif any(ch in text for ch in "*?["):
        files = sorted(glob.glob(text))
    elif not path.is_file():
        # worded as the local reader words it
        raise SegmentationError(f"Cannot open {text!r} ({os.strerror(errno.ENOENT)}): check "
                                "the path and try again.")
    else:
        files = [text]
    if not files:
        raise SegmentationError(
            f"No customer file at {text!r}: give a Parquet or CSV file, a folder of them or a "
            "pattern such as 'customers_*.parquet'.")
    return files


def is_text(files: list[str]) -> bool:
    """Whether ``files`` are delimited text (by their names); otherwise they are Parquet."""
    return any(f.lower().rstrip("/*").endswith(_TEXT_FORMATS) for f in files)


def read_lines(spark, source: str | Path):
    """The rows of ``source`` with their input line in :data:`LINE`: text as text, Parquet
    columns as stored."""
    from pyspark.sql import functions as F

    files = input_files(source)
    if not is_text(files):
        frame = spark.read.parquet(*files)
    else:
        head = [r[0] for r in spark.read.text(files[0]).limit(50).collect()]
        separator = _sniff_delimiter([line for line in head if line.strip()])
        frame = (spark.read.option("header", True).option("sep", separator or ",")
                 .option("inferSchema", False).option("mode", "PERMISSIVE")
                 .option("encoding", "UTF-8").csv(files))
        frame = frame.toDF(*[c.lstrip("\ufeff") for c in frame.columns])
    return _numbered(frame.withColumn("__pid", F.spark_partition_id())
                     .withColumn("__mid", F.monotonically_increasing_id()))


def _numbered(frame):
    """Line numbers without a global sort: each partition's rows are numbered from the
    count of the partitions before it (monotonically increasing ids hold the partition in
    their upper bits and the row within it in the lower 33)."""
    from pyspark.sql import functions as F

    counts = sorted((r["__pid"], r["count"]) for r in frame.groupBy("__pid").count().collect())
    offsets, total = {}, 0
    for pid, count in counts:
        offsets[pid] = total
        total += count
    if not offsets:
        raise SegmentationError("The customer file has a header but no rows: export it again "
                                "with its customers.")
    start = F.create_map(*[x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))])
    within = F.col("__mid") - F.shiftleft(F.col("__pid").cast("long"), 33)
    return (frame.withColumn(LINE, F.element_at(start, F.col("__pid")) + within + 2)
            .drop("__pid", "__mid"))


def _stripped(column):
    """The cell as ``str.strip`` leaves it, missing markers as null."""
    from pyspark.sql import functions as F

    text = F.regexp_replace(column.cast("string"), f"^{_SPACE}+|{_SPACE}+$", "")
    return F.when(F.lower(text).isin(*MISSING_MARKERS), None).otherwise(text)


def _number(column, is_text: bool, decimal: str):
    """:func:`segmentation.data.customer_file.to_number`, absurd magnitudes missing."""
    from pyspark.sql import functions as F

    if is_text:
        token = F.regexp_replace(_stripped(column), _ARROW_CURRENCY, "")
        if decimal == ",":
            plain = F.regexp_replace(F.regexp_replace(token, r"\.", ""), ",", ".")
            value = F.when(token.rlike(_ARROW_COMMA_DECIMAL), plain.cast("double"))
        else:
            value = F.when(token.rlike(_ARROW_DOT_DECIMAL),
                           F.regexp_replace(token, ",", "").cast("double"))
    else:
        value = column.cast("double")
    # NaN compares above every number in Spark, so a stored NaN is missing here too
    return F.when(F.abs(value) < F.lit(ABSURD_MAGNITUDE), value)


def _binary(column, is_text: bool):
    from pyspark.sql import functions as F

    if not is_text:
        value = column.cast("double")
        return F.when(value.isin(0.0, 1.0), value)
    text = F.lower(_stripped(column))
    return F.when(text.isin(*_TRUE), 1.0).when(text.isin(*_FALSE), 0.0)


def _category(column, is_text: bool):
    """Category values as text; whole numbers stored as numbers lose their ".0"."""
    from pyspark.sql import functions as F

    if is_text:
        return _stripped(column)
    value = column.cast("double")
    return (F.when(value == F.floor(value), value.cast("long").cast("string"))
            .otherwise(column.cast("string")))


def _date_parts(column, is_text: bool):
    """The ISO reading of a date cell, and its day-first and month-first readings."""
    from pyspark.sql import functions as F

    if not is_text:
        ts = column.cast("timestamp")
        return ts, ts, ts
    text = _stripped(column)
    iso = text.try_cast("timestamp")

    def parsed(order: str):
        return F.coalesce(*[F.try_to_timestamp(text, F.lit(order.replace("-", sep)))
                            for sep in "-/."])
    return iso, parsed("d-M-yyyy"), parsed("M-d-yyyy")


def type_columns(frame, roles: dict[str, str], id_column: str | None, numeric: set[str]):
    """``frame`` with ``__id`` (the customer id as text, or ``row_<line>``) and each column of
    ``roles`` typed by its role: numbers as doubles, yes/no as 1.0/0.0, dates as timestamps,
    categories as text. Columns in ``numeric`` are typed as numbers whatever their role (a
    leak column that the model checks for implausible values)."""
    from pyspark.sql import functions as F

    kinds = dict(frame.dtypes)
    text = {c: kinds[c] == "string" for c in kinds}
    decimal = _decimal(frame, [c for c in roles if c in kinds and text[c]])
    decisions = _column_decisions(frame, roles, text)
    out = [F.col(LINE)]
    if id_column is not None and id_column in kinds:
        ids = (_category(F.col(id_column), False) if not text[id_column]
               else F.regexp_replace(F.col(id_column), f"^{_SPACE}+|{_SPACE}+$", ""))
        out.append(F.when(ids != "", ids).alias("__id"))
    else:
        out.append(F.concat(F.lit("row_"), F.col(LINE).cast("string")).alias("__id"))
    for col, role in roles.items():
        if col not in kinds or col == id_column:
            continue
        c, is_text = F.col(col), text[col]
        if role in NUMERIC_ROLES or col in numeric:
            typed = _number(c, is_text, decimal)
        elif role in BINARY_ROLES:
            typed = (_binary(c, is_text) if decisions.get(col, True)
                     else _number(c, is_text, decimal))
        elif role in {Role.SIGNUP_DATE, Role.DATE}:
            iso, day_first, month_first = _date_parts(c, is_text)
            typed = iso if decisions[col] == "iso" else (
                month_first if decisions[col] == "month" else day_first)
        elif role in CATEGORY_ROLES:
            typed = _category(c, is_text)
        else:
            continue
        out.append(typed.alias(col))
    return frame.select(*out)


def _decimal(frame, text_columns: list[str]) -> str:
    if not text_columns:
        return "."
    rows = frame.select(*text_columns).limit(DECIMAL_SAMPLE_ROWS).collect()
    sample = pd.DataFrame([tuple(r) for r in rows], columns=text_columns, dtype=object)
    return _detect_decimal(sample)


def _column_decisions(frame, roles: dict[str, str], text: dict[str, bool]) -> dict:
    """What the local reader decides per column, from one aggregation over the file: whether
    a yes/no column is yes/no, and whether dates are ISO, day-first or month-first."""
    from pyspark.sql import functions as F

    aggs, names = [], []
    for col, role in roles.items():
        if col not in text or not text[col]:
            continue
        if role in BINARY_ROLES:
            present = F.count(_stripped(F.col(col)))
            aggs.append((F.count(_binary(F.col(col), True)) >= present * BINARY_SHARE)
                        .alias(f"b{len(names)}"))
            names.append((col, "binary"))
        elif role in {Role.SIGNUP_DATE, Role.DATE}:
            iso, _, _ = _date_parts(F.col(col), True)
            cell = _stripped(F.col(col))
            second = F.regexp_extract(cell, r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", 2)
            aggs += [(F.count(iso) >= F.count(cell) * ISO_SHARE).alias(f"i{len(names)}"),
                     F.max(F.when(second != "", second.cast("int"))).alias(f"m{len(names)}")]
            names.append((col, "date"))
    if not aggs:
        return {}
    row = frame.agg(*aggs).first()
    out: dict[str, object] = {}
    for i, (col, what) in enumerate(names):
        if what == "binary":
            out[col] = bool(row[f"b{i}"])
        else:
            month = row[f"m{i}"]
            out[col] = "iso" if row[f"i{i}"] else (
                "month" if month is not None and month > 12 else "day")
    return out
