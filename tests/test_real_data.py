"""Acceptance checks on the public Kaggle export (skipped where the file is absent)."""

from __future__ import annotations

import json

import pytest

from segmentation.export.outputs import summary_dict, write_outputs

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

CONSTANT_COLUMNS = ("Z_CostContact", "Z_Revenue")


@pytest.fixture(scope="module")
def real_summary(real_result, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("real")
    paths = write_outputs(real_result, out)
    return json.loads(paths["summary.json"].read_text(encoding="utf-8"))


def test_loads_with_no_options(real_result):
    assert real_result.raw.rows_read == 2240
    assert real_result.raw.delimiter == "\t"
    assert real_result.raw.malformed_lines == ()
    assert real_result.dataset.id_column == "ID"


def test_missing_incomes_imputed_and_reported(real_result, real_summary):
    report = real_result.features.report
    assert report.missing["Income"] == 24
    assert report.imputed["Income"] == 24
    assert real_summary["missing_values"]["Income"] == 24
    assert real_summary["imputed"]["Income"] == 24
    assert "Income" in real_result.features.features
    income = real_result.features.frame["Income"]
    assert income.notna().all()
    assert len(income) == 2240


def test_constant_z_columns_excluded(real_result, real_summary):
    for column in CONSTANT_COLUMNS:
        assert column in real_summary["excluded_columns"]
        assert "same value" in real_summary["excluded_columns"][column]
        assert column not in real_summary["features"]
        assert column not in real_result.features.frame.columns


def test_recommended_k_in_three_to_five(real_result, real_summary):
    assert 3 <= real_result.sweep.recommended_k <= 5
    assert real_summary["chosen_k"] == real_summary["recommended_k"]
    assert [m["k"] for m in real_summary["metrics"]] == [2, 3, 4, 5, 6]
    assert real_summary["k_reason"]


def test_every_row_accounted_for(real_result, real_summary):
    assert real_summary["rows_read"] == 2240
    assert real_summary["rows_read"] == (real_summary["rows_kept"]
                                         + sum(real_summary["rows_dropped"].values()))
    ids = real_result.segmentation.customer_ids
    assert ids.is_unique
    assert len(ids) == real_summary["rows_kept"]
    assert sum(s["size"] for s in real_summary["segments"]) == real_summary["rows_kept"]


def test_personas_named_and_unique(real_result):
    names = [p.name for p in real_result.personas]
    assert len(names) == real_result.chosen_k
    assert all(name.strip() for name in names)
    assert len(set(names)) == len(names)
    assert [p.segment for p in real_result.personas] == list(range(real_result.chosen_k))


def test_summary_dict_matches_the_written_file(real_result, real_summary):
    direct = json.loads(json.dumps(summary_dict(real_result)))
    for key in ("rows_read", "rows_kept", "rows_dropped", "features", "chosen_k", "seed"):
        assert direct[key] == real_summary[key]
