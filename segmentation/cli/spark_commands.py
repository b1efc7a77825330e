"""The commands run with ``--engine spark``: the same outputs, computed by Spark.

pyspark is imported only inside these functions (through :mod:`segmentation.spark`), so the
local commands and ``--version`` never load it.
"""

from __future__ import annotations

from segmentation.cli.commands import refuse_overwriting


def score(args) -> int:
    from segmentation.cluster.model import load_model
    from segmentation.spark.output import read_back, write_table
    from segmentation.spark.score import SparkScores, account_text, score_spark
    from segmentation.spark.session import spark_session

    refuse_overwriting(args.out, [args.input, args.model])
    model = load_model(args.model)
    spark = spark_session(args.spark_master)
    scores = score_spark(spark, args.input, model)
    path = write_table(scores.assignments, args.out, order_by="line")
    # counted from the file written, not by running the whole plan a second time
    print(f"{account_text(*SparkScores(read_back(spark, path)).account())} Wrote {path}")
    return 0
