"""Other clustering methods: each recovers the planted shape it suits, the agreement table
tells data from method, and a saved model of each method scores as documented."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from segmentation import RunConfig, run
from segmentation.cluster.methods import (
    NO_CLEAR_SEGMENT,
    NOISE,
    SCORING_RULES,
    agreement_table,
    assign_with,
    bic_by_k,
    categorical_groups,
    compare_methods,
    fit_method,
    kprototypes,
)
from segmentation.cluster.model import Model, score
from segmentation.errors import SegmentationError
from segmentation.export.bundle import bundle_bytes, load_bundle
from segmentation.export.outputs import model_dict
from tests.helpers import CHEAP, assert_actionable
from tests.helpers.planted import (
    blobs,
    blobs_with_noise,
    ellipses,
    features_of,
    mixed_groups,
)
from tests.helpers.shapes import to_bytes


def ari(a, b) -> float:
    return float(adjusted_rand_score(a, b))


# ------------------------------------------------------------------ planted shapes
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_mixture_follows_long_ellipses_that_kmeans_cuts_across(seed):
    frame, truth = ellipses(seed=seed)
    fm = features_of(frame)
    kmeans = ari(truth, fit_method(fm, "kmeans", 2).labels)
    gmm = ari(truth, fit_method(fm, "gmm", 2).labels)
    assert gmm > 0.9 > 0.3 > kmeans  # observed: k-means 0.02-0.07, mixture 1.00


def test_the_mixture_matches_scikit_learn_fitted_from_the_same_start():
    frame, _ = blobs()
    fm = features_of(frame)
    fit = fit_method(fm, "gmm", 3)
    reference = GaussianMixture(3, covariance_type="full", random_state=42).fit(fm.X)
    assert ari(fit.labels, reference.predict(fm.X)) == pytest.approx(1.0)
    np.testing.assert_allclose(fit.probabilities.sum(axis=1), 1.0)
    # A customer is between segments exactly when its top probability is under the threshold.
    np.testing.assert_array_equal(fit.between, fit.probabilities.max(axis=1) < 0.7)


def test_between_segments_flags_the_customers_on_the_boundary():
    frame, truth = ellipses(gap=1.2, seed=3)  # the ellipses touch: some customers are unsure
    fit = fit_method(features_of(frame), "gmm", 2)
    assert 0 < fit.between.sum() < len(truth) / 2


def test_bic_prefers_the_planted_number_of_groups():
    frame, _ = blobs()
    bic = bic_by_k(features_of(frame), range(2, 7))
    assert int(bic.loc[bic["bic"].idxmin(), "k"]) == 3


def test_ward_recovers_blobs_as_scikit_learn_does():
    frame, truth = blobs()
    fm = features_of(frame)
    labels = fit_method(fm, "ward", 3).labels
    assert ari(truth, labels) > 0.99
    reference = AgglomerativeClustering(3, linkage="ward").fit_predict(fm.X)
    assert ari(labels, reference) == pytest.approx(1.0)


def test_hdbscan_leaves_planted_noise_in_no_clear_segment_and_finds_the_blobs():
    frame, truth = blobs_with_noise()
    fit = fit_method(features_of(frame), "hdbscan", None)
    noise = truth == NOISE
    assert fit.n_clusters == 3
    # Uniform noise also lands inside the blobs, where no method could tell it apart: most
    # noise, and all of it far from every blob, is left out; observed 72%.
    assert (fit.labels[noise] == NOISE).mean() > 0.6
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    raw = frame[["alpha", "beta"]].to_numpy()
    far = noise & (np.linalg.norm(raw[:, None] - centres[None], axis=2).min(axis=1) > 3.0)
    assert far.sum() > 10 and (fit.labels[far] == NOISE).all()
    kept = ~noise & (fit.labels != NOISE)
    assert kept.sum() > 0.95 * (~noise).sum()
    assert ari(truth[kept], fit.labels[kept]) > 0.99


def test_hdbscan_that_finds_no_dense_group_says_so():
    # Six far-apart pairs of customers: no dense region reaches the smallest segment (10).
    frame, _ = blobs(n=12)
    frame = frame.assign(alpha=np.repeat([0.0, 5, 10, 15, 20, 25], 2) + np.tile([0, 0.01], 6))
    fm = features_of(frame, ("alpha",))
    with pytest.raises(SegmentationError) as err:
        fit_method(fm, "hdbscan", None)
    assert_actionable(str(err.value))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kprototypes_recovers_groups_planted_in_measures_and_categories(seed):
    frame, truth = mixed_groups(seed=seed)
    fm = features_of(frame, ("alpha", "beta", "plan", "region"))
    assert categorical_groups(fm) == ((2, 3), (4, 5))
    fit = fit_method(fm, "kprototypes", 2)
    assert ari(truth, fit.labels) > 0.85  # observed 0.89-0.95
    # The prototype's categories are its members' most common values.
    for j in range(2):
        members = frame[fit.labels == j]
        top = members["plan"].mode()[0]
        assert fit.centers[j, fm.features.index(f"plan = {top}")] > 0


def test_kprototypes_by_hand_category_against_measure():
    # Four customers on a line 0.1 apart, categories alternating. Hand-computed: with a
    # mismatch costing 100 the categories decide ({0, 2} and {1, 3}, prototypes at 0.1 and
    # 0.2, cost 4 × 0.01 = 0.04); costing nothing, the line decides ({0, 1} and {2, 3},
    # prototypes at 0.05 and 0.25, cost 4 × 0.0025 = 0.01).
    Xn = np.array([[0.0], [0.1], [0.2], [0.3]])
    codes = np.array([[0], [1], [0], [1]])
    labels, proto_n, proto_c, cost = kprototypes(Xn, codes, 2, gamma=100.0, n_init=5)
    assert labels[0] == labels[2] != labels[1] == labels[3]
    assert sorted(proto_n.ravel().round(6)) == [0.1, 0.2]
    assert sorted(proto_c.ravel()) == [0, 1]
    assert cost == pytest.approx(0.04)
    labels, proto_n, _, cost = kprototypes(Xn, codes, 2, gamma=0.0, n_init=5)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert sorted(proto_n.ravel().round(6)) == [0.05, 0.25]
    assert cost == pytest.approx(0.01)


# ------------------------------------------------------------------ agreement
def test_on_clean_blobs_every_method_agrees():
    frame, truth = blobs()
    comparison = compare_methods(features_of(frame), 3, range(2, 7))
    assert comparison.agreement["ari"].min() >= 0.9
    assert comparison.bic_k == 3
    assert "agrees" in comparison.summary().verdict
    for fit in comparison.fits.values():
        assert ari(truth, fit.labels) > 0.9


def test_on_ellipses_kmeans_and_the_mixture_disagree():
    frame, _ = ellipses()
    comparison = compare_methods(features_of(frame), 2, range(2, 5))
    pairs = comparison.agreement.set_index(["method_a", "method_b"])["ari"]
    assert pairs[("kmeans", "gmm")] < 0.3
    assert pairs[("kmeans", "gmm")] == pairs[("gmm", "kmeans")]
    assert "disagree" in comparison.summary().verdict


def test_the_quality_panel_matches_scikit_learn_on_the_segmented_customers():
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    frame, _ = blobs_with_noise()
    fm = features_of(frame)
    comparison = compare_methods(fm, 3, range(2, 5))
    row = comparison.quality.set_index("method").loc["hdbscan"]
    labels = comparison.fits["hdbscan"].labels
    inside = labels != NOISE
    assert row["no_clear_segment"] == (~inside).sum() > 0
    assert row["silhouette"] == pytest.approx(silhouette_score(fm.X[inside], labels[inside]))
    assert row["calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(fm.X[inside], labels[inside]))
    assert row["davies_bouldin"] == pytest.approx(
        davies_bouldin_score(fm.X[inside], labels[inside]))
    assert any("no clear segment" in n for n in comparison.summary().notes)


def test_agreement_is_the_adjusted_rand_index_and_ignores_numbering():
    a, b = np.array([0, 0, 1, 1, 2, 2]), np.array([5, 5, 3, 3, 3, 4])
    table = agreement_table({"x": a, "y": b}).set_index(["method_a", "method_b"])["ari"]
    assert table[("x", "y")] == pytest.approx(adjusted_rand_score(a, b))
    assert table[("x", "x")] == 1.0


# ------------------------------------------------------------------ runs and scoring
def _run(frame, method: str, features=("alpha", "beta"), k: int | None = 3):
    config = replace(CHEAP, k=k, method=method,
                     prep=replace(CHEAP.prep, features=features))
    return run(to_bytes(frame), config, name="planted.csv")


@pytest.mark.parametrize(("method", "shape", "features", "k"), [
    ("kmeans", blobs, ("alpha", "beta"), 3),
    ("gmm", ellipses, ("alpha", "beta"), 2),
    ("kprototypes", mixed_groups, ("alpha", "beta", "plan", "region"), 2),
])
def test_scoring_a_saved_bundle_reproduces_the_fitted_segments(method, shape, features, k):
    frame, _ = shape()
    result = _run(frame, method, features, k)
    bundle = load_bundle(bundle_bytes(result, result.personas))
    assert bundle.model.method == method and bundle.config.method == method
    scores = score(to_bytes(frame), bundle.model, name="planted.csv")
    fitted = dict(zip(result.segmentation.customer_ids.astype(str),
                      result.segmentation.labels, strict=True))
    scored = scores.segmented.set_index("customer_id")["segment"]
    assert len(scored) == len(fitted)
    assert all(scored[c] == s for c, s in fitted.items())
    assert ("reproduces the fitted assignment" in scores.rule) == (method != "kmeans")


def test_ward_scores_by_the_nearest_centroid_and_says_so():
    frame, truth = blobs()
    result = _run(frame, "ward")
    model = load_bundle(bundle_bytes(result, result.personas)).model
    scores = score(to_bytes(frame), model, name="planted.csv")
    assert scores.rule == SCORING_RULES["ward"] and "centroid" in scores.rule
    fm, seg = result.features, result.segmentation
    # The rule, computed independently: each customer's nearest centroid of the fitted segments.
    centroids = np.stack([fm.X[seg.labels == j].mean(axis=0) for j in range(3)])
    nearest = np.linalg.norm(fm.X[:, None] - centroids[None], axis=2).argmin(axis=1)
    np.testing.assert_array_equal(scores.segmented["segment"].to_numpy(), nearest)
    assert (nearest == seg.labels).mean() > 0.99  # on clean blobs it is the fitted assignment


def test_hdbscan_runs_leave_noise_out_counted_and_score_by_the_reach_rule():
    frame, truth = blobs_with_noise()
    result = _run(frame, "hdbscan", k=None)
    fm, seg = result.features, result.segmentation
    fit = result.method_fit
    assert fm.report.dropped[NO_CLEAR_SEGMENT] == fit.n_noise == len(truth) - seg.labels.size
    assert set(fm.report.excluded_ids.values()) == {NO_CLEAR_SEGMENT}
    assert "HDBSCAN" in result.summary().verdict
    model = load_bundle(bundle_bytes(result, result.personas)).model
    assert model.params["reach"] == pytest.approx(fit.params["reach"])
    scores = score(to_bytes(frame), model, name="planted.csv")
    table = scores.assignments
    out = table[table["reason"] == NO_CLEAR_SEGMENT]
    assert scores.dropped[NO_CLEAR_SEGMENT] == len(out) > 0
    # The rule by hand: nearest fitted centroid, unless farther than its farthest member.
    centroids = np.stack([fm.X[seg.labels == j].mean(axis=0) for j in range(seg.n_clusters)])
    reach = [np.linalg.norm(fm.X[seg.labels == j] - centroids[j], axis=1).max()
             for j in range(seg.n_clusters)]
    np.testing.assert_allclose(model.centers, centroids)
    np.testing.assert_allclose(model.params["reach"], reach)
    # Every customer fitted into a segment is in reach of its own centroid, so none of them
    # is scored as noise; far noise stays noise.
    segmented = set(scores.segmented["customer_id"])
    assert set(seg.customer_ids.astype(str)) <= segmented
    labels, _ = assign_with("hdbscan", np.array([[50.0, 50.0]]), model.centers, model.params)
    assert labels[0] == NOISE


def test_kmeans_outputs_carry_no_method_fields():
    frame, _ = blobs()
    result = _run(frame, "kmeans")
    assert result.method_fit is None
    assert "method" not in model_dict(result)
    assert b'"method"' not in bundle_bytes(result, result.personas)


def test_an_unknown_method_is_refused_in_one_sentence():
    with pytest.raises(SegmentationError) as err:
        RunConfig(method="spectral")
    assert_actionable(str(err.value))
    assert "kmeans, gmm, ward, hdbscan, kprototypes" in str(err.value)


def test_a_damaged_mixture_model_is_refused():
    frame, _ = ellipses()
    data = model_dict(_run(frame, "gmm", k=2))
    data["method_params"]["weights"] = data["method_params"]["weights"][:1]
    with pytest.raises(SegmentationError) as err:
        Model.from_dict(data)
    assert_actionable(str(err.value))
    del data["method_params"]["weights"]
    with pytest.raises(SegmentationError):
        Model.from_dict(data)
