"""``aggregate --engine spark``: the local engine's customer table and line account.

The local (DuckDB) aggregation is the reference for every figure; the hand-computed tiny log
checks both against values worked out on paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.data.orders import REASON_BAD_AMOUNT, REASON_BAD_DATE, aggregate_log
from segmentation.errors import SegmentationError
from segmentation.spark.orders import aggregate_log_spark
from tests.helpers.logs import order_log, tiny_log, to_bytes
from tests.spark.test_spark_cli import _cli

RELATIVE = 1e-9  # both engines sum the same doubles, only in another order


def _assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    for column in expected.columns:
        if column in {"customer_id", "country"}:
            assert got[column].astype(str).tolist() == expected[column].astype(str).tolist()
            continue
        np.testing.assert_allclose(got[column].to_numpy(float), expected[column].to_numpy(float),
                                   rtol=RELATIVE, atol=0, equal_nan=True, err_msg=column)


def _assert_same_log(got, expected) -> None:
    _assert_same_table(got.customers, expected.customers)
    assert got.summary() == expected.summary()
    assert got.return_lines == expected.return_lines
    assert got.default_features == expected.default_features
    assert got.labels == expected.labels


@pytest.fixture(scope="module")
def messy_log(tmp_path_factory):
    """A generated log (returns, duplicates, guests, free lines, six categories, two
    channels) with unreadable dates and amounts planted."""
    frame = order_log(n_customers=150, seed=3).astype({"UnitPrice": object})
    # lines of known customers at a price, so that no earlier reason claims them
    known = frame.index[(frame["CustomerID"] != "") & (frame["Quantity"] > 0)
                        & (frame["UnitPrice"].astype(float) > 0)
                        & ~frame.duplicated(keep=False)]
    frame.loc[known[5], "InvoiceDate"] = "not a date"
    frame.loc[known[11], "InvoiceDate"] = "31/02/2024 10:00"
    frame.loc[known[17], "UnitPrice"] = "n/a"
    path = tmp_path_factory.mktemp("log") / "orders.csv"
    path.write_bytes(to_bytes(frame))
    return path


def test_generated_log_matches_the_local_engine(spark, messy_log):
    local = aggregate_log(messy_log)
    remote = aggregate_log_spark(spark, messy_log)
    assert local.dropped[REASON_BAD_DATE] == 2 and local.dropped[REASON_BAD_AMOUNT] == 1
    assert local.return_lines > 0 and any(c.startswith("share_") for c in local.customers)
    assert any(c.startswith("channel_share_") for c in local.customers)
    _assert_same_log(remote, local)
    assert remote.lines_aggregated + sum(remote.dropped.values()) == remote.lines_read


def test_decimal_comma_and_reference_date(spark, tmp_path):
    frame = order_log(n_customers=60, seed=5)
    path = tmp_path / "orders.csv"
    path.write_bytes(to_bytes(frame.assign(UnitPrice=frame["UnitPrice"].map(
        lambda v: f"{v:.2f}".replace(".", ","))), sep=";"))
    local = aggregate_log(path, reference_date="2024-09-30")
    remote = aggregate_log_spark(spark, path, reference_date="2024-09-30")
    assert "Amounts use a decimal comma." in local.notes
    assert local.dropped["date after the reference date"] > 0
    _assert_same_log(remote, local)


def test_tiny_log_gives_the_hand_computed_figures(spark, tmp_path):
    frame = tiny_log()
    path = tmp_path / "tiny.csv"
    path.write_bytes(to_bytes(frame))
    log = aggregate_log_spark(spark, path)
    table = log.customers.set_index("customer_id")
    for customer, figures in frame.attrs["expected"].items():
        row = table.loc[customer]
        assert row["recency_days"] == figures["recency_days"]
        assert row["orders"] == figures["frequency"]
        assert row["net_spend"] == pytest.approx(figures["monetary"])
        assert row["days_since_first_order"] == figures["tenure_days"]
        assert row["items_per_order"] == pytest.approx(figures["items_per_order"])
        assert row["distinct_products"] == figures["distinct_products"]
        assert row["return_rate"] == pytest.approx(figures["return_rate"])
    assert log.reference_date == frame.attrs["reference"]
    assert log.lines_read == frame.attrs["lines"]


def test_several_parquet_files_read_as_one_log(spark, tmp_path):
    frame = order_log(n_customers=40, seed=8)
    halves = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    frame.iloc[::2].astype(str).to_parquet(halves[0], index=False)
    frame.iloc[1::2].astype(str).to_parquet(halves[1], index=False)
    _assert_same_log(aggregate_log_spark(spark, str(tmp_path / "*.parquet")),
                     aggregate_log([str(p) for p in halves]))


def test_cli_writes_the_local_table(spark, messy_log, tmp_path, capsys):
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    code, local_out, local_err = _cli(capsys, "aggregate", messy_log, "--out", local)
    assert code == 0
    code, spark_out, spark_err = _cli(capsys, "aggregate", messy_log, "--out", remote,
                                      "--engine", "spark", "--spark-master", "local[2]")
    assert code == 0, spark_err
    assert spark_out.replace(str(remote), "X") == local_out.replace(str(local), "X")
    assert spark_err == local_err
    _assert_same_table(pd.read_csv(remote, dtype={"customer_id": str}),
                       pd.read_csv(local, dtype={"customer_id": str}))


@pytest.mark.parametrize("make", ["missing", "customer table", "no date column"])
def test_bad_input_gives_the_local_error(spark, tmp_path, capsys, make):
    path = tmp_path / "input.csv"
    if make == "customer table":
        path.write_text("id,age,income\n1,30,100\n2,40,200\n3,50,300\n")
    elif make == "no date column":
        path.write_bytes(to_bytes(tiny_log().drop(columns="InvoiceDate")))
    local = _cli(capsys, "aggregate", path, "--out", tmp_path / "a.csv")
    remote = _cli(capsys, "aggregate", path, "--out", tmp_path / "b.csv", "--engine", "spark")
    assert local[0] == remote[0] == 2
    assert remote[2] == local[2]
    assert remote[2].startswith("error:") and remote[2].count("\n") == 1


def test_engine_function_raises_the_local_sentence(spark, tmp_path):
    with pytest.raises(SegmentationError, match="No order file at"):
        aggregate_log_spark(spark, [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
