"""run --method and score: the method is saved in the model and the bundle, and score says
which rule it assigns by."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli.test_cli import assert_one_error_line, call
from tests.helpers.planted import blobs_with_noise
from tests.helpers.shapes import to_bytes

pytestmark = pytest.mark.slow  # whole command-line runs with each method


def test_hdbscan_run_and_score_account_for_no_clear_segment(tmp_path):
    source = tmp_path / "blobs.csv"
    source.write_bytes(to_bytes(blobs_with_noise()[0]))
    out = tmp_path / "run"
    rc, stdout, _ = call(["run", source, "--out", out, "--method", "hdbscan", "--n-init", "2"])
    assert rc == 0
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    noise = assignments[assignments["reason"] == "no clear segment"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_dropped"]["no clear segment"] == len(noise) > 0
    assert f"{len(assignments) - len(noise)} segmented, {len(noise)} dropped" in stdout
    model = json.loads((out / "model.json").read_text())
    bundle = json.loads((out / "bundle.json").read_text())
    assert model["method"] == "hdbscan" == bundle["settings"]["method"]
    assert len(model["method_params"]["reach"]) == len(model["centers"])
    rc, stdout, _ = call(["score", source, "--model", out / "model.json",
                          "--out", tmp_path / "scored.csv"])
    assert rc == 0
    assert "Assigned by the saved model's rule: nearest segment centroid, or no clear segment" \
        in stdout
    scored = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)
    assert (scored["reason"] == "no clear segment").sum() > 0


def test_an_unknown_method_exits_2_with_one_line(tmp_path):
    source = tmp_path / "blobs.csv"
    source.write_bytes(to_bytes(blobs_with_noise()[0]))
    rc, _, err = call(["run", source, "--out", tmp_path / "x", "--method", "spectral"])
    assert_one_error_line(rc, err, "spectral")
