"""Split-half spread and Hennig's bootstrap counts, as the K chart and the report show them."""

from __future__ import annotations

import numpy as np
import pytest

import charts
from report.html import build_report
from segmentation import RunConfig, run
from segmentation.cluster.kmeans import N_SPLITS
from segmentation.validate.stability import bootstrap_stability, split_half
from tests.report.test_report import Page

N_BOOT = 8


@pytest.fixture(scope="module")
def sample(sample_path):
    return run(sample_path, RunConfig(n_init=4))


@pytest.fixture(scope="module")
def report(sample):
    cfg = sample.config
    split = split_half(sample.features, sample.chosen_k, cfg.random_state, cfg.n_init)
    boot = bootstrap_stability(sample.features, sample.segmentation, N_BOOT, cfg.random_state,
                               cfg.n_init)
    return split, boot, Page(build_report(sample, split=split, bootstrap=boot))


def test_k_chart_draws_the_range_of_the_splits_around_the_median(sample):
    metrics = sample.sweep.metrics
    fig = charts.k_metrics_chart(metrics, sample.chosen_k)
    (line,) = [t for t in fig.data if t.mode == "lines+markers" and t.error_y.array is not None]
    np.testing.assert_allclose(line.y, metrics["stability"])
    np.testing.assert_allclose(np.asarray(line.y) + np.asarray(line.error_y.array),
                               metrics["stability_max"])
    np.testing.assert_allclose(np.asarray(line.y) - np.asarray(line.error_y.arrayminus),
                               metrics["stability_min"])
    assert (metrics["stability_min"] <= metrics["stability"]).all()
    assert (metrics["stability"] <= metrics["stability_max"]).all()


def test_k_chart_without_a_range_has_no_bars(sample):
    metrics = sample.sweep.metrics.drop(columns=["stability_min", "stability_max"])
    fig = charts.k_metrics_chart(metrics, sample.chosen_k)
    assert all(t.error_y.array is None for t in fig.data)


def test_report_k_table_shows_median_lowest_and_highest_split(sample, report):
    _, _, page = report
    header, rows = page.table("k-table")
    assert header[-3:] == ["Split-half agreement (median)", "Lowest split", "Highest split"]
    expected = sample.sweep.metrics[["stability", "stability_min", "stability_max"]]
    assert [r[-3:] for r in rows] == [[f"{v:.2f}" for v in row]
                                      for row in expected.to_numpy(float)]
    assert f"median over {N_SPLITS} random splits" in page.text_of["k"]


def test_report_stability_section_gives_the_spread_and_hennig_counts(sample, report):
    split, boot, page = report
    text = page.text_of["stability"]
    assert (f"agreement median {split.ari:.2f} over {N_SPLITS} random splits, range "
            f"{split.agreement.low:.2f}–{split.agreement.high:.2f}") in text
    header, rows = page.table("bootstrap-table")
    assert header[3:] == ["Recovered (Jaccard > 0.75)", "Dissolved (Jaccard ≤ 0.5)"]
    recovered = (boot.jaccard > 0.75).sum(axis=0)
    dissolved = (boot.jaccard <= 0.5).sum(axis=0)
    assert [r[3:] for r in rows] == [[f"{r} of {N_BOOT}", f"{d} of {N_BOOT}"]
                                     for r, d in zip(recovered, dissolved, strict=True)]
