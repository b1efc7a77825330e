"""The report's "What drives the segments" section: the engine's figures, the warning, the
ablation table when it was computed."""

from __future__ import annotations

import pytest

from report.html import build_report
from segmentation.describe.drivers import segment_drivers, split_warning
from segmentation.validate.ablation import ablate
from tests.report.test_report import Page, stability_of


@pytest.fixture(scope="module")
def stability(sample_result):
    return stability_of(sample_result, n_boot=5)


@pytest.fixture(scope="module")
def ablation(sample_result):
    return ablate(sample_result.features, sample_result.segmentation)


@pytest.fixture(scope="module")
def page(sample_result, stability, ablation):
    split, boot = stability
    return Page(build_report(sample_result, split=split, bootstrap=boot, ablation=ablation))


def test_the_section_shows_every_variable_with_its_share_and_overlap(page, sample_result):
    assert "drivers" in page.section_ids
    assert "chart-drivers" in page.chart_divs()
    header, rows = page.table("drivers-table")
    assert header[0] == "Variable" and header[3] == "Variance between segments"
    drivers = segment_drivers(sample_result.features, sample_result.segmentation.labels)
    assert [r[0] for r in rows] == drivers["label"].tolist()
    income = next(r for r in rows if r[0] == "Income")
    expected = drivers.set_index("variable").loc["Income"]
    assert income[3] == f"{expected['eta2'] * 100:.0f}%"
    assert income[4] == f"{expected['iqr_overlap'] * 100:.0f}%"


def test_the_sample_is_an_income_split_and_the_report_says_so(page, sample_result):
    warning = split_warning(sample_result.features, sample_result.segmentation.labels)
    assert warning is not None and warning.variable == "Income"
    assert warning.message in page.text_of["drivers"]


def test_the_ablation_table_is_there_when_computed(page, ablation, sample_result, stability):
    header, rows = page.table("ablation-table")
    assert header[0] == "Variable left out"
    assert [r[0] for r in rows] == ablation.table["label"].tolist()
    assert [float(r[1]) for r in rows] == pytest.approx(ablation.table["ari"].to_numpy(),
                                                        abs=0.005)
    assert ablation.summary().verdict in page.text_of["drivers"]
    split, boot = stability
    without = Page(build_report(sample_result, split=split, bootstrap=boot))
    assert "ablation-table" not in without.tables and "drivers-table" in without.tables
