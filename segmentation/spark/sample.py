"""A seeded sample of a customer file, drawn in Spark, for the local engine to fit on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from segmentation.spark.columns import LINE, input_files, is_text, read_lines

__all__ = ["Sample", "draw_sample"]  # Sample is what draw_sample returns

# Bernoulli sampling draws about fraction x rows: asking for a little more and cutting to
# the size gives the full sample unless the draw falls 5 standard deviations short.
OVERDRAW = 1.05


@dataclass(frozen=True)
class Sample:
    """``path`` is the sample file, or None when the input is one file no larger than the
    sample (the local engine then reads it as it is)."""

    path: Path | None
    rows: int
    total: int


def draw_sample(spark, source, sample_size: int, seed: int, folder: Path) -> Sample:
    """Up to ``sample_size`` lines of ``source`` drawn with ``seed``, written into ``folder``
    in the input's own format (text stays text, so the local reader types it as usual)."""
    from pyspark.sql import functions as F

    files = input_files(source)
    lines = read_lines(spark, source)
    total = lines.agg(F.max(LINE)).first()[0] - 1
    if total <= sample_size and len(files) == 1:
        return Sample(path=None, rows=total, total=total)
    fraction = min(1.0, OVERDRAW * sample_size / total)
    drawn = (lines.sample(withReplacement=False, fraction=fraction, seed=seed)
             .orderBy(LINE).limit(sample_size).drop(LINE))
    parquet = not is_text(files)
    target = folder / "sample"
    writer = drawn.coalesce(1).write.mode("overwrite")
    if parquet:
        writer.parquet(str(target))
    else:
        writer.option("header", True).csv(str(target))
    part = next(p for p in sorted(target.iterdir()) if p.name.startswith("part-"))
    path = folder / ("sample.parquet" if parquet else "sample.csv")
    part.replace(path)
    return Sample(path=path, rows=_rows(spark, path), total=total)


def _rows(spark, path: Path) -> int:
    reader = spark.read.parquet if path.suffix == ".parquet" else \
        spark.read.option("header", True).csv
    return reader(str(path)).count()
