"""Writing Spark results: Parquet folders for every customer, or one CSV file."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from segmentation.errors import SegmentationError


def write_table(frame, out: str | Path, order_by: str | None = None) -> Path:
    """Write ``frame`` to ``out``: one CSV file when ``out`` ends in ``.csv`` (rows in
    ``order_by`` order, as the local engine writes them), otherwise a folder of Parquet
    files (written in parallel, replacing the folder).

    Returns the path written. A CSV file is assembled in a folder beside ``out`` and moved
    in when complete, so a failed write leaves ``out`` as it was.
    """
    if "://" in str(out):  # object storage: Spark writes there itself, a folder of parts
        writer = frame.write.mode("overwrite")
        if str(out).lower().endswith(".csv"):
            writer.option("header", True).csv(str(out))
        else:
            writer.parquet(str(out))
        return out
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() != ".csv":
            frame.write.mode("overwrite").parquet(str(out))
            return out
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            ordered = frame.orderBy(order_by) if order_by else frame
            (ordered.coalesce(1).write.mode("overwrite").option("header", True)
             .option("emptyValue", "").csv(str(staging / "csv")))
            part = next((staging / "csv").glob("part-*.csv"))
            part.replace(out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write {str(out)!r} ({exc.strerror}): choose another file name."
        ) from None
    return out


def read_back(spark, path):
    """A table :func:`write_table` wrote, for counting without recomputing it."""
    if str(path).lower().endswith(".csv"):
        return spark.read.option("header", True).csv(str(path))
    return spark.read.parquet(str(path))
