"""Any one-row-per-customer table: column meaning, the default variables, mixed data, K, names.

Every fixture comes from ``tests/helpers/shapes.py`` (wholesale, bank, subscription, a retailer
with a running number), each with planted groups and columns that must not drive the
segments (codes, calendar parts, sentinels, ids, leaks, outcomes).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from segmentation import RunConfig, read_table, run
from segmentation.cli import main
from segmentation.cluster.kmeans import MAX_DOMINANT_SHARE, MIN_ACTIONABLE_SHARE, _recommend_k
from segmentation.cluster.model import load_model, score
from segmentation.data.dataset import load_dataset
from segmentation.data.roles import describe_columns, kind_of
from segmentation.errors import SegmentationError
from segmentation.export.outputs import summary_dict, write_outputs
from segmentation.prepare.features import FLAG_SCALE, PrepConfig, prepare, transform
from tests.helpers import assert_actionable
from tests.helpers.shapes import ALL_SHAPES, bank, subscription, to_bytes, wholesale

SHAPES = sorted(ALL_SHAPES)


def shape(name):
    generate, sep = ALL_SHAPES[name]
    frame = generate()
    return frame, to_bytes(frame, sep)


@pytest.fixture(scope="module", params=SHAPES)
def default_run(request):
    # Default preparation and naming at the planted K. With K given, the sweep's split-half
    # agreement (two thirds of a run's time here) changes no feature, label or name, and no
    # test in this module reads it: its runs at a given K leave it out (`stability=False`,
    # or a sweep of that K alone on the command line).
    frame, data = shape(request.param)
    k = len(np.unique(frame.attrs["planted"]))
    return request.param, frame, run(data, RunConfig(k=k, stability=False), name=request.param)


# --- column meaning ----------------------------------------------------------------------------

EXPECTED_KINDS = {
    "wholesale": {"Channel": "category", "Region": "category", "Fresh": "measure"},
    "bank": {"job": "category", "education": "category", "default": "binary", "balance": "money",
             "day": "calendar", "month": "calendar", "duration": "leak", "pdays": "sentinel",
             "y": "outcome", "age": "measure"},
    "subscription": {"user_id": "identifier", "plan": "category", "signup_date": "date",
                     "monthly_fee": "money", "churned": "outcome", "signup_weekday": "calendar",
                     "sessions_30d": "measure"},
    "retail_no_id": {"customer_ref": "identifier", "avg_basket": "money", "newsletter": "binary",
                     "store_pref": "category"},
}


@pytest.mark.parametrize("name", SHAPES)
def test_every_column_gets_its_kind_and_a_reason(name):
    _, data = shape(name)
    raw = read_table(data)
    meanings = describe_columns(raw.frame, raw.decimal)
    assert list(meanings) == list(raw.frame.columns)
    for col, kind in EXPECTED_KINDS[name].items():
        assert meanings[col].kind == kind, (col, meanings[col])
    for m in meanings.values():
        assert m.kind == kind_of(m.role)
        assert m.reason and "\n" not in m.reason


def test_sentinel_is_split_into_a_flag_and_a_measure():
    frame, data = shape("bank")
    fm = prepare(load_dataset(read_table(data)))
    never = frame["pdays"].astype(int) == -1
    flag = fm.frame["pdays_not_applicable"].to_numpy()
    np.testing.assert_array_equal(flag, never.to_numpy().astype(float))
    measure = fm.frame["pdays"]
    assert measure[never.to_numpy()].isna().all()  # missing where "not applicable"
    assert (measure[~never.to_numpy()] >= 0).all()


def test_integer_codes_are_categories_never_averaged():
    fm = prepare(load_dataset(read_table(shape("wholesale")[1])))
    assert fm.variables["Channel"].kind == "category"
    levels = [n for n, v in fm.variables.items() if v.kind == "level" and v.sources == ("Channel",)]
    assert sorted(fm.variables[n].detail for n in levels) == ["1", "2"]
    # each level's mean is a share of customers, and the shares add up to one
    np.testing.assert_allclose(fm.frame[levels].sum(axis=1), 1.0)


# --- the default run ---------------------------------------------------------------------------

def test_default_run_never_clusters_on_noise_columns(default_run):
    name, frame, result = default_run
    used = {s for f in result.features.features for s in result.features.variables[f].sources}
    noise = set(frame.attrs["noise"])
    assert not used & noise, (name, used & noise)
    for f in result.features.features:
        assert result.features.variables[f].kind not in {
            "category", "level", "calendar", "binary", "outcome", "sentinel_flag", "measure_na",
            "leak"}, f


def test_default_run_recovers_the_planted_groups(default_run):
    name, frame, result = default_run
    ari = adjusted_rand_score(frame.attrs["planted"], result.segmentation.labels)
    assert ari >= 0.8, (name, ari, result.features.features)


def test_claims_are_written_to_profiles_and_summary(default_run, tmp_path):
    name, _, result = default_run
    paths = write_outputs(result, tmp_path)
    profiles = pd.read_csv(paths["profiles.csv"])
    summary = json.loads(paths["summary.json"].read_text())
    for p in result.personas:
        row = profiles.loc[profiles["segment"] == p.segment].iloc[0]
        for claim in p.claims:
            assert claim.word in row["name_claims"]
        written = summary["segments"][p.segment]["claims"]
        assert [c["word"] for c in written] == [c.word for c in p.claims]
        for c in written:  # every claim reads back against the profile's own numbers
            mean_col = f"mean_{c['variable']}"
            if mean_col in profiles.columns and not c["rule"].startswith("compared"):
                assert row[mean_col] == pytest.approx(c["segment_value"], rel=1e-6)
    text = paths["profiles.csv"].read_text()
    assert "None" not in text and ",nan," not in text
    assert {c["column"] for c in summary["columns"]} == set(result.dataset.roles)


# --- mixed data --------------------------------------------------------------------------------

def test_categories_and_flags_can_be_clustered_on():
    frame, data = shape("bank")
    config = RunConfig(k=3, stability=False, prep=PrepConfig(
        features=("age", "balance", "job", "marital", "housing", "loan")))
    result = run(data, config)
    features = result.features.features
    job_levels = [f for f in features if f.startswith("job = ")]
    assert len(job_levels) >= 5 and "housing" in features
    prep = result.features.preparation
    for j, f in enumerate(features):
        if f in job_levels:
            assert prep.center[j] == 0 and prep.scale[j] == 1  # 0/1 as they are
        elif f == "housing":
            assert prep.scale[j] == pytest.approx(FLAG_SCALE)
    assert adjusted_rand_score(frame.attrs["planted"], result.segmentation.labels) >= 0.8
    # a category weighs like one number, however many levels it has: a mismatch costs 2
    X = result.features.X
    job = X[:, [features.index(f) for f in job_levels]]
    a, b = np.flatnonzero(job[:, 0] == 1)[0], np.flatnonzero(job[:, 1] == 1)[0]
    assert np.sum((job[a] - job[b]) ** 2) == pytest.approx(2.0)


def test_a_category_weight_applies_to_all_its_levels():
    _, data = shape("bank")
    fm = prepare(load_dataset(read_table(data)),
                 PrepConfig(features=("age", "job"), weights=(("job", 4.0),)))
    prep = fm.preparation
    for f, w in zip(prep.features, prep.weights, strict=True):
        assert w == (4.0 if f.startswith("job = ") else 1.0)


def test_scoring_warns_about_a_category_value_never_seen(tmp_path):
    frame, data = shape("bank")
    result = run(data, RunConfig(k=3, stability=False,
                                 prep=PrepConfig(features=("age", "balance", "marital"))))
    write_outputs(result, tmp_path)
    new = frame.copy()
    new.loc[:9, "marital"] = "widowed"
    new_path = tmp_path / "new.csv"
    new_path.write_bytes(to_bytes(new, ";"))
    scores = score(new_path, load_model(tmp_path / "model.json"))
    assert len(scores.assignments) == len(frame)
    assert any("widowed" in w and "10 customers" in w for w in scores.warnings), scores.warnings


def test_log_scaling_applies_to_any_measure_and_money():
    _, data = shape("wholesale")
    fm = prepare(load_dataset(read_table(data)), PrepConfig(scaling="log"))
    assert set(fm.preparation.log_features) == set(fm.features)  # six spend-like measures
    z = prepare(load_dataset(read_table(data)))
    assert not np.allclose(fm.X, z.X)
    raw = z.frame[list(z.features)].to_numpy(float)
    logged = np.log1p(raw)
    np.testing.assert_allclose(fm.X, (logged - logged.mean(0)) / logged.std(0), rtol=1e-9)


def test_skewed_money_gets_log_suggested_with_the_reason():
    _, data = shape("bank")
    fm = prepare(load_dataset(read_table(data)))
    assert "balance" in fm.report.skewed
    assert any("Balance" in s and "log scaling" in s for s in fm.report.suggestions)
    logged = prepare(load_dataset(read_table(data)), PrepConfig(scaling="log"))
    assert not logged.report.suggestions


# --- K that a user can act on --------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0.2, 0.9), st.floats(0.0, 0.5), st.floats(0.1, 1.0)),
                min_size=2, max_size=6))
def test_recommended_k_never_has_a_tiny_or_a_dominant_segment(rows):
    metrics = pd.DataFrame({
        "k": range(2, 2 + len(rows)),
        "inertia": np.linspace(100, 10, len(rows)),
        "silhouette": [r[0] for r in rows],
        "min_share": [r[1] / (2 + i) for i, r in enumerate(rows)],
        "max_share": [max(1 - r[1] / (2 + i) * (1 + i), 1 / (2 + i)) * r[2] + (1 - r[2]) * 0.99
                      for i, r in enumerate(rows)],
    })
    k, reason = _recommend_k(metrics)
    row = metrics.set_index("k").loc[k]
    usable = metrics[(metrics["min_share"] >= MIN_ACTIONABLE_SHARE)
                     & (metrics["max_share"] <= MAX_DOMINANT_SHARE)]
    if len(usable):
        assert row["min_share"] >= MIN_ACTIONABLE_SHARE and row["max_share"] <= MAX_DOMINANT_SHARE
    if len(usable):
        for bad in set(metrics["k"]) - set(usable["k"]):
            assert f"K = {bad} was passed over: one segment holds" in reason
    else:  # none is passed over when every K is: one note says so
        assert "was passed over" not in reason
        assert "the segments are not actionable as they stand" in reason


def test_reason_names_the_tiny_segment():
    metrics = pd.DataFrame({"k": [3, 4], "inertia": [50.0, 30.0], "silhouette": [0.4, 0.6],
                            "min_share": [0.2, 0.001], "max_share": [0.5, 0.5]})
    k, reason = _recommend_k(metrics)
    assert k == 3
    assert "K = 4 was passed over: one segment holds 0.1% of customers" in reason


# --- the command line --------------------------------------------------------------------------

def test_inspect_prints_each_column_with_kind_role_and_reason(tmp_path, capsys):
    _, data = shape("bank")
    path = tmp_path / "bank.csv"
    path.write_bytes(data)
    assert main(["inspect", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    by_col = {c["column"]: c for c in out["columns"]}
    assert by_col["pdays"]["kind"] == "sentinel" and by_col["pdays"]["reason"]
    assert main(["inspect", str(path)]) == 0
    table = capsys.readouterr().out
    assert "duration" in table and "leak" in table


def test_run_takes_roles_as_text_or_json(tmp_path, capsys):
    _, data = shape("wholesale")
    path = tmp_path / "w.csv"
    path.write_bytes(data)
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({"Channel": "measure"}))
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--k", "3",
                 "--k-min", "3", "--k-max", "3", "--roles", "Fresh=money,Milk=money"]) == 0
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    kinds = {c["column"]: c["kind"] for c in summary["columns"]}
    assert kinds["Fresh"] == kinds["Milk"] == "money"
    assert main(["run", str(path), "--out", str(tmp_path / "b"), "--k", "3",
                 "--k-min", "3", "--k-max", "3", "--roles", str(roles)]) == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert {c["column"]: c["kind"] for c in summary["columns"]}["Channel"] == "measure"
    assert {c["column"]: c["reason"] for c in summary["columns"]}["Channel"] == "set by the user"
    capsys.readouterr()


def test_inspect_says_how_the_file_was_read_and_which_lines_are_left_out(tmp_path, capsys):
    # A line with too many fields and a repeated id, then a file without an id column:
    # inspect printed only the columns, so these surfaced only after a run.
    lines = ["ID;Name;Spend", "1;Zoe;10", "2;Ana;20", "2;Ana;20", "3;Bo;30;extra",
             *[f"{i};N{i};{i}" for i in range(4, 40)]]
    path = tmp_path / "shop.csv"
    path.write_text("\n".join(lines))
    assert main(["inspect", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 40 and out["customers"] == 38  # one malformed line, one repeated id
    assert sum(out["left_out"].values()) == out["rows"] - out["customers"] == 2
    assert main(["inspect", str(path)]) == 0
    assert capsys.readouterr().out.count("left out: 1 line (") == 2
    no_ids = tmp_path / "no_ids.csv"
    no_ids.write_text("\n".join(line.split(";", 1)[1] for line in lines if line.count(";") == 2))
    assert main(["inspect", str(no_ids)]) == 0
    assert "note: No customer id column was found" in capsys.readouterr().out


@pytest.mark.parametrize("roles", ["Nope=money", "Fresh=monie", "Fresh", "missing.json"])
def test_bad_roles_exit_2_with_one_line(tmp_path, capsys, roles):
    _, data = shape("wholesale")
    path = tmp_path / "w.csv"
    path.write_bytes(data)
    rc = main(["run", str(path), "--out", str(tmp_path / "o"), "--roles", roles])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: ") and "\n" not in err
    assert_actionable(err.removeprefix("error: "))


def test_an_order_log_is_totalled_per_customer_unless_forced_to_be_a_table():
    rng = np.random.default_rng(0)
    n = 400
    log = pd.DataFrame({
        "CustomerID": rng.integers(1000, 1060, n).astype(str),
        "InvoiceDate": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n),
                                                                    unit="D"),
        "Quantity": rng.integers(1, 5, n),
        "UnitPrice": rng.gamma(2, 3, n).round(2),
    })
    data = log.to_csv(index=False).encode()
    with pytest.raises(SegmentationError) as info:  # forced to be a customer table
        run(data, RunConfig(input_kind="customers"), name="orders.csv")
    message = str(info.value)
    assert "log of order lines" in message and "transactions" in message
    assert_actionable(message)
    result = run(data, RunConfig(k=3, stability=False), name="orders.csv")  # totalled per customer
    assert result.dataset.log is not None
    assert result.segmentation.labels.size == log["CustomerID"].nunique()


# --- the Kaggle shape keeps its quality ------------------------------------------------------------

def test_the_sample_keeps_three_to_five_personas(sample_result):
    assert 3 <= sample_result.chosen_k <= 5
    assert all(p.claims for p in sample_result.personas)
    summary = summary_dict(sample_result)
    assert summary["rows_read"] == sample_result.dataset.rows_read


@pytest.mark.realdata
@pytest.mark.slow
def test_real_file_keeps_three_to_five_personas_and_row_accounting(real_result):
    result = real_result
    assert 3 <= result.chosen_k <= 5
    assert result.dataset.rows_read == 2240
    assert result.features.report.imputed.get("Income") == 24
    assert all(p.claims for p in result.personas)


def test_transform_replays_categories_and_sentinels():
    _, data = shape("bank")
    ds = load_dataset(read_table(data))
    fm = prepare(ds, PrepConfig(features=("age", "pdays", "job", "default")))
    again = transform(ds, fm.preparation)
    np.testing.assert_allclose(again.X, fm.X)
    assert again.features == fm.features


def test_subscription_fee_set_by_plan_is_left_out_of_the_default_with_the_reason():
    _, data = shape("subscription")
    fm = prepare(load_dataset(read_table(data)))
    assert "monthly_fee" not in fm.features
    assert fm.report.left_out["monthly_fee"] == (
        "one value per Plan: a property of the Plan, not a behaviour")


def test_no_mention_of_wholesale_or_bank_columns_in_the_engine():
    # Nothing after column meaning may name a particular dataset's columns.
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "segmentation"
    for path in root.glob("*.py"):
        if path.name in {"roles.py"}:
            continue
        text = path.read_text()
        for word in ("Fresh", "Grocery", "pdays", "sessions_30d", "Delicassen"):
            assert f'"{word}"' not in text, (path.name, word)


def test_wholesale_and_bank_helpers_are_deterministic():
    assert wholesale().equals(wholesale()) and bank().equals(bank())
    assert subscription(n=300).shape[0] == 300


def test_labels_from_the_command_line_name_the_personas(tmp_path, capsys):
    _, data = shape("wholesale")
    path = tmp_path / "w.csv"
    path.write_bytes(data)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--k", "3",
                 "--k-min", "3", "--k-max", "3",
                 "--labels", "Delicassen=Delicatessen,Detergents_Paper=Paper goods"]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    names = " ".join(s["persona"] for s in summary["segments"])
    labels = {c["label"] for s in summary["segments"] for c in s["claims"]}
    assert "Delicatessen" in names and "Delicassen" not in names
    assert "Paper goods" in labels or "Paper goods" in names
    rc = main(["run", str(path), "--out", str(tmp_path / "p"), "--labels", "Delicassen"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: --labels")
    rc = main(["run", str(path), "--out", str(tmp_path / "q"), "--labels", "Nope=X"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "'Nope'" in err and "\n" not in err
    assert_actionable(err.removeprefix("error: "))
