"""The commands run with ``--engine spark``: the same outputs, computed by Spark.

pyspark is imported only inside these functions (through :mod:`segmentation.spark`), so the
local commands and ``--version`` never load it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from segmentation.cli.commands import refuse_overwriting
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS
from segmentation.errors import SegmentationError
from segmentation.export.assignments import ASSIGNMENT_COLUMNS

ASSIGNMENT_OUTPUT = (*ASSIGNMENT_COLUMNS, "distance", *TOP_DRIVER_COLUMNS)


def score(args) -> int:
    from segmentation.cluster.model import load_model
    from segmentation.spark.output import read_back, write_table
    from segmentation.spark.score import SparkScores, account_text, score_spark
    from segmentation.spark.session import spark_session

    if "://" not in args.out:
        refuse_overwriting(args.out, [args.input, args.model])
    model = load_model(args.model)
    spark = spark_session(args.spark_master)
    scores = score_spark(spark, args.input, model)
    path = write_table(scores.assignments.select(*ASSIGNMENT_OUTPUT), args.out, order_by="line")
    # counted from the file written, not by running the whole plan a second time
    print(f"{account_text(*SparkScores(read_back(spark, path)).account())} Wrote {path}")
    return 0


def aggregate(args, source, reference_date: str | None) -> int:
    """Total the order lines per customer in Spark, by the local engine's definitions."""
    from segmentation.cli.commands import write_log
    from segmentation.data.orders import parse_map
    from segmentation.spark.orders import aggregate_log_spark
    from segmentation.spark.session import spark_session

    mapping = parse_map(args.map)
    spark = spark_session(args.spark_master)
    return write_log(aggregate_log_spark(spark, source, mapping, reference_date), args.out)


def run(args) -> int:
    """Fit and choose K on a seeded sample (everything when smaller) exactly as a local run,
    then score and profile every customer in Spark."""
    import tempfile
    from argparse import Namespace

    from segmentation.cli.commands import COMMANDS
    from segmentation.cluster.model import load_model
    from segmentation.export.outputs import write_csv
    from segmentation.spark.output import read_back, write_table
    from segmentation.spark.profiles import segment_profiles
    from segmentation.spark.sample import draw_sample
    from segmentation.spark.score import SparkScores, account_text, score_spark
    from segmentation.spark.session import spark_session

    if args.sample_size < 1:
        raise SegmentationError(
            f"--sample-size must be a positive number of customers, not {args.sample_size}.")
    if args.method != "kmeans" or args.strata:
        raise SegmentationError(
            "run --engine spark scores every customer by the nearest k-means centre: leave out "
            "--method and --strata, or run on one machine without --engine spark.")
    if args.input_kind == "transactions":
        raise SegmentationError(
            "run --engine spark segments a customer table, and a sample of order lines would "
            "split customers: total the log first with 'python -m segmentation aggregate'.")
    out = Path(args.out)
    spark = spark_session(args.spark_master)
    with tempfile.TemporaryDirectory(prefix=".sample.", dir=out.parent if out.parent.exists()
                                     else None) as folder:
        sample = draw_sample(spark, args.input, args.sample_size, args.seed, Path(folder))
        if sample.path is not None:
            print(f"Sample: {sample.rows:,} of {sample.total:,} lines, seed {args.seed}.")
        local = Namespace(**{**vars(args), "engine": "local",
                             "input": str(sample.path or args.input)})
        COMMANDS["run"](local)
    model = load_model(out / "model.json")
    profiles_path = out / "profiles.csv"
    local_profiles = pd.read_csv(profiles_path)
    profiled = tuple(c.removeprefix("mean_") for c in local_profiles.columns
                     if c.startswith("mean_"))
    scores = score_spark(spark, args.input, model, profiled=profiled)
    wide = scores.assignments.persist()
    try:
        path = write_table(wide.select(*ASSIGNMENT_OUTPUT), out / "assignments.parquet")
        table = segment_profiles(SparkScores(wide, scores.profiled), len(model.centers))
    finally:
        wide.unpersist()
    write_csv(_merged(local_profiles, table), profiles_path)
    counted = SparkScores(read_back(spark, path)).account()
    print(f"Every customer in Spark: {account_text(*counted)} Wrote {path} and {profiles_path}")
    left = [n for n in profiled if n not in scores.profiled]
    if left and sample.path is not None:
        print(f"note: {', '.join(left)} are profiled on the sample (no Spark form).",
              file=sys.stderr)
    return 0


def _merged(local: pd.DataFrame, spark: pd.DataFrame) -> pd.DataFrame:
    """The local profile table with every figure Spark computed over all customers."""
    spark = spark.set_index("segment")
    merged = local.set_index("segment")
    for column in spark.columns:
        if column in merged.columns:
            merged[column] = spark[column].reindex(merged.index)
    return merged.reset_index()
