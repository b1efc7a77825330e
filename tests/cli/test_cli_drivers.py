"""The command line's drivers: the split warning, --behaviour-first and --ablation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation.data.dataset import load_dataset
from segmentation.data.orders import read_customers
from segmentation.prepare.behaviour import behaviour_features
from segmentation.prepare.features import variables_of
from tests.cli.test_cli import assert_one_error_line, call
from tests.helpers import to_tsv_bytes
from tests.helpers.drivers import drivers_customers
from tests.helpers.strata import income_bands

pytestmark = pytest.mark.slow  # whole command-line runs

FAST = ["--k", "3", "--n-init", "2"]


@pytest.fixture(scope="module")
def income_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("income") / "income.tsv"
    path.write_bytes(to_tsv_bytes(drivers_customers(450, planted="income")))
    return path


def test_run_prints_the_split_warning_and_writes_it(income_file, tmp_path):
    rc, out, err = call(["run", income_file, "--out", tmp_path / "out", *FAST])
    assert rc == 0, err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    message = summary["drivers_warning"]
    assert message.startswith("The segments are largely an Income split")
    assert f"warning: {message}" in err.splitlines()
    assert {d["variable"] for d in summary["drivers"]} >= {"Income", "total_spend"}


def test_behaviour_first_clusters_on_the_preset(income_file, tmp_path):
    rc, out, err = call(["run", income_file, "--out", tmp_path / "out", "--behaviour-first",
                         *FAST])
    assert rc == 0, err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    dataset = load_dataset(read_customers(income_file.read_bytes(), "auto", {}, None,
                                          name=income_file.name))
    assert summary["features"] == list(behaviour_features(variables_of(dataset)))
    assert summary["scaling"] == "log"
    assert summary["drivers_warning"] is None
    assert "largely" not in err


def test_behaviour_first_with_features_is_one_error_line(income_file, tmp_path):
    rc, _, err = call(["run", income_file, "--out", tmp_path / "out", "--behaviour-first",
                       "--features", "Income,Recency"])
    assert_one_error_line(rc, err, "--behaviour-first")


def test_ablation_prints_its_table_and_goes_into_the_report(income_file, tmp_path):
    rc, out, err = call(["run", income_file, "--out", tmp_path / "out", "--ablation",
                         "--report", *FAST])
    assert rc == 0, err
    assert "Each clustering variable left out, at K = 3" in out
    assert "ari" in out and "profile_change" in out
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="ablation-table"' in report and 'id="drivers-table"' in report


def test_ablation_of_a_strata_run_refits_within_the_strata(tmp_path):
    frame = income_bands()
    frame["Noise"] = np.random.default_rng(1).normal(50, 5, len(frame))
    path = tmp_path / "bands.tsv"
    path.write_bytes(to_tsv_bytes(frame))
    rc, out, err = call(["run", path, "--out", tmp_path / "out", "--strata", "Income:3",
                         "--features", "share_MntWines,Recency,Noise", "--n-init", "4",
                         "--ablation", "--no-history"])
    assert rc == 0, err
    # A noise variable leaves the segments found within strata as they were; a plain
    # k-means over the whole file agreed with them at about 0.2 whatever was left out.
    noise = next(line.split() for line in out.splitlines() if line.startswith("Noise "))
    assert float(noise[2]) > 0.95 and noise[-1] == "True"
    assert "Noise (" in next(line for line in out.splitlines() if "consider dropping" in line)
