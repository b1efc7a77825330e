"""Predicting a new customer's segment from sign-up data: honest evaluation, exact replay."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from segmentation import RunConfig, run
from segmentation.cli import main
from segmentation.errors import SegmentationError
from segmentation.export.assignments import ASSIGNMENT_COLUMNS
from segmentation.export.bundle import bundle_bytes
from segmentation.plan.signup import (
    SignupModel,
    _add_to_bundle,
    _model_from_bundle,
    predict_file,
    signup_candidates,
    train,
)
from tests.helpers import assert_actionable, planted_customers, to_tsv_bytes

FAST = RunConfig(k=3, n_init=2, stability=False)


@pytest.fixture(scope="module")
def planted_result():
    return run(to_tsv_bytes(planted_customers()), FAST, name="planted.tsv")


@pytest.fixture(scope="module")
def planted_model(planted_result):
    return train(planted_result)


def shuffled(result, seed: int = 1):
    """The same segments, with every sign-up variable permuted across customers."""
    rng = np.random.default_rng(seed)
    frame = result.features.frame.copy()
    for col in signup_candidates(result):
        frame[col] = rng.permutation(frame[col].to_numpy())
    return replace(result, features=replace(result.features, frame=frame))


def call(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def test_candidates_are_demographics_without_tenure_or_behaviour(planted_result):
    cands = signup_candidates(planted_result)
    assert {"Income", "age", "children", "household_size", "education_level"} <= set(cands)
    assert "tenure_days" not in cands
    for bad in ("MntWines", "total_spend", "Recency", "NumWebPurchases", "Response"):
        assert bad not in cands


def test_planted_demographics_predict_the_segment(planted_model):
    ev = planted_model.evaluation
    assert planted_model.predicts
    assert "predicts the segment" in planted_model.verdict
    assert "cannot" not in planted_model.verdict
    for name in ("tree", "logistic"):
        assert ev[name]["accuracy"] > ev["baseline_accuracy"] + 0.3
    assert planted_model.confusion.to_numpy().sum() == 600
    assert planted_model.rules and all("→" in r for r in planted_model.rules)
    names = set(planted_model.persona_names.values())
    assert any(r.split("→ ")[1].split(" (")[0] in names for r in planted_model.rules)
    assert "|---" in ev["tree_text"]


def test_noise_demographics_cannot_predict(planted_result):
    model = train(shuffled(planted_result))
    assert not model.predicts
    assert "cannot predict" in model.verdict
    ev = model.evaluation
    assert ev[ev["best_model"]]["accuracy"] < ev["baseline_accuracy"] + 0.1


def test_stored_models_replay_sklearn_exactly(planted_result, planted_model):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    frame = shuffled(planted_result, seed=3).features.frame[list(planted_model.features)]
    frame = pd.concat([planted_result.features.frame[list(planted_model.features)], frame])
    frame.index = [f"R{i}" for i in range(len(frame))]
    X_train = planted_model.design(planted_result.features.frame)
    y = planted_result.segmentation.labels
    X = planted_model.design(frame)
    lr = Pipeline([("scale", StandardScaler()),
                   ("model", LogisticRegression(max_iter=2000))]).fit(X_train, y)
    tree = DecisionTreeClassifier(max_depth=3, random_state=42).fit(X_train, y)
    out = planted_model.predict(frame)
    assert list(out.columns) == ["customer_id", "segment", "persona", "probability"]
    assert (out["segment"].to_numpy() == lr.predict(X)).all()
    np.testing.assert_allclose(out["probability"], lr.predict_proba(X).max(axis=1), rtol=1e-9)
    assert (planted_model.predict_tree(frame) == tree.predict(X)).all()


def test_json_round_trip_gives_identical_predictions(planted_result, planted_model):
    text = json.dumps(planted_model.to_dict(), allow_nan=False)
    again = SignupModel.from_dict(json.loads(text))
    frame = shuffled(planted_result, seed=5).features.frame
    pd.testing.assert_frame_equal(again.predict(frame), planted_model.predict(frame))
    assert (again.predict_tree(frame) == planted_model.predict_tree(frame)).all()
    assert again.verdict == planted_model.verdict


def test_damaged_model_is_refused(planted_model):
    data = planted_model.to_dict()
    data["logistic"] = {**data["logistic"], "coef": [[1.0]]}
    with pytest.raises(SegmentationError, match="damaged"):
        SignupModel.from_dict(data)
    with pytest.raises(SegmentationError):
        SignupModel.from_dict({"format": "other"})


def test_predict_file_with_bundle_and_missing_values(planted_result, planted_model):
    bundle = _add_to_bundle(json.loads(bundle_bytes(planted_result, planted_result.personas)),
                           planted_model)
    new = planted_customers(n=60, seed=9)
    new.loc[0, "Income"] = np.nan
    out = predict_file(to_tsv_bytes(new), bundle)
    assert len(out) == 60
    agree = (out["segment"].to_numpy() == planted_model.predict(
        planted_model_frame(planted_result, new))["segment"].to_numpy()).mean()
    assert agree == 1.0
    truth = new.attrs["planted"]
    # segments were found from behaviour; each planted type maps to one segment
    mapping = pd.crosstab(truth, out["segment"].to_numpy())
    assert (mapping.max(axis=1) == mapping.sum(axis=1)).all()


def test_predict_file_warns_about_a_category_value_never_seen():
    from segmentation import RunConfig, run
    from tests.helpers.shapes import bank, to_bytes

    table = bank(n=600)
    result = run(to_bytes(table, ";"), RunConfig(k=3, stability=False))  # K given: no sweep read
    model = train(result, features=["age", "job"])
    assert "job" in model.categories
    known = predict_file(to_bytes(table, ";"), model)
    assert known.attrs["warnings"] == ()
    table.loc[:4, "job"] = "astronaut"
    out = predict_file(to_bytes(table, ";"), model)
    assert len(out) == 600
    (warning,) = out.attrs["warnings"]
    assert warning.startswith("5 customers") and "'astronaut'" in warning


def planted_model_frame(result, table):
    from segmentation.data.customer_file import read_table
    from segmentation.data.dataset import load_dataset
    from segmentation.plan.signup import _signup_frame

    model = train(result)
    raw = read_table(to_tsv_bytes(table), name="new.tsv")
    return _signup_frame(load_dataset(raw, roles=model.roles), model)


def test_bundle_without_signup_is_refused(planted_result):
    bundle = json.loads(bundle_bytes(planted_result, planted_result.personas))
    with pytest.raises(SegmentationError, match="(?i)this bundle has no sign-up model: "):
        _model_from_bundle(bundle)


def test_cli_predict_writes_file(tmp_path, planted_result, planted_model):
    bundle = _add_to_bundle(json.loads(bundle_bytes(planted_result, planted_result.personas)),
                           planted_model)
    (tmp_path / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    (tmp_path / "new.tsv").write_bytes(to_tsv_bytes(planted_customers(n=30, seed=4)))
    rc, out, err = call(["predict", tmp_path / "new.tsv", "--model", tmp_path / "bundle.json",
                         "--out", tmp_path / "pred.csv"])
    assert rc == 0, err
    written = pd.read_csv(tmp_path / "pred.csv", dtype={"customer_id": str})
    assert list(written.columns) == [*ASSIGNMENT_COLUMNS, "probability"]
    assert (written["status"] == "segmented").all()
    assert len(written) == 30
    assert set(written["persona"]) <= {p.name for p in planted_result.personas}


@pytest.mark.parametrize("case", ["no_signup", "missing_bundle", "not_json", "lacks_columns"])
def test_cli_predict_bad_inputs_exit_2_with_one_line(tmp_path, planted_result, case):
    plain = json.loads(bundle_bytes(planted_result, planted_result.personas))
    new = planted_customers(n=30, seed=4)
    bundle = tmp_path / "bundle.json"
    if case == "no_signup":
        bundle.write_text(json.dumps(plain), encoding="utf-8")
    elif case == "not_json":
        bundle.write_text("not json", encoding="utf-8")
    elif case == "lacks_columns":
        bundle.write_text(json.dumps(_add_to_bundle(plain, train(planted_result))),
                          encoding="utf-8")
        new = new.drop(columns=["Income"])
    (tmp_path / "new.tsv").write_bytes(to_tsv_bytes(new))
    rc, out, err = call(["predict", tmp_path / "new.tsv", "--model", bundle,
                         "--out", tmp_path / "pred.csv"])
    assert rc == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    if case == "no_signup":
        assert "this bundle has no sign-up model: " in lines[0].lower()
    assert not (tmp_path / "pred.csv").exists()


def test_rules_name_each_variable_once(planted_model):
    for rule in planted_model.rules:
        conditions = rule.split(" → ")[0].removeprefix("If ").split(" and ")
        labels = [c.replace("<", "≤").split("≤")[-2 if c.count("≤") == 2 else 0]
                  .split(">")[0].strip() for c in conditions]
        assert len(labels) == len(set(labels)), rule


def test_category_columns_are_one_hot_and_predictive():
    table = planted_customers(n=300, seed=2)
    table["Channel"] = np.array(["Partner", "Store", "Web"])[table.attrs["planted"]]
    config = replace(FAST, roles=(("Channel", "category"),))
    result = run(to_tsv_bytes(table), config, name="channel.tsv")
    assert "Channel" in signup_candidates(result)
    model = train(result, features=["Channel"])
    assert model.columns == ("Channel=Partner", "Channel=Store", "Channel=Web")
    assert model.predicts
    assert any("Channel is" in r for r in model.rules)
    out = predict_file(to_tsv_bytes(table), model)
    assert (out["segment"].to_numpy() == result.segmentation.labels).mean() > 0.95


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """A planted file run twice by the command line, with and without --signup, and the
    sign-up predictions the engine makes directly from the same settings."""
    folder = tmp_path_factory.mktemp("signup_cli")
    frame = planted_customers(450, seed=5)
    frame.attrs = {}
    (folder / "customers.tsv").write_bytes(to_tsv_bytes(frame))
    new = planted_customers(n=60, seed=9)
    new.loc[0, "Income"] = np.nan
    (folder / "new.tsv").write_bytes(to_tsv_bytes(new))
    for out, extra in (("with", ["--signup"]), ("without", [])):
        rc, _, err = call(["run", folder / "customers.tsv", "--out", folder / out, "--k", "3",
                           "--k-min", "3", "--k-max", "3", "--n-init", "2", *extra])
        assert rc == 0, err
    result = run(folder / "customers.tsv", RunConfig(k=3, k_min=3, k_max=3, n_init=2))
    return folder, new, predict_file(folder / "new.tsv", train(result))


@pytest.mark.slow  # command-line runs (the cli_runs fixture)
@pytest.mark.parametrize("option", ["--bundle", "--model"])
def test_run_signup_writes_a_bundle_predict_reads_like_the_engine(cli_runs, option):
    folder, new, expected = cli_runs
    out = folder / f"predicted{option}.csv"
    rc, _, err = call(["predict", folder / "new.tsv", option, folder / "with" / "bundle.json",
                       "--out", out])
    assert rc == 0, err
    written = pd.read_csv(out, dtype={"customer_id": str})
    # The same segmentation and sign-up model, made by the engine directly.
    assert written["customer_id"].tolist() == expected["customer_id"].tolist()
    assert written["segment"].tolist() == expected["segment"].tolist()
    assert written["persona"].tolist() == expected["persona"].tolist()
    np.testing.assert_allclose(written["probability"], expected["probability"], rtol=1e-9)
    # Each planted type of customer goes to one segment, as demographics were planted.
    mapping = pd.crosstab(new.attrs["planted"], written["segment"].to_numpy())
    assert (mapping.max(axis=1) == mapping.sum(axis=1)).all()


@pytest.mark.slow  # command-line runs (the cli_runs fixture)
def test_a_bundle_without_signup_model_says_how_to_make_one(cli_runs, capsys):
    folder, _, _ = cli_runs
    rc = main(["predict", str(folder / "new.tsv"), "--bundle",
               str(folder / "without" / "bundle.json"), "--out", str(folder / "none.csv")])
    err = capsys.readouterr().err
    assert rc == 2
    (line,) = err.splitlines()
    assert line.startswith("error: This bundle has no sign-up model: ")
    assert "--signup" in line and "Plan page" in line
    assert_actionable(line.removeprefix("error: "))
    assert not (folder / "none.csv").exists()


@pytest.mark.parametrize("argv, fragment", [
    ([], "--bundle is required"),
    (["--bundle", "b.json", "--model", "b.json"], "not allowed with"),
])
def test_predict_needs_exactly_one_bundle_option(argv, fragment, tmp_path, capsys):
    rc = main(["predict", "new.tsv", *argv, "--out", str(tmp_path / "p.csv")])
    (line,) = capsys.readouterr().err.splitlines()
    assert rc == 2 and line.startswith("error: ") and fragment in line


@pytest.mark.slow  # command-line runs (the cli_runs fixture)
def test_predict_file_takes_a_loaded_bundle(cli_runs):
    from segmentation.export.bundle import load_bundle

    folder, _, _ = cli_runs
    bundle = load_bundle(folder / "with" / "bundle.json")
    by_path = predict_file(folder / "new.tsv", folder / "with" / "bundle.json")
    by_bundle = predict_file(folder / "new.tsv", bundle)
    pd.testing.assert_frame_equal(by_bundle, by_path)
    with pytest.raises(SegmentationError, match="has no sign-up model: .*--signup"):
        predict_file(folder / "new.tsv", load_bundle(folder / "without" / "bundle.json"))
