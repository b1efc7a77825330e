"""The saved model: model.json round trip, its error messages, and scoring with it."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import numpy as np
import pytest

from segmentation import RunConfig, SegmentationError, run, score
from segmentation.cluster.kmeans import assign
from segmentation.cluster.model import MODEL_FORMAT, MODEL_VERSION, Model, load_model
from segmentation.data._bounded_json import MAX_JSON_BYTES
from segmentation.export.outputs import model_dict, write_outputs
from segmentation.prepare.features import REASON_MISSING, PrepConfig
from tests.helpers import planted_customers, to_tsv_bytes

CONFIGS = {
    "default": PrepConfig(),
    "robust, drop, exclude": PrepConfig(scaling="robust", missing="drop", outliers="exclude"),
    "log, keep, weights": PrepConfig(scaling="log", outliers="keep",
                                     weights=(("Income", 2.0),)),
    "composite": PrepConfig(features=("Income", "MntWines", "MntMeatProducts", "MntGoldProds",
                                      "NumWebPurchases"),
                            composites=(("MntWines", "MntMeatProducts"),)),
}


def dirty_planted():
    frame = planted_customers(210, seed=8)
    frame.loc[[3, 17, 40], "Income"] = np.nan
    frame.loc[5, "Year_Birth"] = 1890
    frame.loc[6, "MntWines"] = -10
    return frame


@pytest.fixture(scope="module")
def planted_bytes() -> bytes:
    return to_tsv_bytes(dirty_planted())


@pytest.fixture(scope="module", params=list(CONFIGS), ids=list(CONFIGS))
def saved(request, planted_bytes, tmp_path_factory):
    """A run with one preparation, written to disk and loaded back."""
    result = run(planted_bytes, RunConfig(prep=CONFIGS[request.param], k=3, k_min=2, k_max=3,
                                          n_init=2))
    paths = write_outputs(result, tmp_path_factory.mktemp("model"))
    return result, paths["model.json"], load_model(paths["model.json"])


@pytest.fixture(scope="module")
def model_data(saved) -> dict:
    return json.loads(saved[1].read_text(encoding="utf-8"))


# --- round trip ---------------------------------------------------------------------------------

def test_load_model_round_trips_the_preparation(saved):
    result, _, model = saved
    assert isinstance(model, Model)
    assert model.preparation == result.features.preparation
    np.testing.assert_array_equal(model.centers, result.segmentation.centers)
    assert model.centers.shape == (3, len(result.features.features))
    assert model.persona_names == {p.segment: p.name for p in result.personas}


def test_model_json_has_format_version_and_seed(model_data):
    assert model_data["format"] == MODEL_FORMAT
    assert model_data["version"] == MODEL_VERSION
    assert model_data["seed"] == 42
    assert "scikit-learn" in model_data["versions"]
    json.dumps(model_data, allow_nan=False)  # strictly valid JSON: no NaN or Infinity


def test_scoring_the_training_data_reproduces_the_labels(saved, planted_bytes):
    result, _, model = saved
    scores = score(planted_bytes, model)
    assert scores.segmented["customer_id"].tolist() == \
        [str(i) for i in result.segmentation.customer_ids]
    np.testing.assert_array_equal(scores.segmented["segment"].to_numpy(),
                                  result.segmentation.labels)
    np.testing.assert_allclose(scores.segmented["distance"].to_numpy(),
                               result.segmentation.distances, rtol=1e-9, atol=1e-9)
    assert scores.rows_read == result.features.report.rows_read
    assert scores.dropped == result.features.report.dropped
    assert scores.rows_read == len(scores.segmented) + sum(scores.dropped.values())
    assert len(scores.assignments) == scores.rows_read  # every line, segmented or not


def test_scoring_a_shuffled_subset_is_consistent(saved):
    result, _, model = saved
    frame = dirty_planted().sample(frac=0.4, random_state=2)
    scores = score(to_tsv_bytes(frame), model)
    trained = dict(zip(map(str, result.segmentation.customer_ids), result.segmentation.labels,
                       strict=True))
    got = scores.segmented
    assert len(got) > 0
    assert all(trained[c] == s for c, s in zip(got["customer_id"], got["segment"], strict=True))
    assert set(got["customer_id"]) <= set(frame["ID"])


def test_scoring_one_customer_works(saved):
    result, _, model = saved
    frame = dirty_planted().iloc[[100]]
    scores = score(to_tsv_bytes(frame), model)
    assert scores.rows_read == 1
    trained = dict(zip(map(str, result.segmentation.customer_ids), result.segmentation.labels,
                       strict=True))
    assert scores.segmented["segment"].tolist() == [trained[frame["ID"].iloc[0]]]


def test_drop_policy_still_drops_when_scoring(planted_bytes):
    result = run(planted_bytes, RunConfig(prep=PrepConfig(missing="drop"), k=3, k_min=2,
                                          k_max=3, n_init=2))
    model = Model.from_dict(model_dict(result))
    scores = score(planted_bytes, model)
    assert scores.dropped[REASON_MISSING] == 3
    assert len(scores.segmented) == 207
    excluded = scores.assignments[scores.assignments["status"] == "excluded"]
    assert len(scores.assignments) == 210 and set(excluded["reason"]) == {REASON_MISSING}
    assert excluded["segment"].isna().all()


def test_assign_picks_the_nearest_centre():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    fm = SimpleNamespace(X=np.array([[1.0, 1.0], [9.0, -1.0], [0.0, 7.0], [6.0, 0.0]]))
    labels, distances = assign(fm, centers)
    assert labels.tolist() == [0, 1, 2, 1]
    np.testing.assert_allclose(distances, [np.sqrt(2), np.sqrt(2), 3.0, 4.0])


# --- error messages -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_dict(planted_bytes) -> dict:
    result = run(planted_bytes, RunConfig(k=3, k_min=2, k_max=3, n_init=2))
    return json.loads(json.dumps(model_dict(result)))


def damaged(data: dict, change) -> dict:
    data = copy.deepcopy(data)
    change(data)
    return data


@pytest.mark.parametrize("change", [
    lambda d: d.pop("format"),
    lambda d: d.update(format="segmentation-modle"),
    lambda d: d.update(format=None),
], ids=["no format", "misspelt format", "null format"])
def test_from_dict_wrong_format(good_dict, change):
    with pytest.raises(SegmentationError, match="not a segmentation model file"):
        Model.from_dict(damaged(good_dict, change))


@pytest.mark.parametrize("version", [MODEL_VERSION + 1, 10, "2"])
def test_from_dict_newer_version(good_dict, version):
    data = damaged(good_dict, lambda d: d.update(version=version))
    with pytest.raises(SegmentationError, match=rf"version {version}, newer than this tool "
                                                rf"reads \({MODEL_VERSION}\)"):
        Model.from_dict(data)


@pytest.mark.parametrize("change", [
    lambda d: d.pop("preparation"),
    lambda d: d.pop("centers"),
    lambda d: d.pop("personas"),
    lambda d: d.update(preparation=[]),
    lambda d: d.update(preparation=None),
    lambda d: d["preparation"].pop("impute_values"),
    lambda d: d["preparation"].update(unexpected=1),
    lambda d: d["preparation"].update(outlier_rules=[{"variable": "Income"}]),
    lambda d: d.update(centers="not numbers"),
    lambda d: d.update(centers=[[1.0, "x"]]),
    lambda d: d["centers"][1].pop(),
    lambda d: d.update(personas=[{"segment": "first", "name": "x"}]),
    lambda d: d.update(personas=[{"name": "x"}]),
    lambda d: d.update(personas=None),
], ids=["no preparation", "no centers", "no personas", "preparation list", "preparation null",
        "preparation key missing", "preparation extra key", "outlier rule incomplete",
        "centers text", "centers with text", "ragged centers", "persona segment text",
        "persona without segment", "personas null"])
def test_from_dict_damaged_content(good_dict, change):
    with pytest.raises(SegmentationError, match="The model file is damaged: "):
        Model.from_dict(damaged(good_dict, change))


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.update(centers=[1.0, 2.0]), r"centers\[0\] is not a list"),
    (lambda d: d.update(centers=[row[:-1] for row in d["centers"]]),
     "centres do not match the variables"),
    (lambda d: d.update(centers=[[[0.0]]]), r"centers\[0\]\[0\] is not a number"),
], ids=["one-dimensional", "one variable short", "three-dimensional"])
def test_from_dict_centres_that_do_not_match(good_dict, change, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        Model.from_dict(damaged(good_dict, change))


def test_load_model_file_errors(tmp_path):
    with pytest.raises(SegmentationError, match="Cannot open the model"):
        load_model(tmp_path / "absent.json")
    with pytest.raises(SegmentationError, match="is not a regular file"):
        load_model(tmp_path)  # a folder
    with pytest.raises(SegmentationError, match="is not a regular file"):
        load_model("/dev/zero")  # would never end
    big = tmp_path / "big.json"
    with big.open("wb") as handle:  # sparse: the size is checked before reading
        handle.truncate(MAX_JSON_BYTES + 1)
    with pytest.raises(SegmentationError, match="larger than"):
        load_model(big)
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(SegmentationError, match="nested too deeply"):
        load_model(tmp_path / "deep.json")
    (tmp_path / "text.json").write_text("model: yes", encoding="utf-8")
    with pytest.raises(SegmentationError, match="is not valid JSON"):
        load_model(tmp_path / "text.json")
    (tmp_path / "latin.json").write_bytes(b'{"format": "\xe9"}')
    with pytest.raises(SegmentationError, match="is not valid JSON"):
        load_model(tmp_path / "latin.json")
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    with pytest.raises(SegmentationError, match="is not a model file"):
        load_model(tmp_path / "list.json")


def test_score_with_a_file_lacking_the_columns(good_dict):
    model = Model.from_dict(good_dict)
    with pytest.raises(SegmentationError, match="lacks the columns behind Income"):
        score(b"ID,Other\n1,2\n2,3\n3,4\n", model)


DAMAGE = {
    "version text": lambda d: d.update(version="abc"),
    "version null": lambda d: d.update(version=None),
    "null in centres": lambda d: d["centers"][0].__setitem__(0, None),
    "scale too short": lambda d: d["preparation"]["scale"].pop(),
    "weights too short": lambda d: d["preparation"]["weights"].pop(),
    "unknown feature": lambda d: d["preparation"]["features"].__setitem__(0, "NoSuchVariable"),
    "roles not a mapping": lambda d: d["preparation"].update(roles=["id", "income"]),
}


@pytest.mark.parametrize("change", list(DAMAGE.values()), ids=list(DAMAGE))
def test_damaged_model_is_refused_before_scoring(good_dict, planted_bytes, change):
    data = damaged(good_dict, change)
    try:
        model = Model.from_dict(data)
    except SegmentationError:
        return  # refused as damaged: what the contract asks
    # accepted: then scoring must either refuse with a SegmentationError or give the same
    # segments as the intact model
    intact = score(planted_bytes, Model.from_dict(good_dict)).segmented
    try:
        got = score(planted_bytes, model).segmented
    except SegmentationError:
        return
    assert got["segment"].tolist() == intact["segment"].tolist()
