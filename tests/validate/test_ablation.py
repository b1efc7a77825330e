"""Variable ablation: a noise variable changes nothing, a variable carrying the groups does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation import RunConfig, SegmentationError, run
from segmentation.cluster.strata import to_stratum
from segmentation.config import ABLATION_SAME_ARI
from segmentation.prepare.features import PrepConfig
from segmentation.validate.ablation import (
    ABLATION_COLUMNS,
    _refit_within_strata,
    ablate,
    profile_change,
)
from tests.helpers import to_tsv_bytes
from tests.helpers.shapes import to_bytes
from tests.helpers.strata import income_bands


def blobs_with_noise(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Three blobs: ``reach`` sets group 0 apart, ``basket`` splits 1 from 2; ``noise`` is noise."""
    rng = np.random.default_rng(seed)
    kind = rng.permutation(np.arange(n) % 3)
    frame = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "reach": np.array([10.0, 0.0, 0.0])[kind] + rng.normal(0, 1, n),
        "basket": np.array([0.0, -6.0, 6.0])[kind] + rng.normal(0, 1, n),
        "noise": rng.normal(50, 5, n),
    })
    frame.attrs["planted"] = kind
    return frame


@pytest.fixture(scope="module")
def planted_run():
    frame = blobs_with_noise()
    config = RunConfig(k=3, k_min=2, k_max=3, n_init=4, stability=False,
                       prep=PrepConfig(features=("reach", "basket", "noise")))
    result = run(to_tsv_bytes(frame), config, name="blobs.tsv")
    assert adjusted_rand_score(frame.attrs["planted"], result.segmentation.labels) > 0.95
    return result


@pytest.fixture(scope="module")
def ablation(planted_run):
    return ablate(planted_run.features, planted_run.segmentation)


def test_a_pure_noise_variable_changes_nothing_and_is_suggested(ablation):
    table = ablation.table.set_index("variable")
    assert tuple(ablation.table.columns) == ABLATION_COLUMNS
    assert table.loc["noise", "ari"] > 0.95
    assert table.loc["noise", "droppable"]
    assert table.loc["noise", "profile_change"] < 0.05
    assert ablation.suggestion.startswith("Leaving out Noise (")
    assert "consider dropping it" in ablation.suggestion


def test_variables_carrying_the_groups_change_them(ablation):
    table = ablation.table.set_index("variable")
    for carrier in ("reach", "basket"):
        assert table.loc[carrier, "ari"] < 0.7, carrier
        assert not table.loc[carrier, "droppable"]
        assert table.loc[carrier, "profile_change"] > 0.2
    assert ablation.table["ari"].is_monotonic_decreasing


def test_each_refit_matches_an_independent_kmeans_without_the_variable(planted_run, ablation):
    from sklearn.cluster import KMeans

    fm, seg = planted_run.features, planted_run.segmentation
    keep = [i for i, f in enumerate(fm.features) if f != "reach"]
    labels = KMeans(3, n_init=seg.n_init, random_state=seg.random_state).fit(
        fm.X[:, keep]).labels_
    expected = adjusted_rand_score(seg.labels, labels)
    assert ablation.table.set_index("variable").loc["reach", "ari"] == pytest.approx(expected)


def test_profile_change_by_hand():
    X = np.array([[0.0], [0.0], [2.0], [2.0]])  # mean 1, sd 1: z = -1, -1, 1, 1
    assert profile_change(X, [0, 0, 1, 1], [1, 1, 0, 0]) == 0.0  # renumbered only
    # After: {0, 1, 2} and {3}; matched 0->0 (two shared), 1->1. Means: before -1, 1;
    # after -1/3, 1: |-1 - -1/3| and |1 - 1| average 1/3.
    assert profile_change(X, [0, 0, 1, 1], [0, 0, 0, 1]) == pytest.approx(1 / 3)


def test_the_summary_says_when_every_variable_matters(ablation):
    from dataclasses import replace

    kept = ablation.table[~ablation.table["droppable"]]
    everything_matters = replace(ablation, table=kept, suggestion=None)
    assert f"{ABLATION_SAME_ARI:.2f}" in everything_matters.summary().verdict
    assert ablation.summary().verdict == ablation.suggestion


def test_a_single_clustering_variable_cannot_be_left_out():
    frame = blobs_with_noise(90)
    config = RunConfig(k=2, k_min=2, k_max=2, n_init=1, stability=False,
                       prep=PrepConfig(features=("reach",)))
    result = run(to_tsv_bytes(frame), config, name="one.tsv")
    with pytest.raises(SegmentationError, match="single clustering variable"):
        ablate(result.features, result.segmentation)


# --- segments found within strata -------------------------------------------------------------

# Only the wine share carries the planted groups inside each income band; Recency is uniform and
# Noise is added noise, so leaving out the wine share leaves nothing to find the groups by.
STRATA_FEATURES = ("share_MntWines", "Recency", "Noise")


@pytest.fixture(scope="module")
def strata_run():
    frame = income_bands()
    frame["Noise"] = np.random.default_rng(1).normal(50, 5, len(frame))
    config = RunConfig(strata="Income:3", stability=False, n_init=4,
                       prep=PrepConfig(features=STRATA_FEATURES))
    return run(to_bytes(frame), config, name="bands.csv")


@pytest.fixture(scope="module")
def strata_ablation(strata_run):
    return ablate(strata_run.features, strata_run.segmentation, strata_run.strata)


def test_within_strata_the_variable_carrying_the_groups_changes_them(strata_run,
                                                                    strata_ablation):
    table = strata_ablation.table.set_index("variable")
    assert table.loc["share_MntWines", "ari"] < 0.3
    assert not table.loc["share_MntWines", "droppable"]
    assert table.loc["share_MntWines", "profile_change"] > 0.2
    assert table.loc["Noise", "ari"] > 0.95
    assert table.loc["Noise", "droppable"]
    assert strata_ablation.n_clusters == strata_run.segmentation.n_clusters


def test_the_strata_refit_with_every_variable_is_the_run(strata_run):
    fit = strata_run.strata
    assert len({f.n_clusters for f in fit.fits}) > 1  # each stratum's own K is at work
    everything = np.arange(fit.features.X.shape[1])
    labels = _refit_within_strata(fit, everything)
    assert adjusted_rand_score(fit.segmentation.labels, labels) == 1.0
    # Every refitted segment lies in one stratum of the run, under the run's numbering.
    stratum_of = np.asarray(fit.strata.segments)
    assert (stratum_of[labels] == stratum_of[fit.segmentation.labels]).all()


def test_each_strata_refit_matches_an_independent_kmeans_per_stratum(strata_run,
                                                                     strata_ablation):
    from sklearn.cluster import KMeans

    fit, seg = strata_run.strata, strata_run.segmentation
    keep = [i for i, f in enumerate(fit.features.features) if f != "Noise"]
    weights = fit.features.preparation.weights
    stratum_of = np.asarray(fit.strata.segments)[seg.labels]
    values, sizes = [], []
    for f in fit.fits:
        rows = np.flatnonzero(stratum_of == f.stratum)
        X = to_stratum(fit.features.X[rows], fit.strata.shift[f.stratum],
                       fit.strata.spread[f.stratum], weights)[:, keep]
        labels = KMeans(f.n_clusters, n_init=seg.n_init, random_state=seg.random_state).fit(
            X).labels_
        values.append(adjusted_rand_score(seg.labels[rows], labels))
        sizes.append(rows.size)
    expected = np.average(values, weights=sizes)
    assert strata_ablation.table.set_index("variable").loc["Noise", "ari"] == pytest.approx(
        expected)


def test_another_methods_segments_are_refused_in_one_sentence(planted_run):
    # The refits are k-means: a mixture's segments would be compared with segments
    # k-means never tried to find (every variable then looks as if it mattered).
    result = planted_run
    with pytest.raises(SegmentationError, match="switch the method to k-means"):
        ablate(result.features, result.segmentation, method="gmm")
