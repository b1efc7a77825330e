"""What the Plan page starts from: results columns guessed by name, baselines, balance columns,
and the bundle it saves with a sign-up model."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st_

from segmentation.cli import main
from segmentation.errors import SegmentationError
from segmentation.export.bundle import bundle_bytes, load_bundle
from segmentation.plan import abtest, campaign_results
from segmentation.plan.signup import predict_file, signup_candidates, train


@pytest.mark.parametrize(("header", "expected"), [
    (["customer_id", "arm", "clicked"], {"customer_id": "customer_id", "arm": "arm"}),
    (["Customer ID", "Group", "Sale"], {"customer_id": "Customer ID", "arm": "Group"}),
    (["client", "variant", "click"], {"customer_id": "client", "arm": "variant"}),
    (["user-id", "Test group", "opened"], {"customer_id": "user-id", "arm": "Test group"}),
    # The exact name wins over a looser spelling, wherever it stands.
    (["id", "group", "customer_id", "arm"], {"customer_id": "customer_id", "arm": "arm"}),
    (["ID", "x"], {"customer_id": "ID"}),  # the arm is left for the user to choose
    (["a", "b", "c"], {}),
    ([], {}),
])
def test_results_columns_are_guessed_by_their_names(header, expected):
    assert campaign_results.guess_columns(header) == expected


def test_one_column_is_not_guessed_for_two_fields():
    # "customer" could be read as either only by accident; a column serves one field.
    guessed = campaign_results.guess_columns(["group", "Group"])
    assert guessed == {"arm": "group"}


def test_guessed_columns_read_the_file_and_an_unguessed_arm_names_what_is_missing():
    data = b"Customer ID,Variant,click\n1,A,0\n2,B,1\n"
    header = campaign_results.results_header(data)
    assert header == ["Customer ID", "Variant", "click"]
    read = campaign_results.read_results(data, columns=campaign_results.guess_columns(header))
    assert read["arm"].tolist() == ["control", "treatment"]
    assert read["click"].tolist() == [0, 1]
    bare = b"ID,x\n1,2\n"
    with pytest.raises(SegmentationError, match="no 'arm' column"):
        campaign_results.read_results(
            bare, columns=campaign_results.guess_columns(campaign_results.results_header(bare)))


def test_results_header_is_stripped_like_the_reader_strips_it():
    # A header cell " arm" read as is would be offered, then not found by the reader.
    header = campaign_results.results_header(b"customer_id, arm ,clicked\n1,A,0\n")
    assert header == ["customer_id", "arm", "clicked"]


def test_baselines_are_the_observed_rates_where_testable():
    rates = pd.DataFrame({"segment": [0, 1, 2, 3], "rate": [0.3, 0.0, float("nan"), 0.1]})
    # Hand-computed: the mean of the finite rates (0.3 + 0 + 0.1) / 3 stands in for segment 1
    # (a rate of 0 cannot be lifted), 2 (no responses known) and 4 (no rate at all).
    stand_in = (0.3 + 0.0 + 0.1) / 3
    assert abtest.default_baselines([0, 1, 2, 3, 4], rates) == pytest.approx(
        {0: 0.3, 1: stand_in, 2: stand_in, 3: 0.1, 4: stand_in})


@pytest.mark.parametrize("rates", [None, pd.DataFrame({"segment": [], "rate": []}),
                                   pd.DataFrame({"segment": [0, 1], "rate": [1.0, 1.0]})])
def test_without_a_usable_rate_every_baseline_is_the_fallback(rates):
    assert abtest.default_baselines([0, 1], rates) == {0: abtest.FALLBACK_BASELINE,
                                                       1: abtest.FALLBACK_BASELINE}


# An observed rate is responders out of customers, so never finer than one in a hundred
# thousand here.
observed_rate = st_.integers(1, 100_000).flatmap(
    lambda n: st_.integers(0, n).map(lambda k: k / n))


@given(st_.lists(st_.one_of(observed_rate, st_.just(float("nan"))), min_size=1, max_size=8))
def test_every_baseline_is_a_testable_rate(values):
    rates = pd.DataFrame({"segment": range(len(values)), "rate": values})
    baselines = abtest.default_baselines(range(len(values) + 1), rates)
    assert set(baselines) == set(range(len(values) + 1))
    # A rate of 0 or 1 cannot be lifted: plan_tests refuses it, so no default may be one.
    assert all(0 < b < 1 for b in baselines.values())
    testable = [v for v in values if 0 < v < 1]
    assert [baselines[s] for s, v in enumerate(values) if 0 < v < 1] == testable


def test_balance_columns_are_income_spend_and_recency(sample_result):
    profiles = sample_result.profiles
    expected = [profiles.first("income"), profiles.first("total_spend"),
                profiles.first("recency")]
    assert None not in expected
    assert abtest.balance_columns(sample_result) == expected


@pytest.mark.slow  # a command-line run with the sign-up model
def test_saved_bundle_with_signup_is_the_command_lines(sample_path, sample_result, tmp_path):
    """The Plan page's bundle and `run --signup`'s: one writer, the same file but its date."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(["run", str(sample_path), "--out", str(tmp_path), "--signup"])
    assert rc == 0, err.getvalue()
    written = (tmp_path / "bundle.json").read_bytes()
    model = train(sample_result, signup_candidates(sample_result),
                  random_state=sample_result.config.random_state)
    saved = bundle_bytes(sample_result, sample_result.personas, signup=model)
    page, cli = json.loads(saved), json.loads(written)
    for saved_json in (page, cli):  # the times they were written at, and nothing else, differ
        assert saved_json.pop("created") and saved_json["model"].pop("created")
    assert page == cli
    fresh = pd.read_csv(sample_path, sep="\t", dtype=str).head(60)
    new = fresh.to_csv(sep="\t", index=False).encode()
    from_page, from_cli = load_bundle(saved), load_bundle(written)
    got, expected = predict_file(new, from_page), predict_file(new, from_cli)
    assert got["segment"].tolist() == expected["segment"].tolist()
    assert got["persona"].tolist() == expected["persona"].tolist()
    np.testing.assert_array_equal(got["probability"], expected["probability"])
    # and the same segments as the model trained here, not merely the same file twice
    assert got["segment"].tolist() == predict_file(new, model)["segment"].tolist()
