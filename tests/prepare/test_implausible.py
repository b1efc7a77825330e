"""Infinite, absurd and mistyped values are implausible values: flagged and handled, never a crash.

Each case compares a file holding the bad value with the same file where
that cell is blank (or holds a plausible value), so the expectation comes
from the engine's ordinary missing-value path, not from the code under test.
"""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation import read_table
from segmentation.cli import main
from segmentation.data.dataset import load_dataset
from segmentation.prepare.features import PrepConfig, prepare
from tests.helpers import planted_customers, to_tsv_bytes

SPEND = ["MntWines", "MntFruits", "MntMeatProducts", "MntGoldProds", "NumWebPurchases"]


def _features(frame: pd.DataFrame, **config):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow is a defect, not noise
        return prepare(load_dataset(read_table(to_tsv_bytes(frame))), PrepConfig(**config))


def _plain(n: int, seed: int) -> pd.DataFrame:
    frame = planted_customers(n=n, seed=seed)
    frame.attrs = {}
    return frame


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return _plain(300, 3)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 299), column=st.sampled_from(SPEND + ["Income", "Recency"]),
       value=st.sampled_from(["inf", "-inf", "Infinity", "1e15", "-1e15", "1e200", "-1e308",
                              "9" * 400]))
def test_an_absurd_number_is_handled_exactly_like_a_missing_one(base, row, column, value):
    bad = base.astype({column: object})
    bad.loc[row, column] = value
    blank = base.astype({column: object})
    blank.loc[row, column] = ""
    got, want = _features(bad), _features(blank)
    assert got.features == want.features
    np.testing.assert_allclose(got.X, want.X)
    assert np.isfinite(got.X).all()
    assert got.X.std(axis=0).min() > 0.1  # the column with the bad value still separates customers


def test_the_count_of_absurd_values_is_reported(base):
    bad = base.astype({"MntWines": object, "Income": object})
    bad.loc[[0, 5], "MntWines"] = "1e200"
    bad.loc[7, "Income"] = "1e16"
    dataset = load_dataset(read_table(to_tsv_bytes(bad)))
    assert dataset.absurd == {"MntWines": 2, "Income": 1}
    assert any("2 in MntWines" in n and "1 in Income" in n for n in dataset.notes)


def test_infinities_in_parquet_are_missing_values_and_an_all_infinite_column_says_so(base, tmp_path):
    frame = base.astype({"MntWines": float, "MntFruits": float})
    frame.loc[:9, "MntWines"] = np.inf
    frame["MntFruits"] = -np.inf
    path = tmp_path / "inf.parquet"
    frame.to_parquet(path)
    dataset = load_dataset(read_table(path))
    assert dataset.absurd == {"MntWines": 10}
    assert dataset.excluded_columns["MntFruits"].startswith("no finite number")
    assert "same value" not in dataset.excluded_columns["MntFruits"]


@pytest.mark.slow  # a whole command-line run
def test_a_run_with_1e200_exits_cleanly_with_whole_outputs(base, tmp_path):
    bad = base.astype({"MntWines": object})
    bad.loc[3, "MntWines"] = "1e200"
    source = tmp_path / "bad.tsv"
    source.write_bytes(to_tsv_bytes(bad))
    err = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        from contextlib import redirect_stderr, redirect_stdout
        with redirect_stderr(err), redirect_stdout(io.StringIO()):
            rc = main(["run", str(source), "--out", str(tmp_path / "out"), "--n-init", "2"])
    assert rc == 0, err.getvalue()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())  # strict JSON
    assert any("1 in MntWines" in w for w in summary["warnings"])
    assigned = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype=str)
    assert len(assigned) == len(base)


def test_a_value_far_beyond_the_column_is_flagged_and_clipped(base):
    bad = base.copy()
    bad.loc[4, "MntFruits"] = 5e12  # a unit slip, still a representable number
    fm = _features(bad)
    assert fm.report.outliers.get("MntFruits") == 1
    blank_max = base["MntFruits"].drop(index=4).max()
    assert fm.frame.loc[bad.loc[4, "ID"], "MntFruits"] == blank_max  # clipped to the plausible top


@settings(max_examples=10, deadline=None)
@given(sigma=st.floats(0.2, 2.0), seed=st.integers(0, 10_000))
def test_heavy_tailed_real_amounts_are_not_flagged(sigma, seed):
    rng = np.random.default_rng(seed)
    frame = _plain(300, seed % 7)
    frame["MntFruits"] = np.round(rng.lognormal(3, sigma, len(frame)), 2)
    frame["NumWebVisitsMonth"] = rng.lognormal(1, sigma, len(frame))  # a measure with no own rule
    fm = _features(frame)
    assert "MntFruits" not in fm.report.outliers
    assert "NumWebVisitsMonth" not in fm.report.outliers


def test_the_far_fence_is_wide_enough_for_a_million_log_normal_customers():
    # Why FAR_FENCE is 1000: the largest of a million log-normal(sigma=2) draws
    # lies about a hundred middle-99% spans beyond the 99.5th percentile.
    from segmentation.prepare.features import FAR_FENCE

    values = np.random.default_rng(0).lognormal(0, 2, 1_000_000)
    q005, q50, q995 = np.quantile(values, [0.005, 0.5, 0.995])
    spans = (values.max() - q995) / max(q995 - q005, q50, 1.0)
    assert spans < FAR_FENCE / 5


def _with_signups(frame: pd.DataFrame, rows, date: str) -> pd.DataFrame:
    out = frame.copy()
    out.loc[rows, "Dt_Customer"] = date
    return out


def test_signups_mistyped_into_2099_do_not_move_the_reference_year(base):
    typo = _with_signups(base, [0, 1, 2, 3, 4], "01-01-2099")
    fm, plain = _features(typo), _features(base)
    assert fm.preparation.reference_year == plain.preparation.reference_year == 2014
    assert fm.report.outliers.get("Dt_Customer") == 5
    ages = fm.frame["age"]
    assert ages.between(16, 100).all() and ages.max() < 90
    assert fm.frame["tenure_days"].max() <= plain.frame["tenure_days"].max()
    # The age rule ran: the planted ages are ordinary, so nobody needed flagging.
    assert "age" not in fm.report.outliers


def test_a_placeholder_signup_date_far_before_the_rest_is_flagged(base):
    fm = _features(_with_signups(base, [9], "01-01-1900"))
    assert fm.report.outliers.get("Dt_Customer") == 1
    assert fm.frame["tenure_days"].max() < 3 * 365


def test_excluding_future_signups_drops_exactly_those_customers(base):
    typo = _with_signups(base, [10, 11], "15-06-2099")
    fm = _features(typo, outliers="exclude")
    gone = set(base.loc[[10, 11], "ID"])
    assert gone.isdisjoint(fm.customer_ids)
    assert fm.n_customers == len(base) - 2


@settings(max_examples=8, deadline=None)
@given(start=st.integers(1995, 2015), years=st.integers(1, 10), seed=st.integers(0, 1000))
def test_signups_spread_evenly_over_years_are_never_flagged(start, years, seed):
    rng = np.random.default_rng(seed)
    frame = _plain(200, seed % 5)
    days = rng.integers(0, years * 365, len(frame))
    frame["Dt_Customer"] = (pd.Timestamp(f"{start}-01-01") + pd.to_timedelta(days, unit="D")
                            ).strftime("%d-%m-%Y")
    fm = _features(frame)
    assert "Dt_Customer" not in fm.report.outliers
    latest = pd.to_datetime(frame["Dt_Customer"], format="%d-%m-%Y").max()
    assert fm.preparation.reference_year == latest.year


def test_an_age_check_that_no_value_passes_is_reported_not_skipped_silently(base):
    months = base.rename(columns={"Year_Birth": "Age"}).assign(Age=lambda f: (2014 - f["Age"]) * 12)
    fm = _features(months)
    assert any("no value passes the check" in w and "16-100" in w for w in fm.report.warnings)
