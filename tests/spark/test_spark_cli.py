"""``score --engine spark`` on the command line: the local engine's file, lines and errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.spark.session import NO_JAVA, NO_PYSPARK
from tests.helpers import ROOT, SAMPLE_PATH


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", str(SAMPLE_PATH), "--out", str(out), "--k", "3", "--n-init", "1"]) == 0
    return out / "model.json"


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_output_is_the_local_file_byte_for_byte(spark, model_path, tmp_path, capsys):
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    code, local_out, _ = _cli(capsys, "score", SAMPLE_PATH, "--model", model_path, "--out", local)
    assert code == 0
    code, spark_out, err = _cli(capsys, "score", SAMPLE_PATH, "--model", model_path,
                                "--out", remote, "--engine", "spark")
    assert code == 0, err
    assert remote.read_bytes() == local.read_bytes()
    assert spark_out.replace(str(remote), "X") == local_out.replace(str(local), "X")


def test_parquet_output_holds_every_line(spark, model_path, tmp_path, capsys):
    local, remote = tmp_path / "local.csv", tmp_path / "scored"
    _cli(capsys, "score", SAMPLE_PATH, "--model", model_path, "--out", local)
    code, _, err = _cli(capsys, "score", SAMPLE_PATH, "--model", model_path, "--out", remote,
                        "--engine", "spark")
    assert code == 0, err
    got = pd.read_parquet(remote).sort_values("line").reset_index(drop=True)
    expected = pd.read_csv(local, dtype={"customer_id": str})
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert got["segment"].tolist() == expected["segment"].tolist()


def _error_lines(capsys, *args):
    code, _, err = _cli(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize("case", ["no file", "columns missing", "not a model"])
def test_bad_input_gives_the_local_error(spark, model_path, tmp_path, capsys, case):
    source = SAMPLE_PATH
    model = model_path
    if case == "no file":
        source = tmp_path / "nowhere.csv"
    elif case == "columns missing":
        source = tmp_path / "other.csv"
        pd.read_csv(SAMPLE_PATH, sep="\t").drop(columns=["Income"]).to_csv(source, index=False)
    else:
        model = tmp_path / "model.json"
        model.write_text('{"hello": 1}', encoding="utf-8")
    args = ("score", source, "--model", model, "--out", tmp_path / "out.csv")
    assert _error_lines(capsys, *args, "--engine", "spark") == _error_lines(capsys, *args)


def test_a_variable_without_a_spark_form_is_one_sentence(spark, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(SAMPLE_PATH), "--out", str(out), "--k", "3", "--n-init", "1",
                 "--features", "Income,education_level"]) == 0
    capsys.readouterr()
    line = _error_lines(capsys, "score", SAMPLE_PATH, "--model", out / "model.json", "--out",
                        tmp_path / "s.csv", "--engine", "spark")
    assert "cannot compute Education" in line and "leave out --engine spark" in line


def _run_without(model_path, tmp_path, env, prelude=""):
    code = (f"import sys; {prelude}from segmentation.cli import main; "
            f"sys.exit(main(['score', {str(SAMPLE_PATH)!r}, '--model', {str(model_path)!r}, "
            f"'--out', {str(tmp_path / 'o.csv')!r}, '--engine', 'spark']))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_without_java_one_sentence_not_a_stack_trace(spark, model_path, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # no java here
    done = _run_without(model_path, tmp_path, env)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {NO_JAVA}"


def test_without_pyspark_one_sentence_saying_how_to_add_it(spark, model_path, tmp_path):
    done = _run_without(model_path, tmp_path, dict(os.environ),
                        prelude="sys.modules['pyspark'] = None; ")
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {NO_PYSPARK}"
    assert "requirements-spark.txt" in NO_PYSPARK


@pytest.mark.parametrize("option", [("--method", "gmm"), ("--strata", "Income:3")])
def test_a_model_spark_cannot_score_the_same_way_is_one_sentence(spark, tmp_path, capsys,
                                                                 option):
    # Spark assigns the nearest k-means centre in one space; a mixture's rule or the
    # centres within strata would give other segments than the local score.
    out = tmp_path / "run"
    assert main(["run", str(SAMPLE_PATH), "--out", str(out), "--n-init", "1", "--no-history",
                 *option]) == 0
    capsys.readouterr()
    line = _error_lines(capsys, "score", SAMPLE_PATH, "--model", out / "model.json", "--out",
                        tmp_path / "s.csv", "--engine", "spark")
    assert "score it with the local engine" in line
    line = _error_lines(capsys, "run", SAMPLE_PATH, "--out", tmp_path / "spark_run",
                        "--engine", "spark", *option)
    assert "nearest k-means centre" in line
