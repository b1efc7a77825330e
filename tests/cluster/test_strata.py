"""Segments within strata: the spec, the strata, the planted groups, scoring with the model."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from segmentation import RunConfig, SegmentationError, run
from segmentation.cluster.model import score
from segmentation.cluster.strata import (
    STRATA_SEPARATOR,
    Strata,
    assign_within_strata,
    fit_strata,
    parse_strata,
    to_stratum,
)
from segmentation.data.customer_file import read_table
from segmentation.data.dataset import load_dataset
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS
from segmentation.export.assignments import STATUS_SEGMENTED, customer_assignments
from segmentation.export.bundle import bundle_bytes, load_bundle
from tests.helpers import REAL_PATH, assert_actionable
from tests.helpers.shapes import to_bytes
from tests.helpers.strata import income_bands

FAST = RunConfig(strata="Income:3", stability=False, n_init=4)


@pytest.fixture(scope="module")
def bands():
    return income_bands()


@pytest.fixture(scope="module")
def strata_run(bands):
    return run(to_bytes(bands), FAST, name="bands.csv")


def _band_ari(frame: pd.DataFrame, result) -> list[float]:
    """Adjusted Rand index of the run's labels against the planted groups, band by band."""
    rows = result.segmentation.customer_ids.astype(int) - 1
    band, planted = frame.attrs["band"][rows], frame.attrs["planted"][rows]
    return [adjusted_rand_score(planted[band == b], result.segmentation.labels[band == b])
            for b in range(3)]


# --- the spec ---------------------------------------------------------------------------------

def test_specs_read_as_the_command_line_writes_them():
    assert parse_strata("Income:3") == parse_strata(" Income : 3 ")
    assert parse_strata("Income:3").bands == 3
    assert parse_strata("Income:40000,70000").cuts == (40000.0, 70000.0)
    assert parse_strata("Income:50000,").cuts == (50000.0,)
    assert parse_strata("Region").bands is None and parse_strata("Region").cuts is None


@pytest.mark.parametrize("spec, fragment", [
    ("Income:1", "2 to 10 bands"), ("Income:0", "2 to 10 bands"), ("Income:40", "bands"),
    ("Income:abc", "not a number of bands"), ("Income:40000,lots", "'lots'"),
    ("Income:70000,40000", "increasing"), (":3", "names no column"),
    ("Income:nan,5", "not a number"),
])
def test_bad_specs_are_one_sentence(spec, fragment):
    with pytest.raises(SegmentationError) as caught:
        RunConfig(strata=spec)
    assert_actionable(str(caught.value))
    assert fragment in str(caught.value)


def _dataset(frame: pd.DataFrame):
    return load_dataset(read_table(to_bytes(frame), name="t.csv"))


def test_columns_that_cannot_make_strata_are_one_sentence(bands):
    rng = np.random.default_rng(1)
    frame = bands.assign(
        City=[f"town{i}" for i in rng.integers(0, 500, len(bands))],
        Tier=[f"tier {chr(65 + i % 12)}" for i in range(len(bands))],
        Note=[" ".join(rng.choice(["great", "late", "box", "again", "ok"], 6))
              for _ in range(len(bands))])
    dataset = _dataset(frame)
    for spec, fragment in (("Unknown:3", "not a column"), ("City", "cannot make strata"),
                           ("Tier", "has 12 values"), ("Tier:3", "takes no bands"),
                           ("Note", "cannot make strata"), ("Region:3", "not a column")):
        with pytest.raises(SegmentationError) as caught:
            fit_strata(dataset, spec)
        assert_actionable(str(caught.value))
        assert fragment in str(caught.value)
    with pytest.raises(SegmentationError, match="choose cut-offs between 21,272 and"):
        fit_strata(dataset, "Income:500000,900000")  # no customer above either cut-off


def test_quantile_bands_agree_with_pandas_qcut(bands):
    dataset = _dataset(bands)
    strata = fit_strata(dataset, "Income:4")
    income = dataset.frame["Income"]
    # qcut closes bands on the right, this on the left: they differ only on a cut-off itself.
    assert not income.isin(strata.cuts).any()
    expected = pd.qcut(income, 4, labels=False).to_numpy()
    np.testing.assert_array_equal(strata.codes(income), expected)
    assert strata.labels[0].startswith("Income ") and "–" in strata.labels[0]
    assert fit_strata(dataset, "Income").labels == ("Low Income", "Mid Income", "High Income")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5, unique=True),
       st.lists(st.floats(-2e6, 2e6) | st.just(float("nan")), min_size=1, max_size=40))
def test_band_codes_follow_the_cut_offs(cuts, values):
    cuts = tuple(sorted(cuts))
    strata = Strata("x", "cuts", cuts, (), tuple(map(str, range(len(cuts) + 1))))
    codes = strata.codes(pd.Series(values))
    for value, code in zip(values, codes, strict=True):
        if np.isnan(value):
            assert code == -1
        else:  # exactly the cut-offs at or below the value
            assert code == sum(c <= value for c in cuts)


def test_each_customer_goes_to_a_centre_of_their_own_stratum():
    rng = np.random.default_rng(3)
    X, codes = rng.normal(size=(50, 3)), rng.integers(0, 3, 50)
    centers = rng.normal(size=(5, 3))
    strata = Strata("x", "cuts", (1.0, 2.0), (), ("a", "b", "c"), segments=(0, 0, 1, 2, 2),
                    shift=((0.0,) * 3,) * 3, spread=((1.0,) * 3,) * 3)
    labels, distances = assign_within_strata(X, codes, centers, strata, (1.0,) * 3)
    own = np.asarray(strata.segments)[labels]
    np.testing.assert_array_equal(own, codes)
    for i in range(50):  # by hand: the nearest of the stratum's own centres
        candidates = np.flatnonzero(np.asarray(strata.segments) == codes[i])
        d = np.linalg.norm(centers[candidates] - X[i], axis=1)
        assert labels[i] == candidates[d.argmin()] and np.isclose(distances[i], d.min())


# --- the planted groups -----------------------------------------------------------------------

def test_within_strata_finds_the_groups_a_plain_run_misses(bands, strata_run):
    plain = run(to_bytes(bands), replace(FAST, strata=None), name="bands.csv")
    plain_ari = _band_ari(bands, plain)
    # The plain run splits by income: inside the low and mid bands it sees no groups.
    assert min(plain_ari) < 0.2, plain_ari
    within = _band_ari(bands, strata_run)
    assert min(within) >= 0.8, within
    assert strata_run.chosen_k == 6
    assert [f.n_clusters for f in strata_run.strata.fits] == [2, 2, 2]


def test_personas_are_named_within_their_stratum(strata_run):
    names = [p.name for p in strata_run.personas]
    labels = strata_run.strata.strata.labels
    for p in strata_run.personas:
        stratum = labels[strata_run.strata.strata.segments[p.segment]]
        assert p.name.startswith(stratum + STRATA_SEPARATOR)
        # Its size is a share of its stratum, and says so; every claim compares the
        # segment with its stratum, and says so too.
        members = int((strata_run.segmentation.labels == p.segment).sum())
        in_stratum = sum(int((strata_run.segmentation.labels == s).sum())
                         for s, code in enumerate(strata_run.strata.strata.segments)
                         if labels[code] == stratum)
        assert p.description.startswith(
            f"{members / in_stratum:.0%} of {stratum} customers ({members:,})"), p.description
        for claim in p.claims:
            assert claim.population == f"all of {stratum}"
            assert f"for all of {stratum}" in claim.text
    assert len(set(names)) == len(names)
    # Within each band the two groups are told apart by wine against meat.
    for band in labels:
        pair = [n for n in names if n.startswith(band)]
        assert any("Wine" in n for n in pair) and any("Meat" in n for n in pair), pair


def test_the_stratifying_variable_is_profiled_not_clustered(strata_run):
    assert "Income" not in strata_run.features.features
    assert "Income" in strata_run.profiles.medians.columns
    assert strata_run.strata.left_out == ("Income",)


def test_a_stratum_too_small_to_cluster_is_one_segment_and_says_so(bands):
    frame = bands.assign(Region=np.where(np.arange(len(bands)) < 40, "Islands",
                                         np.where(np.arange(len(bands)) % 2, "North", "South")))
    result = run(to_bytes(frame), replace(FAST, strata="Region"), name="regions.csv")
    fits = {f.label: f for f in result.strata.fits}
    assert fits["Islands"].n_clusters == 1
    assert fits["Islands"].reason == ("Islands has 40 customers, too few to cluster (under "
                                      "200), so it is one segment.")
    assert fits["North"].n_clusters >= 2 and fits["South"].n_clusters >= 2
    islands = result.segmentation.labels[result.segmentation.customer_ids.astype(int) <= 40]
    assert np.unique(islands).size == 1


# --- scoring with the saved model -------------------------------------------------------------

def test_scoring_the_same_file_reproduces_the_run_exactly(bands, strata_run):
    bundle = load_bundle(bundle_bytes(strata_run, strata_run.personas))
    assert bundle.config.strata == "Income:3" and bundle.config.k is None
    scores = score(to_bytes(bands), bundle.model, name="bands.csv")
    got = scores.segmented.set_index("customer_id")["segment"]
    ran = pd.Series(strata_run.segmentation.labels,
                    index=strata_run.segmentation.customer_ids.astype(str))
    assert len(got) == len(ran) == len(bands)
    pd.testing.assert_series_equal(got.sort_index(), ran.sort_index(), check_names=False,
                                   check_dtype=False, check_index_type=False)
    strata = strata_run.strata.strata
    assert (scores.segmented["stratum"]
            == [strata.labels[strata.segments[s]] for s in scores.segmented["segment"]]).all()


def test_customers_without_a_stratum_are_counted_with_their_reason(bands):
    frame = bands.assign(Region=np.where(np.arange(len(bands)) % 2, "North", "South"))
    result = run(to_bytes(frame), replace(FAST, strata="Region"), name="regions.csv")
    model = load_bundle(bundle_bytes(result, result.personas)).model
    new = pd.DataFrame(frame.head(30).to_dict("list")).astype({"Region": object})
    new.loc[0:2, "Region"] = "West"  # a value no stratum holds
    new.loc[3, "Region"] = None
    scores = score(to_bytes(new), model, name="new.csv")
    assert scores.dropped == {"a Region value none of the model's strata holds": 3,
                              "no value of Region, the variable the segments are stratified "
                              "by": 1}
    table = scores.assignments
    assert len(table) == 30 and (table["status"] == "segmented").sum() == 26
    assert set(table.loc[table["status"] != "segmented", "customer_id"]) == {"1", "2", "3", "4"}


def test_a_model_without_its_stratifying_column_is_refused(strata_run, bands):
    model = load_bundle(bundle_bytes(strata_run, strata_run.personas)).model
    with pytest.raises(SegmentationError) as caught:
        score(to_bytes(bands.drop(columns="Income")), model, name="new.csv")
    assert_actionable(str(caught.value))


def test_a_plain_bundle_has_no_strata_keys(bands):
    plain = run(to_bytes(bands), replace(FAST, strata=None), name="bands.csv")
    text = bundle_bytes(plain, plain.personas).decode()
    assert '"strata"' not in text


# --- the real file ----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not REAL_PATH.exists(), reason="the real marketing file is not on this "
                                                   "machine")
def test_real_file_within_income_thirds_shows_behaviour_at_the_same_income():
    result = run(REAL_PATH, RunConfig(strata="Income:3"))
    p = result.profiles
    income = p.first("income")
    mix = p.kind("spend_share") + p.kind("channel_share")
    names = {x.segment: x for x in result.personas}
    found = []
    for a, b in itertools.combinations(range(p.n_segments), 2):
        low, high = sorted((p.medians.loc[a, income], p.medians.loc[b, income]))
        gaps = (p.means.loc[a, mix] - p.means.loc[b, mix]).abs()
        if (high - low) / high < 0.15 and gaps.max() >= 0.20:
            found.append((a, b, gaps.idxmax()))
    assert found
    # The names say it: their words differ on what the customers buy or where.
    said = []
    for a, b, _ in found:
        words = {s: {c.word for c in names[s].claims
                     if p.variables[c.variable].kind in {"spend", "spend_share", "channel",
                                                         "channel_share"}}
                 for s in (a, b)}
        said.append(words[a] != words[b] and (words[a] or words[b]))
    assert any(said), [(names[a].name, names[b].name) for a, b, _ in found]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=9, unique=True),
       st.sampled_from(["Income", "Yearly: income", "x"]))
def test_a_spec_written_out_reads_back_the_same(cuts, column):
    spec = parse_strata(f"{column}:{','.join(repr(c) for c in sorted(cuts))},")
    assert parse_strata(spec.text) == spec
    assert parse_strata(parse_strata(f"{column}:4").text).bands == 4


def test_the_bootstrap_resamples_within_each_stratum(bands, strata_run):
    from segmentation.cluster.strata import strata_bootstrap

    boot = strata_bootstrap(strata_run.strata, n_boot=8, random_state=3, n_init=2)
    assert boot.jaccard.shape == (8, strata_run.chosen_k)
    # Two planted groups 35 points apart in every band come back in every resample.
    assert (boot.per_segment["mean_jaccard"] > 0.9).all()
    assert (boot.per_segment["recovered"] == 8).all()


def test_a_one_segment_stratum_is_its_own_segment_in_every_resample(bands):
    from segmentation.cluster.strata import strata_bootstrap

    frame = bands.assign(Region=np.where(np.arange(len(bands)) < 40, "Islands", "Mainland"))
    result = run(to_bytes(frame), replace(FAST, strata="Region"), name="regions.csv")
    islands = next(f for f in result.strata.fits if f.label == "Islands").first_segment
    boot = strata_bootstrap(result.strata, n_boot=4, random_state=0, n_init=2)
    assert (boot.jaccard[:, islands] == 1.0).all()


def test_split_half_agreement_is_measured_within_each_stratum(strata_run):
    from segmentation.cluster.kmeans import split_half_agreement
    from segmentation.cluster.strata import strata_split_half, to_stratum

    fit = strata_run.strata
    halves = strata_split_half(fit, random_state=5, n_init=2, n_splits=3)
    assert halves.agreement.seeds == (5, 6, 7)
    # By hand: each stratum's own split-half agreement, weighted by its customers.
    by_stratum = []
    for f in fit.fits:
        rows = np.flatnonzero(np.asarray(fit.strata.segments)[fit.segmentation.labels]
                              == f.stratum)
        X = to_stratum(fit.features.X[rows], fit.strata.shift[f.stratum],
                       fit.strata.spread[f.stratum], fit.features.preparation.weights)
        by_stratum.append(split_half_agreement(X, f.n_clusters, 5, 2, n_splits=3).values)
    weights = [f.n_customers for f in fit.fits]
    expected = np.average(np.asarray(by_stratum), axis=0, weights=weights)
    np.testing.assert_allclose(halves.agreement.values, expected)
    assert halves.ari > 0.9
    # Pairs never cross strata, and every segment of the run is paired once.
    stratum = np.asarray(fit.strata.segments)
    assert all(stratum[a] == stratum[b] for a, b in halves.pairs)
    assert sorted(a for a, _ in halves.pairs) == list(range(strata_run.chosen_k))
    assert halves.summary(strata_run.profiles).table["pair"].nunique() == strata_run.chosen_k


def test_each_customers_drivers_are_measured_within_their_stratum(bands, strata_run):
    # The centres of a strata run are each in their stratum's own space: a customer's
    # drivers compare them there, with the other segments of their own stratum only.
    table = customer_assignments(strata_run)
    segmented = table[table["status"].eq(STATUS_SEGMENTED)]
    fm, seg = strata_run.features, strata_run.segmentation
    strata = strata_run.strata.strata
    segment_strata = np.asarray(strata.segments)
    names = [fm.variables[f].label for f in fm.features]
    row = {cid: i for i, cid in enumerate(seg.customer_ids.astype(str))}
    checked = 0
    for cid, first in zip(segmented["customer_id"].astype(str), segmented["top_driver_1"],
                          strict=True):
        i = row[cid]
        own = np.flatnonzero(segment_strata == segment_strata[seg.labels[i]])
        x = to_stratum(fm.X[i:i + 1], strata.shift[segment_strata[seg.labels[i]]],
                       strata.spread[segment_strata[seg.labels[i]]], fm.preparation.weights)[0]
        d2 = ((x - seg.centers[own]) ** 2).sum(axis=1)
        mine = int(np.flatnonzero(own == seg.labels[i])[0])
        d2[mine] = np.inf
        nxt = own[int(d2.argmin())]
        terms = (x - seg.centers[nxt]) ** 2 - (x - seg.centers[seg.labels[i]]) ** 2
        assert first == (names[int(terms.argmax())] if terms.max() > 0 else None)
        checked += 1
    assert checked == len(bands)
    bundle = load_bundle(bundle_bytes(strata_run, strata_run.personas))
    scored = score(to_bytes(bands), bundle.model, name="bands.csv").assignments
    pd.testing.assert_frame_equal(
        scored.set_index("customer_id")[list(TOP_DRIVER_COLUMNS)].sort_index(),
        table.set_index("customer_id")[list(TOP_DRIVER_COLUMNS)].sort_index(), check_index_type=False)


def test_strata_with_another_method_is_one_sentence():
    with pytest.raises(SegmentationError, match="Segments within strata are found with k-means"):
        RunConfig(strata="Income:3", method="gmm")
