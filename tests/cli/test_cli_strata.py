"""``run --strata``: segments within strata from the command line, end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from segmentation.cli import RUN_FILES
from tests.cli.test_cli import assert_one_error_line, call, read_assignments
from tests.helpers.shapes import to_bytes
from tests.helpers.strata import income_bands

pytestmark = pytest.mark.slow  # whole command-line runs

FAST = ["--n-init", "2", "--seed", "7"]


@pytest.fixture(scope="module")
def bands_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bands") / "bands.csv"
    path.write_bytes(to_bytes(income_bands()))
    return path


@pytest.fixture(scope="module")
def strata_out(bands_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("strata_run") / "out"
    rc, stdout, stderr = call(["run", bands_file, "--out", out, "--strata", "Income:3",
                               "--report", *FAST])
    assert rc == 0, stderr
    return out, stdout


def test_run_with_strata_writes_every_usual_output(strata_out):
    out, stdout = strata_out
    # Every file of a run but the lifetime table, which only an order log with --lifetime has.
    for name in (n for n in RUN_FILES if n != "lifetime_segments.csv"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["chosen_k"] == 6
    assert all(" · " in s["persona"] for s in summary["segments"])
    assert "within 3 strata of Income" in stdout


def test_assignments_carry_stratum_and_segment(strata_out, bands_file):
    out, _ = strata_out
    table = read_assignments(out / "assignments.csv")
    assert len(table) == 900 and (table["status"] == "segmented").all()
    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    strata = model["strata"]
    assert strata["labels"] == ["Low Income", "Mid Income", "High Income"]
    # Each customer's stratum is the band the model's own cut-offs put their income in.
    income = pd.read_csv(bands_file).set_index("ID")["Income"]
    band = pd.cut(income, [-float("inf"), *strata["cuts"], float("inf")], right=False,
                  labels=strata["labels"]).astype(str)
    assert (table["stratum"].to_numpy() == band.reindex(table["customer_id"].astype(int))
            .to_numpy()).all()
    assert all(p.startswith(s) for p, s in zip(table["persona"], table["stratum"], strict=True))


def test_score_with_the_strata_model_reproduces_the_run(strata_out, bands_file, tmp_path):
    out, _ = strata_out
    scored = tmp_path / "scores.csv"
    rc, _, stderr = call(["score", bands_file, "--model", out / "model.json", "--out", scored])
    assert rc == 0, stderr
    ran = read_assignments(out / "assignments.csv").set_index("customer_id")
    got = read_assignments(scored).set_index("customer_id")
    assert (got.loc[ran.index, ["segment", "stratum"]] == ran[["segment", "stratum"]]).all().all()


@pytest.mark.parametrize("spec, fragment", [
    ("Nowhere:3", "not a column"), ("Income:1", "2 to 10 bands"),
    ("Income:40000,many", "not a number"), ("ID", "cannot make strata"),
])
def test_bad_strata_specs_are_one_error_line(bands_file, tmp_path, spec, fragment):
    rc, _, err = call(["run", bands_file, "--out", tmp_path / "out", "--strata", spec, *FAST])
    assert_one_error_line(rc, err, fragment)
