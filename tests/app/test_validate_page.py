"""AppTest for the Validate page and for saving and reopening a segmentation bundle."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from report.html import build_report
from segmentation import RunConfig, run
from segmentation.cluster.kmeans import N_SPLITS
from segmentation.describe.personas import apply_edits
from segmentation.export.bundle import bundle_bytes
from segmentation.validate.stability import _split_half_table, bootstrap_stability, split_half
from tests.app.waiting import settled
from tests.helpers import ROOT, planted_customers, to_tsv_bytes
from ui.flow import md

APP_TIMEOUT = 180


def start() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT).run()
    assert not at.exception
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return settled(at)


@pytest.fixture(scope="module")
def sample(sample_path):
    return run(sample_path)


def test_validate_shows_the_engines_split_half_and_bootstrap(sample):
    at = go(start(), "pages/validate.py")
    halves = split_half(sample.features, sample.chosen_k)
    metric = next(m for m in at.metric if m.label.startswith("Agreement"))
    assert metric.value == f"{halves.ari:.2f}"
    said = next(s.value for s in [*at.success, *at.warning] if halves.verdict in s.value)
    assert said == halves.summary().verdict
    agreement = halves.agreement
    assert (f"{N_SPLITS} times over" in said
            and f"agreement median {halves.ari:.2f} over {N_SPLITS} random splits, range "
                f"{agreement.low:.2f}–{agreement.high:.2f}" in said)

    boot = bootstrap_stability(sample.features, sample.segmentation, 50)
    table = next(d.value for d in at.dataframe if "mean_jaccard" in d.value.columns)
    names = [p.name for p in sample.personas]
    assert table["persona"].tolist() == names
    pd.testing.assert_series_equal(table["mean_jaccard"].reset_index(drop=True),
                                   boot.per_segment["mean_jaccard"], check_names=False)
    assert table["band"].tolist() == boot.per_segment["band"].tolist()
    assert any(m.value == md(boot.summary().verdict) for m in at.markdown)
    # Hennig's counts: recovered above 0.75, dissolved at 0.5 or below, out of 50.
    recovered, dissolved = (boot.jaccard > 0.75).sum(axis=0), (boot.jaccard <= 0.5).sum(axis=0)
    assert table["recovered"].tolist() == recovered.tolist()
    assert table["dissolved"].tolist() == dissolved.tolist()
    lines = next(m.value for m in at.markdown if "resamples (Jaccard > 0.75)" in m.value)
    for persona, r, d in zip(names, recovered, dissolved, strict=True):
        assert (f"{persona}: recovered in {r} of 50 resamples (Jaccard > 0.75), "
                f"dissolved in {d} (Jaccard ≤ 0.5).") in lines

    every_k = next(d.value for d in at.dataframe if "stability_max" in d.value.columns)
    np.testing.assert_allclose(
        every_k[["stability", "stability_min", "stability_max"]].to_numpy(float),
        sample.sweep.metrics[["stability", "stability_min", "stability_max"]].to_numpy(float))

    # The badges reach the Personas page once the bootstrap has run.
    go(at, "pages/personas.py")
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) == sample.chosen_k
    assert all(f"Jaccard {v:.2f}" in b
               for v, b in zip(boot.per_segment["mean_jaccard"], badges, strict=True))



def report_table(text: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """Header and body cells of one table of the HTML report, as the reader sees them."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', text, re.S).group(1)
    rows = [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    return rows[0], rows[1:]


def test_validate_page_and_report_show_the_same_split_half_rows(sample):
    """The page (one row per pair) and the report (a row per half of each pair) both draw
    the engine's split-half table: same pairs, sizes, variables and means."""
    at = go(start(), "pages/validate.py")
    shown = next(d.value for d in at.dataframe if "customers (A / B)" in d.value.columns)
    cfg = sample.config
    halves = split_half(sample.features, sample.chosen_k, cfg.random_state, cfg.n_init)
    boot = bootstrap_stability(sample.features, sample.segmentation, 5, cfg.random_state,
                               cfg.n_init)
    header, rows = report_table(build_report(sample, split=halves, bootstrap=boot),
                                "split-table")
    table = _split_half_table(halves, sample.profiles)
    means = table[table["statistic"] == "mean"]
    labels = list(means.loc[means["pair"] == 1, "label"])
    assert labels == ["Income", "Total spend", "Days since last purchase", "Children at home"]
    assert header == ["Pair", "Half", "Customers", *labels]
    assert list(shown.columns) == ["pair", "customers (A / B)", *[
        f"{label} {part}" for label in labels for part in ("A", "B", "B−A")]]
    assert shown["pair"].tolist() == list(range(1, sample.chosen_k + 1))
    assert len(rows) == 2 * len(shown)
    for (_, on_page), row_a, row_b in zip(shown.iterrows(), rows[::2], rows[1::2], strict=True):
        pair = int(on_page["pair"])
        assert row_a[:2] == [str(pair), "A"] and row_b[:2] == [str(pair), "B"]
        assert on_page["customers (A / B)"] == f"{row_a[2]} / {row_b[2]}"
        engine = means[means["pair"] == pair].set_index("label")
        for label in labels:
            a, b = on_page[f"{label} A"], on_page[f"{label} B"]
            assert (a, b, on_page[f"{label} B−A"]) == tuple(
                engine.loc[label, ["value_a", "value_b", "difference"]])
            for value, cells in ((a, row_a), (b, row_b)):
                digits = 0 if abs(value) >= 100 else 1
                assert cells[3 + labels.index(label)] == f"{value:,.{digits}f}"


def test_variables_page_shows_median_and_range_of_split_half_agreement(sample):
    at = go(start(), "pages/variables.py")
    table = next(d.value for d in at.dataframe if "Lowest split" in d.value.columns)
    metrics = sample.sweep.metrics
    assert table["K"].tolist() == metrics["k"].tolist()
    np.testing.assert_allclose(
        table[["Split-half agreement (median)", "Lowest split", "Highest split"]]
        .to_numpy(float),
        metrics[["stability", "stability_min", "stability_max"]].to_numpy(float))
    assert any(f"median over {N_SPLITS} random splits" in c.value for c in at.caption)
    assert f"over {N_SPLITS} random splits, range" in sample.sweep.reason
    assert any(f"over {N_SPLITS} random splits, range" in i.value for i in at.info)


def test_personas_show_no_badge_before_the_bootstrap():
    at = go(start(), "pages/personas.py")
    assert not [m.value for m in at.markdown if "-badge[" in m.value]


def test_reopening_a_bundle_restores_segments_and_names(sample_path):
    saved = run(sample_path, RunConfig(k=4, random_state=7))
    personas = apply_edits(saved.personas, {2: {"name": "Gone Quiet", "tone": "Gentle"}})
    at = go(start(), "pages/data.py")
    at.file_uploader(key="w.bundle").upload("bundle.json", bundle_bytes(saved, personas)).run()
    assert not at.exception
    assert any("same segments and persona names" in s.value for s in at.success)
    assert at.session_state["k.choice"] == 4 and at.session_state["k.seed"] == 7

    go(at, "pages/home.py")
    shown = next(d.value for d in at.dataframe if "Persona" in d.value.columns)
    assert shown["Persona"].tolist() == [p.name for p in personas]
    assert shown["Customers"].tolist() == saved.segmentation.sizes.tolist()
    go(at, "pages/personas.py")
    editor = at.data_editor[0].value
    assert editor.set_index("segment").loc[2, "tone"] == "Gentle"


def test_a_bundle_from_other_data_says_so_and_carries_names_by_profile(sample_path):
    planted = planted_customers(600, seed=3)
    planted.attrs = {}
    other = run(to_tsv_bytes(planted), RunConfig(k=3))
    personas = apply_edits(other.personas, {0: {"name": "Big Spenders Club"}})
    at = go(start(), "pages/data.py")
    at.file_uploader(key="w.bundle").upload("bundle.json", bundle_bytes(other, personas)).run()
    assert not at.exception
    assert any("not the data loaded now" in i.value for i in at.info)


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "segmentation-model"}',
                                     b'{"format": "segmentation-bundle", "version": 1}'])
def test_a_bad_bundle_shows_one_error_and_changes_nothing(content):
    at = go(start(), "pages/data.py")
    at.file_uploader(key="w.bundle").upload("bundle.json", content).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "bundle" in errors[0]
    assert at.session_state["k.choice"] is None
    assert at.session_state["personas.records"] == ()
