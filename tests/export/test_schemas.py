"""The declared schemas of model, bundle and sign-up files: each damage one sentence.

The valid files come from one real run on the bundled sample; each test
damages one field the way the defect list found it damaged.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import pairwise_distances_argmin_min

from segmentation import RunConfig, SegmentationError, run
from segmentation.cluster.model import Model, assign
from segmentation.export.bundle import bundle_bytes, load_bundle
from segmentation.export.outputs import model_dict
from segmentation.export.schemas import MAX_CENTERS
from segmentation.plan import signup
from tests.helpers import SAMPLE_PATH, assert_actionable


@pytest.fixture(scope="module")
def result():
    return run(SAMPLE_PATH, RunConfig(k=3, n_init=1, stability=False))


@pytest.fixture(scope="module")
def model_json(result) -> dict:
    return json.loads(json.dumps(model_dict(result)))


@pytest.fixture(scope="module")
def bundle_json(result) -> dict:
    data = json.loads(bundle_bytes(result, result.personas))
    model = signup.train(result, cv=2)
    return json.loads(json.dumps(signup._add_to_bundle(data, model)))


def refused(call, data, *fragments):
    with pytest.raises(SegmentationError) as caught:
        call(data)
    message = str(caught.value)
    assert_actionable(message)
    for fragment in fragments:
        assert fragment in message, message
    return message


def changed(data: dict, change) -> dict:
    data = copy.deepcopy(data)
    change(data)
    return data


def load(data: dict):
    return load_bundle(json.dumps(data).encode("utf-8"))


def predict(data: dict):
    return signup._model_from_bundle(json.loads(json.dumps(data)))


SIGNUP_DAMAGE = {
    # Each of these once put every customer in one segment, or crashed on use.
    "NaN coefficient": (lambda s: s["logistic"]["coef"][0].__setitem__(0, float("nan")),
                        "signup.logistic.coef[0][0] is not a finite number"),
    "NaN mean": (lambda s: s["logistic"]["mean"].__setitem__(0, float("nan")),
                 "signup.logistic.mean[0] is not a finite number"),
    "zero scale": (lambda s: s["logistic"]["scale"].__setitem__(0, 0.0),
                   "signup.logistic.scale[0] is 0.0, below the limit"),
    "intercept too long": (lambda s: s["logistic"]["intercept"].append(0.5),
                           "logistic.intercept has 4 values for 3 coefficient rows"),
    "intercept missing": (lambda s: s["logistic"].pop("intercept"),
                          "signup.logistic.intercept is missing"),
    "bounds missing": (lambda s: s.pop("bounds"), "signup.bounds is missing"),
    "a bound missing": (lambda s: s["bounds"].pop(next(iter(s["bounds"]))),
                        "bounds lack the numeric feature"),
    "NaN fill": (lambda s: s["fill"].__setitem__(next(iter(s["fill"])), float("nan")),
                 "is not a finite number"),
    "tree loops": (lambda s: s["tree"]["children_left"].__setitem__(0, 0),
                   "tree node 0 has children"),
}


@pytest.mark.parametrize("damage, fragment", list(SIGNUP_DAMAGE.values()), ids=list(SIGNUP_DAMAGE))
def test_a_damaged_signup_model_is_refused(bundle_json, damage, fragment):
    data = changed(bundle_json, lambda b: damage(b["signup"]))
    refused(predict, data, "The bundle is damaged: ", fragment)
    # the same model on its own names itself
    alone = changed(bundle_json["signup"], damage)
    refused(signup.SignupModel.from_dict, alone, "The sign-up model is damaged: ")


MODEL_DAMAGE = {
    "NaN imputation value": (
        lambda m: m["preparation"]["impute_values"].__setitem__("Income", float("nan")),
        "preparation.impute_values.Income is not a finite number"),
    "infinite centre": (lambda m: m["centers"][2].__setitem__(1, float("inf")),
                        "centers[2][1] is not a finite number"),
    "zero scale": (lambda m: m["preparation"]["scale"].__setitem__(0, 0.0),
                   "preparation.scale[0] is 0.0, below the limit"),
    "negative weight": (lambda m: m["preparation"]["weights"].__setitem__(0, -1.0),
                        "preparation.weights[0]"),
    "centre as text": (lambda m: m["centers"][0].__setitem__(0, "1.5"),
                       "centers[0][0] is not a number"),
    "too many centres": (lambda m: m.update(centers=m["centers"] * 20),
                         f"at most {MAX_CENTERS}"),
    "huge value": (lambda m: m["preparation"]["center"].__setitem__(0, 1e300),
                   "preparation.center[0] is 1e+300, above the limit"),
}


@pytest.mark.parametrize("damage, fragment", list(MODEL_DAMAGE.values()), ids=list(MODEL_DAMAGE))
def test_a_damaged_model_is_refused(model_json, damage, fragment):
    refused(Model.from_dict, changed(model_json, damage), "The model file is damaged: ", fragment)


BUNDLE_DAMAGE = {
    "k of 3.5": (lambda b: b["settings"].update(k=3.5), "settings.k is not a whole number"),
    "k as text": (lambda b: b["settings"].update(k="3"), "settings.k is not a whole number"),
    "n_init of 1000": (lambda b: b["settings"].update(n_init=1000),
                       "settings.n_init is 1000, above the limit 100"),
    "k unlike the model": (lambda b: b["settings"].update(k=4),
                           "settings.k is 4 but the model has 3 segments"),
    "unknown scaling": (lambda b: b["settings"]["prep"].update(scaling="minmax"),
                        "settings.prep.scaling is 'minmax'"),
    "assignment beyond the model": (lambda b: b["assignments"]["segment"].__setitem__(0, 7),
                                    "names a segment beyond the model's 3"),
    "assignments of unequal length": (lambda b: b["assignments"]["segment"].pop(),
                                      "customer ids but"),
    "NaN signature": (lambda b: b["personas"][0]["signature"].__setitem__("Income", float("nan")),
                      "personas[0].signature.Income is not a finite number"),
    "deeply nested": (lambda b: b["personas"][0]["fields"].__setitem__(
        "name", json.loads("[" * 500 + "]" * 500)), "nested too deeply"),
}


@pytest.mark.parametrize("damage, fragment", list(BUNDLE_DAMAGE.values()), ids=list(BUNDLE_DAMAGE))
def test_a_damaged_bundle_is_refused(bundle_json, damage, fragment):
    refused(load, changed(bundle_json, damage), "The bundle is ", fragment)


def test_the_valid_files_load(bundle_json, model_json):
    assert load(bundle_json).config.k == 3
    assert Model.from_dict(model_json).centers.shape[0] == 3
    assert predict(bundle_json).classes == (0, 1, 2)


# --- chunked nearest-centre assignment --------------------------------------------------------

values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 60), k=st.integers(2, 8), p=st.integers(1, 5),
       budget=st.integers(1, 200))
def test_chunked_assignment_is_the_nearest_centre(data, n, k, p, budget):
    X = data.draw(arrays(float, (n, p), elements=values))
    centers = data.draw(arrays(float, (k, p), elements=values))
    labels, distances = assign(X, centers, budget=budget)
    # The exact reference: every distance from the differences themselves.
    d = np.linalg.norm(X[:, None, :] - centers[None, :, :], axis=2)
    np.testing.assert_allclose(distances, d.min(axis=1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(d[np.arange(n), labels], d.min(axis=1), rtol=1e-9, atol=1e-9)
    # scikit-learn as an independent check, within the precision of its expanded formula
    # |x|^2 - 2 x.c + |c|^2, whose rounding grows with the size of the numbers: at |x| = 363
    # and a centre 1e-5 away it answers 1.62e-5 for an exact 1.73e-5.
    ref_labels, ref_distances = pairwise_distances_argmin_min(X, centers)
    size = max(np.linalg.norm(X, axis=1).max(), np.linalg.norm(centers, axis=1).max())
    tolerance = 1e-7 * (1 + size)
    np.testing.assert_allclose(distances, ref_distances, rtol=1e-9, atol=tolerance)
    # a tie (within that precision) may go either way; otherwise the very same centre
    clear = np.sort(d, axis=1)[:, 1] - d.min(axis=1) > 2 * tolerance
    assert (labels[clear] == ref_labels[clear]).all()


def test_assignment_is_exact_where_the_expanded_formula_rounds():
    # Found by the property above: scikit-learn's expanded formula answers 1.62e-5 here.
    X = np.array([[363.0, 0.0, 0.0, 0.0]])
    centers = np.array([[363.0, 1e-5, 1e-5, 1e-5], [0.0, 0.0, 0.0, 0.0]])
    labels, distances = assign(X, centers, budget=1)
    assert labels.tolist() == [0]
    np.testing.assert_allclose(distances, [np.sqrt(3) * 1e-5], rtol=1e-9)


def test_assignment_memory_stays_within_its_budget():
    import tracemalloc

    rng = np.random.default_rng(0)
    X, centers = rng.normal(size=(40_000, 30)), rng.normal(size=(MAX_CENTERS, 30))
    tracemalloc.start()
    assign(X, centers)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # All rows at once would hold 40,000 x 50 x 30 differences: 480 MB.
    assert peak < 100 * 2**20, f"{peak / 2**20:.0f} MB"


@pytest.mark.parametrize("bad", ["x" * 20_000, 10**30])
def test_an_absurd_customer_id_in_a_bundle_is_refused(bad):
    from segmentation.export.schemas import AssignmentsSchema

    with pytest.raises(ValueError, match="customer id"):
        AssignmentsSchema.model_validate({"customer_id": [bad], "segment": [0]})
    assert AssignmentsSchema.model_validate({"customer_id": ["C1", 7], "segment": [0, 1]})


def test_a_tree_reading_a_feature_that_does_not_exist_is_refused(bundle_json):
    from segmentation.export.bundle import load_bundle

    tree = bundle_json["signup"]["tree"]
    leaf = tree["children_left"].index(-1)
    n_columns = len(bundle_json["signup"]["columns"])
    for node, value in ((0, n_columns), (0, -1), (leaf, 10**30)):
        bad = changed(bundle_json, lambda b, node=node, value=value:
                      b["signup"]["tree"]["feature"].__setitem__(node, value))
        with pytest.raises(SegmentationError, match=f"tree node {node} reads feature"):
            load_bundle(json.dumps(bad).encode())
    load_bundle(json.dumps(bundle_json).encode())  # the intact tree loads
