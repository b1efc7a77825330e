"""The command line contract: ``python -m segmentation run|score``."""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS
from segmentation.export.assignments import ASSIGNMENT_COLUMNS
from tests.helpers import ROOT, assert_actionable, planted_customers, to_tsv_bytes

pytestmark = pytest.mark.slow  # whole command-line runs

SUMMARY_KEYS = {"rows_read", "rows_kept", "rows_dropped", "features", "scaling", "metrics",
                "chosen_k", "k_reason", "seed", "versions"}
FAST = ["--n-init", "2"]


def call(argv) -> tuple[int, str, str]:
    """Run the command line in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def read_assignments(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def assert_one_error_line(rc: int, err: str, fragment: str = "") -> None:
    assert rc == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    assert fragment.lower() in lines[0].lower(), lines[0]


# --- shared runs (one per kind, reused by the tests of this module) -----------------------------

@pytest.fixture(scope="module")
def sample_run(sample_path, tmp_path_factory):
    """The bundled sample with default settings and seed 7."""
    out = tmp_path_factory.mktemp("sample_run") / "out"
    rc, stdout, stderr = call(["run", sample_path, "--out", out, "--seed", "7"])
    assert rc == 0, stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"out": out, "stdout": stdout, "stderr": stderr, "summary": summary,
            "assignments": read_assignments(out / "assignments.csv")}


def copy_of_sample_run(sample_run, tmp_path) -> Path:
    """The sample run's output folder copied under ``tmp_path``, for tests that write beside it."""
    out = tmp_path / "results"
    shutil.copytree(sample_run["out"], out)
    return out


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory) -> Path:
    frame = planted_customers(240, seed=3)
    frame.loc[0, "ID"] = "007"
    frame.loc[1, "ID"] = "0042"
    path = tmp_path_factory.mktemp("planted") / "planted.tsv"
    path.write_bytes(to_tsv_bytes(frame))
    return path


@pytest.fixture(scope="module")
def planted_runs(planted_file, tmp_path_factory):
    """Three runs of one file: seed 5 twice, seed 6 once, each with K = 4 from 3..5."""
    base = tmp_path_factory.mktemp("planted_runs")
    outs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        out = base / name
        rc, _, err = call(["run", planted_file, "--out", out, "--seed", seed, "--k", "4",
                           "--k-min", "3", "--k-max", "5", *FAST])
        assert rc == 0, err
        outs[name] = out
    return outs


# --- run ----------------------------------------------------------------------------------------

def test_run_writes_the_four_files(sample_run):
    out = sample_run["out"]
    for name in ("assignments.csv", "profiles.csv", "summary.json", "model.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert "Traceback" not in sample_run["stderr"]
    assert all(line.startswith("warning: ") for line in sample_run["stderr"].splitlines())


def test_run_reports_on_stdout(sample_run):
    summary = sample_run["summary"]
    stdout = sample_run["stdout"]
    assert stdout.startswith(f"{summary['rows_read']} rows read, {summary['rows_kept']} segmented")
    assert f"K = {summary['chosen_k']}" in stdout
    # The run's summary() table: one line per segment with its persona and size.
    for seg in summary["segments"]:
        line = rf"^\s*{seg['segment']}\s+{re.escape(seg['persona'])}\s+{seg['size']:,}\s"
        assert re.search(line, stdout, re.MULTILINE), line
    assert "assignments.csv" in stdout


def test_assignments_columns_and_one_row_per_kept_customer(sample_run, sample_path):
    assignments = sample_run["assignments"]
    summary = sample_run["summary"]
    assert list(assignments.columns) == [*ASSIGNMENT_COLUMNS, "distance", "silhouette",
                                         *TOP_DRIVER_COLUMNS]
    assert len(assignments) == summary["rows_kept"]  # read_assignments keeps the segmented
    assert assignments["customer_id"].is_unique
    source_ids = pd.read_csv(sample_path, sep="\t", dtype=str)["ID"]
    assert set(assignments["customer_id"]) <= set(source_ids)
    segments = {str(s["segment"]): s["persona"] for s in summary["segments"]}
    assert set(assignments["segment"]) == set(segments)
    assert (assignments["persona"] == assignments["segment"].map(segments)).all()


def test_summary_keys_and_row_accounting(sample_run):
    summary = sample_run["summary"]
    assert set(summary) >= SUMMARY_KEYS
    assert isinstance(summary["rows_dropped"], dict)
    assert summary["rows_read"] == summary["rows_kept"] + sum(summary["rows_dropped"].values())
    assert summary["rows_read"] == 2240
    assert summary["scaling"] == "zscore"
    assert summary["features"] and all(isinstance(f, str) for f in summary["features"])
    assert set(summary["versions"]) >= {"segmentation", "python", "numpy", "pandas",
                                        "scikit-learn"}


def test_summary_metrics_one_entry_per_k_and_auto_choice(sample_run):
    summary = sample_run["summary"]
    assert [m["k"] for m in summary["metrics"]] == [2, 3, 4, 5, 6]
    assert summary["chosen_k"] == summary["recommended_k"]
    assert summary["chosen_k"] in {2, 3, 4, 5, 6}
    assert isinstance(summary["k_reason"], str)
    assert f"K = {summary['chosen_k']}" in summary["k_reason"]
    assert summary["seed"] == 7
    assert len(summary["segments"]) == summary["chosen_k"]


def test_explicit_k_and_range(planted_runs):
    summary = json.loads((planted_runs["a"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["chosen_k"] == 4
    assert [m["k"] for m in summary["metrics"]] == [3, 4, 5]
    assert summary["seed"] == 5
    assignments = read_assignments(planted_runs["a"] / "assignments.csv")
    assert set(assignments["segment"]) == {"0", "1", "2", "3"}


def test_ids_are_kept_as_text(planted_runs):
    ids = set(read_assignments(planted_runs["a"] / "assignments.csv")["customer_id"])
    assert {"007", "0042"} <= ids
    assert "7" not in ids and "42" not in ids
    assert len(ids) == 240


def test_same_seed_gives_identical_assignments_bytes(planted_runs):
    a = (planted_runs["a"] / "assignments.csv").read_bytes()
    b = (planted_runs["b"] / "assignments.csv").read_bytes()
    assert a == b


def test_different_seed_is_recorded_and_assigns_the_same_customers(planted_runs):
    first = json.loads((planted_runs["a"] / "summary.json").read_text(encoding="utf-8"))
    other = json.loads((planted_runs["c"] / "summary.json").read_text(encoding="utf-8"))
    assert (first["seed"], other["seed"]) == (5, 6)
    a = read_assignments(planted_runs["a"] / "assignments.csv")
    c = read_assignments(planted_runs["c"] / "assignments.csv")
    # segments may differ between seeds; the customers accounted for may not
    assert a["customer_id"].tolist() == c["customer_id"].tolist()


def test_features_and_id_column_options(tmp_path):
    frame = planted_customers(120, seed=2).rename(columns={"ID": "Kundennummer"})
    source = tmp_path / "renamed.tsv"
    source.write_bytes(to_tsv_bytes(frame))
    out = tmp_path / "out"
    rc, _, err = call(["run", source, "--out", out,
                       "--features", "Income, MntWines ,NumWebPurchases",
                       "--id-column", "Kundennummer", "--k", "3", "--k-min", "2", "--k-max", "3",
                       *FAST])
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["features"] == ["Income", "MntWines", "NumWebPurchases"]
    assert summary["id_column"] == "Kundennummer"
    assignments = read_assignments(out / "assignments.csv")
    assert assignments["customer_id"].tolist() == frame["Kundennummer"].tolist()


# --- score --------------------------------------------------------------------------------------

def test_scoring_the_training_file_reproduces_the_run(sample_run, sample_path, tmp_path):
    scores_path = tmp_path / "scores.csv"
    rc, stdout, err = call(["score", sample_path, "--model", sample_run["out"] / "model.json",
                            "--out", scores_path])
    assert rc == 0, err
    assert "2,240 lines: 2,240 segmented, 0 excluded." in stdout
    scores = read_assignments(scores_path)
    assert list(scores.columns[:3]) == ["customer_id", "segment", "persona"]
    same = ["customer_id", "segment", "persona", "status", "reason", "line"]
    pd.testing.assert_frame_equal(scores[same], sample_run["assignments"][same])
    np.testing.assert_allclose(scores["distance"].astype(float),
                               sample_run["assignments"]["distance"].astype(float), rtol=1e-12)


def test_scoring_a_shuffled_subset_gives_each_customer_the_same_segment(
        sample_run, sample_path, tmp_path):
    header, *lines = sample_path.read_text(encoding="utf-8").splitlines()
    rng = random.Random(1)
    subset = rng.sample(lines, 500)
    source = tmp_path / "subset.tsv"
    source.write_text("\n".join([header, *subset]) + "\n", encoding="utf-8")
    rc, _, err = call(["score", source, "--model", sample_run["out"] / "model.json",
                       "--out", tmp_path / "scores.csv"])
    assert rc == 0, err
    scores = read_assignments(tmp_path / "scores.csv")
    assert scores["customer_id"].tolist() == [line.split("\t")[0] for line in subset]
    trained = sample_run["assignments"].set_index("customer_id")
    assert (scores["segment"].to_numpy() == trained.loc[scores["customer_id"], "segment"]
            .to_numpy()).all()
    assert (scores["persona"].to_numpy() == trained.loc[scores["customer_id"], "persona"]
            .to_numpy()).all()


def test_scoring_keeps_text_ids(planted_runs, planted_file, tmp_path):
    rc, _, err = call(["score", planted_file, "--model", planted_runs["a"] / "model.json",
                       "--out", tmp_path / "s.csv"])
    assert rc == 0, err
    scores = read_assignments(tmp_path / "s.csv")
    trained = read_assignments(planted_runs["a"] / "assignments.csv")
    assert scores["customer_id"].tolist() == trained["customer_id"].tolist()
    assert scores["segment"].tolist() == trained["segment"].tolist()


# --- bad input: exit 2, one line, no traceback ------------------------------------------------

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, sample_run) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "empty.csv": b"",
        "blank.csv": b"\n  \n\n",
        "binary.csv": bytes(range(256)) * 20,
        "header.csv": b"ID,Income,MntWines\n",
        "text_only.csv": b"name,city\nann,paris\nbob,rome\ncid,oslo\n",
        "lacking.csv": b"ID,Foo\n1,2\n2,3\n3,4\n",
        "not_json.json": b"this is not json {",
        "array.json": b"[1, 2, 3]",
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    model = json.loads((sample_run["out"] / "model.json").read_text(encoding="utf-8"))
    damaged = dict(model)
    del damaged["preparation"]
    paths["damaged.json"] = folder / "damaged.json"
    paths["damaged.json"].write_text(json.dumps(damaged), encoding="utf-8")
    truncated = (sample_run["out"] / "model.json").read_text(encoding="utf-8")[:500]
    paths["truncated.json"] = folder / "truncated.json"
    paths["truncated.json"].write_text(truncated, encoding="utf-8")
    paths["blocker"] = folder / "blocker"
    paths["blocker"].write_text("a file where a folder is expected")
    return paths


def _bad_cases():
    S, P = "SAMPLE", "PLANTED"
    return [
        ("missing file", ["run", "/no/such/file.csv", "--out", "OUT"], "cannot open"),
        ("empty file", ["run", "F:empty.csv", "--out", "OUT"], "empty"),
        ("blank file", ["run", "F:blank.csv", "--out", "OUT"], "empty"),
        ("binary file", ["run", "F:binary.csv", "--out", "OUT"], "binary"),
        ("header only", ["run", "F:header.csv", "--out", "OUT"], "no customer rows"),
        ("no numeric column", ["run", "F:text_only.csv", "--out", "OUT"], "no numeric column"),
        ("unknown feature", ["run", S, "--out", "OUT", "--features", "Income,Nope"], "'Nope'"),
        ("unknown id column", ["run", P, "--out", "OUT", "--id-column", "Nope"], "'Nope'"),
        ("k 1", ["run", S, "--out", "OUT", "--k", "1"], "K = 1"),
        ("k 11", ["run", S, "--out", "OUT", "--k", "11"], "K = 11"),
        ("k abc", ["run", S, "--out", "OUT", "--k", "abc"], "--k"),
        ("k-min > k-max", ["run", S, "--out", "OUT", "--k-min", "5", "--k-max", "3"], "5..3"),
        ("k-min not a number", ["run", S, "--out", "OUT", "--k-min", "two"], "--k-min"),
        ("missing --out", ["run", S], "--out"),
        ("no command", [], "required"),
        ("unknown command", ["cluster", S], "invalid choice"),
        ("score missing --out", ["score", S, "--model", "F:damaged.json"], "--out"),
        ("score missing --model", ["score", S, "--out", "OUT/s.csv"], "--model"),
        ("damaged model", ["score", S, "--model", "F:damaged.json", "--out", "OUT/s.csv"],
         "damaged"),
        ("model not JSON", ["score", S, "--model", "F:not_json.json", "--out", "OUT/s.csv"],
         "not valid JSON"),
        ("truncated model", ["score", S, "--model", "F:truncated.json", "--out", "OUT/s.csv"],
         "not valid JSON"),
        ("model is a list", ["score", S, "--model", "F:array.json", "--out", "OUT/s.csv"],
         "not a model file"),
        ("model missing", ["score", S, "--model", "/no/model.json", "--out", "OUT/s.csv"],
         "cannot open the model"),
        ("new file lacks columns", ["score", "F:lacking.csv", "--model", "MODEL",
                                    "--out", "OUT/s.csv"], "lacks the columns"),
        ("unwritable output folder", ["run", P, "--out", "F:blocker/out", "--k", "3",
                                      "--k-min", "2", "--k-max", "3", *FAST], "cannot write"),
        ("output folder is a file", ["run", P, "--out", "F:blocker", "--k", "3",
                                     "--k-min", "2", "--k-max", "3", *FAST], "cannot write"),
        ("unwritable score file", ["score", S, "--model", "MODEL", "--out", "F:blocker/s.csv"],
         "cannot write"),
    ]


@pytest.mark.parametrize("argv, fragment", [c[1:] for c in _bad_cases()],
                         ids=[c[0] for c in _bad_cases()])
def test_bad_input_exits_2_with_one_error_line(argv, fragment, bad_files, sample_path,
                                               sample_run, planted_file, tmp_path):
    def resolve(arg: str) -> str:
        if arg == "SAMPLE":
            return str(sample_path)
        if arg == "PLANTED":
            return str(planted_file)
        if arg == "MODEL":
            return str(sample_run["out"] / "model.json")
        if arg.startswith("OUT"):
            return str(tmp_path / "out") + arg[3:]
        if arg.startswith("F:"):
            name, _, rest = arg[2:].partition("/")
            return str(bad_files[name]) + (f"/{rest}" if rest else "")
        return arg

    rc, stdout, err = call([resolve(a) for a in argv])
    assert_one_error_line(rc, err, fragment)
    assert "Traceback" not in stdout
    if argv and argv[0] == "run" and "--out" in argv and argv[argv.index("--out") + 1] == "OUT":
        assert not (tmp_path / "out" / "assignments.csv").exists()


DAMAGE = {
    "wrong format": (lambda m: m.update(format="something-else"), "not a segmentation model"),
    "newer version": (lambda m: m.update(version=99), "newer"),
    "centres do not match": (lambda m: m["centers"][0].append(1.0), "damaged"),
    "centres of wrong width": (lambda m: m.update(centers=[row + [0.0] for row in m["centers"]]),
                               "do not match"),
    "personas missing": (lambda m: m.pop("personas"), "damaged"),
    "preparation key missing": (lambda m: m["preparation"].pop("scale"), "damaged"),
    "version not a number": pytest.param(
        lambda m: m.update(version="abc"), "damaged"),
    "scale list too short": pytest.param(
        lambda m: m["preparation"]["scale"].pop(), "damaged"),
    "feature unknown": pytest.param(
        lambda m: m["preparation"]["features"].__setitem__(0, "NoSuchVariable"), "damaged"),
}


@pytest.mark.parametrize("damage, fragment",
list(DAMAGE.values()), ids=list(DAMAGE))
def test_damaged_model_exits_2(damage, fragment, sample_run, sample_path, tmp_path):
    model = json.loads((sample_run["out"] / "model.json").read_text(encoding="utf-8"))
    damage(model)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    rc, _, err = call(["score", sample_path, "--model", path, "--out", tmp_path / "s.csv"])
    assert_one_error_line(rc, err, fragment)
    assert not (tmp_path / "s.csv").exists()


def test_unmatched_quote_is_handled_not_a_crash(planted_file, tmp_path):
    header, *lines = planted_file.read_text(encoding="utf-8").splitlines()
    lines[10] = lines[10].replace("\t", '\t"', 1)
    source = tmp_path / "quote.tsv"
    source.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    rc, _, err = call(["run", source, "--out", tmp_path / "out", "--k", "3", "--k-min", "2",
                       "--k-max", "3", *FAST])
    assert rc in (0, 2), err
    assert "unexpected" not in err


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_out_of_range_seed_is_a_one_line_error(seed, planted_file, tmp_path):
    rc, _, err = call(["run", planted_file, "--out", tmp_path / "out", "--seed", seed,
                       "--k", "3", "--k-min", "2", "--k-max", "3", *FAST])
    assert_one_error_line(rc, err, "seed")


# --- the real module entry ---------------------------------------------------------------------

def _module(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "segmentation", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_module_entry_run_and_score(planted_file, tmp_path):
    out = tmp_path / "out"
    proc = _module("run", planted_file, "--out", out, "--k", "3", "--k-min", "2", "--k-max", "3",
                   *FAST)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "240 rows read, 240 segmented, 0 dropped." in proc.stdout
    assert "240 customers in 3 segments" in proc.stdout
    assignments = read_assignments(out / "assignments.csv")
    assert len(assignments) == 240
    assert list(assignments.columns)[:3] == ["customer_id", "segment", "persona"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["chosen_k"] == 3


def test_module_entry_bad_input_exits_2(planted_file, tmp_path):
    proc = _module("run", planted_file, "--out", tmp_path / "out", "--k", "abc")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: --k must be a whole number or 'auto', not 'abc'."]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


# --- outputs are whole or absent, and never overwrite an input ------------------------------------

def test_a_run_that_fails_half_way_leaves_the_folder_as_it_was(tmp_path, sample_path, sample_run,
                                                               monkeypatch):
    import segmentation.export.bundle as bundle_module

    out = copy_of_sample_run(sample_run, tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle_module, "write_bundle", broken)
    # Only the writing fails here, so the sweep is of the K written alone.
    rc = main(["run", str(sample_path), "--out", str(out), "--k", "4", "--k-min", "4",
               "--k-max", "4", *FAST])
    assert rc == 2
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # every file from the first run, none from the second
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".results.")]


@pytest.mark.parametrize("command", ["score", "predict"])
def test_an_output_that_is_an_input_is_refused(tmp_path, sample_path, sample_run, capsys, command):
    out = copy_of_sample_run(sample_run, tmp_path)
    copy = tmp_path / "customers.csv"
    copy.write_bytes(sample_path.read_bytes())
    model = out / ("model.json" if command == "score" else "bundle.json")
    for target in (copy, model):
        before = target.read_bytes()
        capsys.readouterr()
        rc = main([command, str(copy), "--model", str(model), "--out", str(target)])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and "is one of the input files" in err, err
        assert_actionable(err.removeprefix("error: "))
        assert target.read_bytes() == before


def test_run_refuses_an_output_folder_that_would_overwrite_its_input(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    source = out / "assignments.csv"
    source.write_bytes(to_tsv_bytes(planted_customers(60)))
    rc = main(["run", str(source), "--out", str(out), "--k", "3"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "is one of the input files" in err, err


@pytest.mark.parametrize(("field", "value"), [
    ("n_init", 1_000_000_000), ("n_init", 0), ("k", 3.5), ("k", "3"), ("k_min", None),
    ("random_state", -1), ("n_init", True),
])
def test_a_bundle_with_absurd_settings_is_refused_in_one_sentence(tmp_path, sample_path, sample_run,
                                                                  capsys, field, value):
    from segmentation.export.bundle import load_bundle

    load_bundle(sample_run["out"] / "bundle.json")  # untouched, it loads: the refusal below is the edit's
    bundle = json.loads((sample_run["out"] / "bundle.json").read_text())
    bundle["settings"][field] = value
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    capsys.readouterr()
    rc = main(["run", str(sample_path), "--out", str(tmp_path / "again"), "--previous",
               str(tampered)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err
    assert_actionable(err[-1].removeprefix("error: "))
