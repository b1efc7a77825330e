"""One summary for every result: Summary's text and JSON forms, and each result's summary()."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans

from segmentation.pipeline import assemble
from segmentation.plan.bandit import simulate
from segmentation.plan.campaign_results import analyse
from segmentation.summary import MISSING_TEXT, Summary
from segmentation.validate.stability import _clusterboot, _split_half_table, split_half

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


# --- Summary itself ---------------------------------------------------------------------------

def test_as_text_aligns_numbers_right_and_text_left():
    table = pd.DataFrame({"name": ["a", "longer"], "size": [5, 12345],
                          "share": [0.5, float("nan")]})
    text = Summary("Title", "The verdict.", table, ("First note.", "Second note.")).as_text()
    assert text == (
        "Title\n"
        "The verdict.\n"
        "\n"
        "name      size   share\n"
        "a            5  0.5000\n"
        f"longer  12,345       {MISSING_TEXT}\n"
        "\n"
        "Note: First note.\n"
        "Note: Second note.")


def test_a_float_column_shares_one_number_of_decimals():
    table = pd.DataFrame({"share": [0.0701, 0.26, 0.2], "inertia": [12345.6, 980.25, 7.5],
                          "tiny": [1e-9, 0.0, 2e-9]})
    lines = Summary("T", "V.", table).as_text().split("\n")[3:]
    # Four significant digits for the largest value, at most six decimals.
    assert lines == [" share  inertia      tiny",
                     "0.0701   12,346  0.000000",
                     "0.2600      980  0.000000",
                     "0.2000        8  0.000000"]


def test_empty_table_and_no_notes_leave_title_and_verdict_only():
    for table in (pd.DataFrame(), pd.DataFrame(columns=["segment", "size"])):
        s = Summary("Title", "Nothing to show.", table)
        assert s.as_text() == "Title\nNothing to show."
        assert s.as_dict() == {"title": "Title", "verdict": "Nothing to show.",
                               "columns": [str(c) for c in table.columns], "table": [],
                               "notes": []}
    assert str(Summary("T", "V.")) == "T\nV."


def test_as_dict_has_no_nan_and_plain_python_values():
    table = pd.DataFrame({"k": np.array([2, 3], dtype=np.int64),
                          "value": [np.nan, np.inf],
                          "flag": np.array([True, False]),
                          "label": pd.array(["x", pd.NA], dtype="string"),
                          "when": pd.to_datetime(["2024-01-31", None])})
    d = Summary("T", "V.", table).as_dict()
    assert d["table"] == [
        {"k": 2, "value": None, "flag": True, "label": "x", "when": "2024-01-31T00:00:00"},
        {"k": 3, "value": None, "flag": False, "label": None, "when": None},
    ]
    assert type(d["table"][0]["k"]) is int and type(d["table"][0]["flag"]) is bool
    json.dumps(d, allow_nan=False)


def test_the_table_is_a_copy_of_the_results_frame():
    frame = pd.DataFrame({"a": [1.0, 2.0]}, index=[7, 9])
    s = Summary("T", "V.", frame)
    s.table.loc[0, "a"] = 99.0
    assert frame["a"].tolist() == [1.0, 2.0]
    assert s.table.index.tolist() == [0, 1]


cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**12, 10**12))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text("abcxyz _-", max_size=8), cells), min_size=1,
                max_size=12))
def test_any_table_gives_json_and_aligned_lines(rows):
    table = pd.DataFrame(rows, columns=["label", "value"]).astype({"value": float})
    s = Summary("T", "V.", table)
    d = json.loads(json.dumps(s.as_dict(), allow_nan=False))
    for record, value in zip(d["table"], table["value"], strict=True):
        assert record["value"] == (value if math.isfinite(value) else None)
    lines = s.as_text().split("\n")[3:]
    assert len(lines) == len(table) + 1
    # The last column is numeric, right-aligned: every line ends at the same place.
    assert len({len(line) for line in lines}) == 1


# --- each result's summary --------------------------------------------------------------------

def _json(summary: Summary) -> dict:
    d = json.loads(json.dumps(summary.as_dict(), allow_nan=False))
    assert all(SNAKE_CASE.match(c) for c in d["columns"]), d["columns"]
    assert summary.verdict and "\n" not in summary.verdict
    return d


def test_segmentation_result_summary_counts_every_segmented_customer(sample_result):
    seg = sample_result.segmentation
    s = sample_result.summary()
    table = s.table
    assert list(table.columns) == ["segment", "persona", "size", "share"]
    np.testing.assert_array_equal(table["size"], np.bincount(seg.labels))
    assert table["size"].sum() == seg.labels.size == len(sample_result.features.frame)
    np.testing.assert_allclose(table["share"], table["size"] / seg.labels.size, rtol=1e-12)
    assert table["persona"].tolist() == [p.name for p in sample_result.personas]
    assert s.verdict == sample_result.sweep.reason
    assert s.notes == sample_result.warnings
    for part in (sample_result.raw.name, f"{seg.labels.size:,} customers",
                 f"{sample_result.chosen_k} segments", f"silhouette {seg.silhouette:.2f}"):
        assert part in s.title
    d = _json(s)
    assert [r["size"] for r in d["table"]] == np.bincount(seg.labels).tolist()


def test_segmentation_summary_shows_given_names_and_a_hand_chosen_k(sample_result):
    renamed = tuple(replace(p, name=f"Renamed {p.segment}") for p in sample_result.personas)
    shown = sample_result.summary(renamed).table["persona"].tolist()
    assert shown == [f"Renamed {s}" for s in range(sample_result.chosen_k)]

    k = sample_result.sweep.recommended_k + 1
    by_hand = assemble(sample_result.raw, sample_result.dataset, sample_result.features,
                       sample_result.sweep, replace(sample_result.config, k=k))
    s = by_hand.summary()
    # The verdict must not argue for another K than the one shown: the sweep's reason
    # becomes the first note.
    assert s.verdict == (f"K = {k} was chosen by hand; the sweep recommends "
                         f"K = {sample_result.sweep.recommended_k}.")
    assert s.notes[0] == f"The sweep: {by_hand.sweep.reason}"
    assert s.notes[1:] == by_hand.warnings
    assert sample_result.summary().verdict == sample_result.sweep.reason
    np.testing.assert_array_equal(s.table["size"],
                                  np.bincount(by_hand.segmentation.labels, minlength=k))


def test_sweep_summary_is_its_metrics_and_reason(sample_result):
    sweep = sample_result.sweep
    s = sweep.summary()
    pd.testing.assert_frame_equal(s.table, sweep.metrics)
    assert s.verdict == sweep.reason
    assert f"The elbow of the inertia curve is at K = {sweep.knee_k}." in s.notes
    d = _json(s)
    assert [r["k"] for r in d["table"]] == sweep.metrics["k"].tolist()


def test_profiles_summary_is_the_sizes_table(sample_result):
    profiles, seg = sample_result.profiles, sample_result.segmentation
    s = profiles.summary()
    pd.testing.assert_frame_equal(s.table, profiles.sizes)
    sizes = np.bincount(seg.labels)
    np.testing.assert_array_equal(s.table["size"], sizes)
    spend = sample_result.features.frame["total_spend"].fillna(0).to_numpy()
    revenue = np.bincount(seg.labels, weights=spend)
    big, small, rich = sizes.argmax(), sizes.argmin(), revenue.argmax()
    assert s.verdict == (f"The largest segment, {big}, holds {sizes[big] / sizes.sum():.0%} of "
                         f"customers and the smallest, {small}, "
                         f"{sizes[small] / sizes.sum():.0%}; segment {rich} brings "
                         f"{revenue[rich] / revenue.sum():.0%} of revenue.")
    assert len(s.notes) == profiles.n_segments
    _json(s)


def test_split_half_summary_is_its_table_and_reading(sample_result):
    fm, profiles = sample_result.features, sample_result.profiles
    halves = split_half(fm, sample_result.chosen_k, n_init=3)
    s = halves.summary(profiles)
    pd.testing.assert_frame_equal(s.table, _split_half_table(halves, profiles))
    assert s.verdict.endswith(f"agreement {halves.agreement.text}; {halves.verdict}.")
    bare = halves.summary().table
    assert (bare["statistic"] == "customers").all()
    assert bare["value_a"].tolist() == [float(halves.sizes_a[a]) for a, _ in halves.pairs]
    assert bare["value_b"].tolist() == [float(halves.sizes_b[b]) for _, b in halves.pairs]
    d = _json(s)
    assert d["table"][0]["variable"] is None  # the customers row has no variable


@pytest.fixture(scope="module")
def noise_boot():
    """Four k-means segments of structureless points: some of them do not come back."""
    X = np.random.default_rng(3).normal(size=(300, 2))
    labels = KMeans(4, n_init=3, random_state=0).fit_predict(X)
    return _clusterboot(X, labels, 4, n_boot=12, random_state=5, n_init=3)


def test_bootstrap_summary_equals_hennigs_figures_from_the_resamples(noise_boot):
    jaccard = noise_boot.jaccard
    table = noise_boot.summary().table
    pd.testing.assert_frame_equal(table, noise_boot.per_segment)
    mean = jaccard.mean(axis=0)
    np.testing.assert_allclose(table["mean_jaccard"], mean, rtol=1e-12)
    assert table["dissolved"].tolist() == (jaccard <= 0.5).sum(axis=0).tolist()
    assert table["recovered"].tolist() == (jaccard > 0.75).sum(axis=0).tolist()
    # Hennig's reading: 0.85 highly stable, 0.75 stable, 0.6 a doubtful pattern.
    expected = ["highly stable" if v >= 0.85 else "stable" if v >= 0.75
                else "a pattern, but membership is doubtful" if v >= 0.6
                else "not to be trusted" for v in mean]
    assert table["band"].tolist() == expected
    verdict = noise_boot.summary().verdict
    for band in set(expected):
        assert f"{expected.count(band)} {band}" in verdict
    assert verdict.endswith(f"the least stable is segment {mean.argmin()} ({mean.min():.2f}).")
    _json(noise_boot.summary())


def test_simulation_summary_keeps_its_figures():
    sim = simulate({"A": 0.05, "B": 0.10}, n_visitors=3000, random_state=7)
    s = sim.summary()
    assert s.verdict.startswith("Simulation with true rates A 5%, B 10%: the bandit sent ")
    rows = s.table.set_index("policy")
    for policy, variants in (("bandit", sim.traffic["bandit_variant"]),
                             ("split", sim.traffic["split_variant"])):
        assert rows.loc[policy, "visitors_best"] == (variants == "B").sum()
        assert rows.loc[policy, "visitors_worse"] == (variants == "A").sum()
        assert rows.loc[policy, "share_worse"] == pytest.approx((variants == "A").mean())
    assert rows.loc["bandit", "conversions"] == sim.bandit_conversions
    assert rows.loc["split", "regret"] == pytest.approx(sim.split_regret)
    _json(s)


def test_campaign_summary_is_its_per_segment_table_and_verdict_without_nan():
    results = pd.DataFrame({"customer_id": list("abcdefg"),
                            "arm": ["control", "treatment"] * 2 + ["control"] * 3,
                            "converted": [0, 1, 1, 1, 0, 1, 0], "clicked": 0})
    assignments = pd.DataFrame({"customer_id": list("abcdef"), "segment": [0, 0, 0, 0, 1, 1]})
    analysis = analyse(results, assignments, outcome="converted")
    s = analysis.summary()
    pd.testing.assert_frame_equal(s.table, analysis.per_segment)
    assert s.verdict == analysis.verdict and s.notes == analysis.notes
    d = _json(s)
    # Segment 1 has the control arm only: its test is NaN in the frame, None in JSON.
    assert np.isnan(analysis.per_segment.set_index("segment").loc[1, "p_value"])
    assert d["table"][1]["p_value"] is None
