"""Every segment's size, shares, means and medians over all customers, in Spark."""

from __future__ import annotations

import pandas as pd

from segmentation.spark.score import VALUE, SparkScores


def segment_profiles(scores: SparkScores, n_clusters: int) -> pd.DataFrame:
    """The profile table (:meth:`segmentation.describe.profiles.Profiles.table` columns) of the
    segmented customers of ``scores``, for the variables in ``scores.profiled``.

    Means skip missing values and medians interpolate as ``numpy.median`` does (Spark's
    exact ``percentile``), so on the same customers the figures are the local engine's.
    """
    from pyspark.sql import functions as F

    segmented = scores.assignments.where(F.col("segment").isNotNull())
    aggs = [F.count("*").alias("size")]
    for name in scores.profiled:
        col = F.col(f"`{VALUE}{name}`")
        aggs += [F.avg(col).alias(f"mean_{name}"),
                 F.percentile(col, F.lit(0.5)).alias(f"median_{name}")]
    if "total_spend" in scores.profiled:
        aggs.append(F.sum(F.coalesce(F.col(f"`{VALUE}total_spend`"), F.lit(0.0)))
                    .alias("revenue"))
    rows = segmented.groupBy("segment").agg(*aggs).collect()
    table = pd.DataFrame([r.asDict() for r in rows]).set_index("segment")
    table = table.reindex(range(n_clusters))
    table["size"] = table["size"].fillna(0).astype(int)
    table["share"] = table["size"] / table["size"].sum()
    if "revenue" in table:
        total = table["revenue"].sum()
        table["revenue_share"] = table["revenue"] / total if total > 0 else float("nan")
        table = table.drop(columns="revenue")
    return table.rename_axis("segment").reset_index()
