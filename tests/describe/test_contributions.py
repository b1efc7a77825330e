"""Each customer's top drivers: variable terms that sum to the distance gap, in the one
assignments writer for ``run`` and ``score``, empty where no segment, safe in a CSV."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segmentation import run
from segmentation.cluster.model import Model, score
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS, gap_terms, top_drivers
from segmentation.export.assignments import STATUS_SEGMENTED, customer_assignments
from segmentation.export.outputs import model_dict
from segmentation.export.strategy import assignments_csv
from tests.helpers import CHEAP, planted_customers, to_tsv_bytes
from tests.helpers.hostile import HOSTILE_COLUMNS, hostile_customers

_finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


def test_hand_computed_gap_terms():
    # x = (1, 2, 0); own centre (0, 0, 0), the others (3, 0, 0) and (0, 5, 5).
    # d2 own = 1 + 4 + 0 = 5; d2 to (3,0,0) = 4 + 4 + 0 = 8; to (0,5,5) = 1 + 9 + 25 = 35.
    # Next nearest is (3, 0, 0): terms (4-1, 4-4, 0-0) = (3, 0, 0), summing to 8 - 5 = 3.
    X = np.array([[1.0, 2.0, 0.0]])
    centers = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 5.0, 5.0]])
    terms, nxt = gap_terms(X, centers, [0])
    assert nxt.tolist() == [1]
    assert terms.tolist() == [[3.0, 0.0, 0.0]]
    drivers = top_drivers(X, centers, [0], ["Income", "Visits", "Wine"])
    # Only Income pulls towards the own segment; a zero term pulls nowhere: left empty.
    assert drivers.iloc[0].tolist() == ["Income", None]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 12), p=st.integers(1, 6), k=st.integers(2, 5))
def test_terms_sum_to_the_distance_gap_to_the_next_nearest_centre(data, n, p, k):
    X = data.draw(arrays(float, (n, p), elements=_finite))
    centers = data.draw(arrays(float, (k, p), elements=_finite))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    terms, nxt = gap_terms(X, centers, labels)
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    others = d2.copy()
    others[np.arange(n), labels] = np.inf
    assert np.all(nxt != labels)
    np.testing.assert_allclose(d2[np.arange(n), nxt], others.min(axis=1))
    gap = d2[np.arange(n), nxt] - d2[np.arange(n), labels]
    np.testing.assert_allclose(terms.sum(axis=1), gap, rtol=1e-9, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(1, 30), p=st.integers(1, 5))
def test_top_drivers_are_the_largest_positive_terms_in_any_chunking(data, n, p):
    X = data.draw(arrays(float, (n, p), elements=_finite))
    centers = data.draw(arrays(float, (3, p), elements=_finite, unique=True))
    labels = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
    names = [f"v{j}" for j in range(p)]
    whole = top_drivers(X, centers, labels, names)
    chunked = top_drivers(X, centers, labels, names, budget=1)
    pd.testing.assert_frame_equal(whole, chunked)
    terms, _ = gap_terms(X, centers, labels)
    for i, row in enumerate(whole.itertuples(index=False)):
        best = sorted(range(p), key=lambda j: (-terms[i, j], j))[:len(row)]
        expected = [names[j] if terms[i, j] > 0 else None for j in best]
        assert list(row) == expected


@pytest.fixture(scope="module")
def planted_run():
    frame = planted_customers(600, seed=4)
    frame.loc[:4, "Income"] = np.nan  # dropped rows: they get no segment and no drivers
    return run(to_tsv_bytes(frame), replace(CHEAP, prep=replace(CHEAP.prep, missing="drop")),
               name="planted.tsv"), frame


def test_assignments_carry_each_customers_drivers_and_none_without_a_segment(planted_run):
    result, _ = planted_run
    table = customer_assignments(result)
    assert set(TOP_DRIVER_COLUMNS) <= set(table.columns)
    segmented = table["status"].eq(STATUS_SEGMENTED)
    assert (~segmented).sum() >= 5
    assert table.loc[~segmented, list(TOP_DRIVER_COLUMNS)].isna().all().all()
    fm, seg = result.features, result.segmentation
    labels = {fm.variables[f].label for f in fm.features}
    assert table.loc[segmented, "top_driver_1"].isin(labels).all()
    # The first driver is the variable with the largest term, recomputed here by hand.
    X, centers = fm.X, seg.centers
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    d2[np.arange(len(X)), seg.labels] = np.inf
    nxt = d2.argmin(axis=1)
    terms = (X - centers[nxt]) ** 2 - (X - centers[seg.labels]) ** 2
    first = [fm.variables[fm.features[j]].label for j in terms.argmax(axis=1)]
    assert table.loc[segmented, "top_driver_1"].tolist() == first


def test_score_writes_the_same_drivers_as_the_run(planted_run):
    result, frame = planted_run
    model = Model.from_dict(model_dict(result))
    scored = score(to_tsv_bytes(frame), model, name="planted.tsv").assignments
    ran = customer_assignments(result)
    assert list(scored.columns[-2:]) == list(TOP_DRIVER_COLUMNS)
    pd.testing.assert_frame_equal(scored[list(TOP_DRIVER_COLUMNS)], ran[list(TOP_DRIVER_COLUMNS)])


def test_hostile_column_names_are_neutralised_in_the_csv():
    result = run(to_tsv_bytes(hostile_customers()), CHEAP, name="hostile.tsv")
    table = customer_assignments(result)
    drivers = set(table[list(TOP_DRIVER_COLUMNS)].stack().dropna())
    assert drivers == set(HOSTILE_COLUMNS)
    read = pd.read_csv(io.BytesIO(assignments_csv(table)), dtype=str, keep_default_na=False)
    cells = set(read["top_driver_1"]) | set(read["top_driver_2"])
    assert cells == {"'" + HOSTILE_COLUMNS[0], "'" + HOSTILE_COLUMNS[1], HOSTILE_COLUMNS[2]}
