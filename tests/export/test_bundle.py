"""A saved segmentation bundle restores the same segments and names, and survives JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation import RunConfig, SegmentationError, run, score
from segmentation.cli import main
from segmentation.describe.carry_names import carry_over
from segmentation.describe.personas import apply_edits
from segmentation.export.bundle import _config_from_dict, _config_to_dict, bundle_bytes, load_bundle
from segmentation.prepare.features import PrepConfig
from tests.helpers import assert_actionable, planted_customers, to_tsv_bytes

# The carried names depend on the segments at K = 3, not on the sweep around it.
ONLY_K3 = ["--k-min", "3", "--k-max", "3"]


@pytest.fixture(scope="module")
def saved(sample_path):
    # Settings away from every default, so that each must survive the bundle to be replayed;
    # with K given, leaving out the sweep's split-half agreement changes no segment.
    config = RunConfig(prep=PrepConfig(scaling="log", outliers="exclude",
                                       weights=(("Income", 2.0),)), k=4, random_state=11,
                       stability=False)
    result = run(sample_path, config)
    personas = apply_edits(result.personas, {1: {"name": "Foodies", "offer": "Tasting boxes"}})
    return result, personas, load_bundle(bundle_bytes(result, personas))


@pytest.fixture(scope="module")
def rerun(saved, sample_path):
    """The sample run again from the bundle's settings alone."""
    return run(sample_path, saved[2].config)


def test_settings_survive_the_round_trip(saved):
    result, _, bundle = saved
    assert bundle.config == result.config
    assert _config_from_dict(json.loads(json.dumps(_config_to_dict(result.config)))) == \
        result.config


def test_rerunning_the_saved_settings_gives_the_same_assignments(saved, rerun):
    result, _, bundle = saved
    again = rerun
    assert np.array_equal(again.segmentation.labels, result.segmentation.labels)
    assert list(again.segmentation.customer_ids) == bundle.assignments["customer_id"].tolist()
    assert again.segmentation.labels.tolist() == bundle.assignments["segment"].tolist()


def test_the_saved_model_assigns_the_same_customers_to_the_same_segments(saved, sample_path):
    result, personas, bundle = saved
    scored = score(sample_path, bundle.model).segmented
    assert scored["customer_id"].tolist() == bundle.assignments["customer_id"].tolist()
    assert scored["segment"].tolist() == result.segmentation.labels.tolist()
    names = {p.segment: p.name for p in personas}
    assert scored["persona"].tolist() == [names[s] for s in result.segmentation.labels]


def test_names_and_strategies_come_back_on_the_same_segments(saved, rerun):
    result, personas, bundle = saved
    again = rerun
    carried = carry_over(again.personas, again.profiles.z, bundle.records)
    assert [(p.name, p.offer, p.tone) for p in carried.personas] == \
        [(p.name, p.offer, p.tone) for p in personas]
    assert carried.match.pairs == {s: s for s in range(result.chosen_k)}
    assert bundle.fingerprint == again.raw.fingerprint


@pytest.mark.parametrize("damage", [
    lambda b: b.pop("settings"),
    lambda b: b["assignments"].pop("segment"),
    lambda b: b["personas"][0].pop("signature"),
    lambda b: b["model"].update(centers=[[0.0]]),
    lambda b: b.update(version=99),
    lambda b: b.update(format="something-else"),
])
def test_a_damaged_bundle_is_refused_in_one_sentence(saved, damage):
    result, personas, _ = saved
    data = json.loads(bundle_bytes(result, personas))
    damage(data)
    with pytest.raises(SegmentationError) as caught:
        load_bundle(json.dumps(data).encode())
    assert_actionable(str(caught.value))


@pytest.mark.slow  # whole command-line runs
def test_the_command_line_writes_a_bundle_and_carries_names_with_previous(tmp_path):
    frame = planted_customers(450, seed=5)
    frame.attrs = {}
    data = tmp_path / "q1.tsv"
    data.write_bytes(to_tsv_bytes(frame))
    assert main(["run", str(data), "--out", str(tmp_path / "q1"), "--k", "3",
                 *ONLY_K3]) == 0
    bundle = json.loads((tmp_path / "q1" / "bundle.json").read_text())
    bundle["personas"][2]["fields"]["name"] = "Gift Hunters"
    (tmp_path / "edited.json").write_text(json.dumps(bundle))
    later = frame.sample(frac=1.0, random_state=1)  # next quarter: same customers, new order
    (tmp_path / "q2.tsv").write_bytes(to_tsv_bytes(later))
    assert main(["run", str(tmp_path / "q2.tsv"), "--out", str(tmp_path / "q2"), "--k", "3",
                 *ONLY_K3, "--seed", "9", "--previous", str(tmp_path / "edited.json")]) == 0
    import pandas as pd

    q1 = pd.read_csv(tmp_path / "q1" / "assignments.csv", dtype=str)
    q2 = pd.read_csv(tmp_path / "q2" / "assignments.csv", dtype=str)
    renamed = set(q1.loc[q1["segment"] == "2", "customer_id"])
    carrying = set(q2.loc[q2["persona"] == "Gift Hunters", "customer_id"])
    assert carrying and len(renamed & carrying) > 0.9 * len(carrying)


@pytest.fixture(scope="module")
def with_signup(saved):
    from segmentation.plan.signup import train

    result, personas, _ = saved
    return train(result)


def test_the_signup_model_comes_back_with_the_bundle(saved, with_signup, sample_path,
                                                     tmp_path):
    from segmentation.export.bundle import write_bundle
    from segmentation.plan.signup import predict_file

    result, personas, plain = saved
    assert plain.signup is None
    loaded = load_bundle(bundle_bytes(result, personas, signup=with_signup))
    written = load_bundle(write_bundle(result, personas, tmp_path / "b.json",
                                       signup=with_signup))
    expected = predict_file(sample_path, with_signup)
    for bundle in (loaded, written):
        assert bundle.signup is not None
        got = predict_file(sample_path, bundle)
        assert got["segment"].tolist() == expected["segment"].tolist()
        np.testing.assert_array_equal(got["probability"], expected["probability"])
        # The names the user gave win over those the model was trained with.
        assert bundle.signup.persona_names[1] == "Foodies"
        assert set(got.loc[got["segment"] == 1, "persona"]) == {"Foodies"}


@pytest.mark.parametrize("damage", [
    lambda s: s.pop("logistic"),
    lambda s: s["logistic"].update(coef=[[1.0]]),
    lambda s: s.update(version=99),
])
def test_a_damaged_signup_model_in_a_bundle_is_refused_in_one_sentence(saved, with_signup,
                                                                       damage):
    result, personas, _ = saved
    data = json.loads(bundle_bytes(result, personas, signup=with_signup))
    damage(data["signup"])
    with pytest.raises(SegmentationError) as caught:
        load_bundle(json.dumps(data).encode())
    assert_actionable(str(caught.value))


def test_a_figure_json_cannot_store_is_refused_in_one_sentence(sample_result, tmp_path):
    import math
    from dataclasses import replace as _replace

    from segmentation import SegmentationError
    from segmentation.export.bundle import bundle_bytes, write_bundle
    from segmentation.plan.signup import train

    model = train(sample_result)
    broken = _replace(model, bounds={**model.bounds,
                                     next(iter(model.bounds)): (math.nan, math.nan)})
    with pytest.raises(SegmentationError, match="not a number"):
        bundle_bytes(sample_result, sample_result.personas, signup=broken)
    path = tmp_path / "bundle.json"
    with pytest.raises(SegmentationError, match="no bundle was written"):
        write_bundle(sample_result, sample_result.personas, path, signup=broken)
    assert not path.exists()
