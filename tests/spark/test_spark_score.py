"""Spark scoring gives every customer the local engine's segment, with the same accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation import RunConfig, run, score
from segmentation.cluster.model import load_model
from segmentation.export.assignments import account
from segmentation.export.outputs import write_outputs
from segmentation.prepare.features import PrepConfig
from segmentation.spark.score import account_text, score_spark
from tests.helpers import CHEAP, SAMPLE_PATH, planted_customers
from tests.helpers.shapes import bank
from tests.helpers.spark import collect

CONFIGS = {
    "impute, clip": PrepConfig(),
    "robust, drop, exclude": PrepConfig(scaling="robust", missing="drop", outliers="exclude"),
    "log, keep, weights": PrepConfig(scaling="log", outliers="keep", weights=(("Income", 2.0),)),
    "composite": PrepConfig(features=("Income", "MntWines", "MntMeatProducts", "MntGoldProds",
                                      "NumWebPurchases"),
                            composites=(("MntWines", "MntMeatProducts"),)),
    "categories": PrepConfig(features=("Income", "age", "MntWines", "Education",
                                       "Marital_Status", "tenure_days", "children",
                                       "total_spend", "share_MntWines",
                                       "channel_share_NumWebPurchases")),
}


def dirty_customers() -> pd.DataFrame:
    """Planted customers with every reason a line is not scored, and gaps in categories."""
    frame = planted_customers(240, seed=8)
    frame.attrs = {}  # the planted labels are arrays, which pandas cannot compare on copies
    frame = frame.astype({"ID": object})
    frame.loc[[3, 17, 40], "Income"] = np.nan
    frame.loc[5, "Year_Birth"] = 1890  # implausible: clipped, or excluded
    frame.loc[6, "MntWines"] = -10
    frame.loc[[8, 9], "Education"] = np.nan
    frame.loc[11, "Marital_Status"] = "YOLO"  # a value the model never saw
    frame.loc[12, "ID"] = frame.loc[13, "ID"]  # a repeated id: the first line is kept
    frame.loc[14, "ID"] = ""  # no id
    return frame


def assert_same_scores(spark, path, model) -> None:
    local = score(path, model).assignments
    scores = score_spark(spark, path, model)
    got = collect(scores.assignments).sort_values("line").reset_index(drop=True)
    assert list(got.columns) == list(local.columns)
    assert got["line"].tolist() == local["line"].astype(int).tolist()
    for column in ("customer_id", "segment", "persona", "status", "reason", "top_driver_1",
                   "top_driver_2"):
        assert _values(got[column]) == _values(local[column]), column
    np.testing.assert_allclose(got["distance"].astype(float), local["distance"].astype(float),
                               rtol=1e-12, atol=1e-12)
    assert account_text(*scores.account()) == account(local)


def _values(series: pd.Series) -> list:
    return [None if pd.isna(v) else (int(v) if isinstance(v, int | np.integer) else v)
            for v in series.astype(object)]


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("dirty") / "customers.csv"
    dirty_customers().to_csv(path, sep="\t", index=False)
    return path


def _model(source, config: RunConfig, folder):
    return load_model(write_outputs(run(source, config), folder)["model.json"])


def test_the_sample_gets_the_same_segments(spark, tmp_path):
    model = _model(SAMPLE_PATH, CHEAP, tmp_path)
    assert_same_scores(spark, SAMPLE_PATH, model)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_preparation_gives_the_same_segments(spark, dirty_csv, tmp_path, name):
    from dataclasses import replace

    model = _model(dirty_csv, replace(CHEAP, prep=CONFIGS[name]), tmp_path)
    assert_same_scores(spark, dirty_csv, model)


def test_the_reasons_are_those_of_the_local_engine(spark, dirty_csv, tmp_path):
    from dataclasses import replace

    model = _model(dirty_csv, replace(CHEAP, prep=CONFIGS["robust, drop, exclude"]), tmp_path)
    counts = score_spark(spark, dirty_csv, model).account()
    # hand-counted from dirty_customers: one repeated id, one missing, three incomes missing,
    # and the implausible birth year and negative spend excluded
    assert counts[2] == {"duplicate customer id (first kept)": 1, "missing customer id": 1,
                         "missing value in a clustering variable (drop policy)": 3,
                         "implausible value (exclude policy)": 2}


def test_parquet_without_an_id_column_and_with_categories(spark, tmp_path):
    from dataclasses import replace

    frame = bank(500, seed=3)
    frame.attrs = {}
    frame.loc[[2, 30, 31], "balance"] = np.nan
    frame.loc[[4, 50], "job"] = None
    path = tmp_path / "clients.parquet"
    frame.to_parquet(path, index=False)
    config = replace(CHEAP, prep=PrepConfig(features=("age", "balance", "job", "housing"),
                                            scaling="log"))
    model = _model(path, config, tmp_path)
    assert_same_scores(spark, path, model)


def test_a_semicolon_file_with_a_decimal_comma(spark, tmp_path):
    frame = bank(400, seed=4)
    frame.attrs = {}
    frame["balance"] = [f"{v:.2f}".replace(".", ",") for v in frame["balance"] / 7]
    path = tmp_path / "clients.csv"
    frame.to_csv(path, sep=";", index=False)
    model = _model(path, CHEAP, tmp_path)
    assert "balance" in model.preparation.features
    assert_same_scores(spark, path, model)


def test_a_model_fitted_on_part_of_the_file_scores_the_rest_alike(spark, tmp_path):
    # New customers beyond the training range: the local engine clips a whole column to the
    # training range once any value lies beyond the bounds, and so must Spark.
    part = tmp_path / "part.csv"
    pd.read_csv(SAMPLE_PATH, sep="\t", dtype=str).head(700).to_csv(part, sep="\t", index=False)
    model = _model(part, CHEAP, tmp_path)
    assert_same_scores(spark, SAMPLE_PATH, model)
