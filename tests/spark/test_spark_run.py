"""``run --engine spark``: a local run's files when everything fits in the sample, and every
customer scored and profiled in Spark when it does not."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.cluster.model import load_model, score
from segmentation.data.customer_file import read_table
from segmentation.data.dataset import load_dataset
from segmentation.prepare.features import transform
from tests.helpers import SAMPLE_PATH

ARGS = ("--k", "3", "--n-init", "1", "--seed", "5")


def _run(capsys, out, *extra):
    code = main(["run", str(SAMPLE_PATH), "--out", str(out), *ARGS, *extra])
    printed, err = capsys.readouterr()
    assert code == 0, err
    return printed


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory):
    local, remote = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("spark")
    assert main(["run", str(SAMPLE_PATH), "--out", str(local), *ARGS]) == 0
    assert main(["run", str(SAMPLE_PATH), "--out", str(remote), *ARGS, "--engine", "spark"]) == 0
    return local, remote


def _without_time(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("created", None)
    data.get("model", {}).pop("created", None)
    return data


def test_a_file_smaller_than_the_sample_gives_the_local_files(both):
    local, remote = both
    for name in ("assignments.csv", "summary.json"):
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name
    for name in ("model.json", "bundle.json"):
        assert _without_time(remote / name) == _without_time(local / name), name
    got, expected = pd.read_csv(remote / "profiles.csv"), pd.read_csv(local / "profiles.csv")
    pd.testing.assert_frame_equal(got, expected, rtol=1e-12, atol=1e-12)


def test_the_parquet_assignments_are_the_csv_ones(both):
    _, remote = both
    parquet = pd.read_parquet(remote / "assignments.parquet").sort_values("line")
    csv = pd.read_csv(remote / "assignments.csv", dtype={"customer_id": str})
    assert parquet["customer_id"].tolist() == csv["customer_id"].tolist()
    assert parquet["segment"].tolist() == csv["segment"].tolist()
    np.testing.assert_allclose(parquet["distance"], csv["distance"], rtol=1e-12)


def test_a_sample_fits_and_every_customer_is_profiled(spark, tmp_path, capsys):
    printed = _run(capsys, tmp_path, "--engine", "spark", "--sample-size", "700")
    assert "Sample: " in printed and " of 2,240 lines, seed 5." in printed
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows_read"] < 2240  # fitted on the sample only
    everyone = pd.read_parquet(tmp_path / "assignments.parquet")
    assert len(everyone) == 2240 and everyone["line"].is_unique
    # The reference: the local engine's scoring and prepared values of the whole file.
    model = load_model(tmp_path / "model.json")
    scores = score(SAMPLE_PATH, model).segmented
    frame = transform(load_dataset(read_table(SAMPLE_PATH), roles=model.preparation.roles),
                      model.preparation).frame
    segments = scores.set_index("customer_id")["segment"]
    profiles = pd.read_csv(tmp_path / "profiles.csv").set_index("segment")
    sizes = segments.value_counts().sort_index()
    assert profiles["size"].tolist() == sizes.tolist()
    income = frame["Income"].groupby(segments.reindex(frame.index.astype(str)).to_numpy()).agg(
        ["mean", "median"])
    np.testing.assert_allclose(profiles["mean_Income"], income["mean"], rtol=1e-9)
    np.testing.assert_allclose(profiles["median_Income"], income["median"], rtol=1e-9)


def test_a_sample_size_below_one_is_refused(spark, tmp_path, capsys):
    code = main(["run", str(SAMPLE_PATH), "--out", str(tmp_path), "--engine", "spark",
                 "--sample-size", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--sample-size" in err[0]


def test_an_order_log_is_totalled_first(spark, tmp_path, capsys):
    code = main(["run", str(SAMPLE_PATH), "--out", str(tmp_path), "--engine", "spark",
                 "--input-kind", "transactions"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "aggregate" in err[0]


def test_a_test_using_spark_is_marked_so_the_fast_loop_leaves_it_out(spark, request):
    # tests/conftest.py marks it from the fixture: `-m "not spark"` then skips the JVM.
    assert request.node.get_closest_marker("spark") is not None
