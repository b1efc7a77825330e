"""A run's drivers are measured once per result, and what a caller does with them does not
change what the next caller gets."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from segmentation import RunConfig, run
from segmentation.describe import drivers as drivers_module
from segmentation.describe.drivers import run_drivers
from tests.helpers import to_tsv_bytes
from tests.helpers.drivers import drivers_customers


@pytest.fixture(scope="module")
def result():
    frame = drivers_customers(planted="income")
    return run(to_tsv_bytes(frame), RunConfig(k=3, k_min=2, k_max=3, stability=False),
               name="income.tsv")


def test_the_same_result_is_measured_once_and_a_replaced_one_afresh(result, monkeypatch):
    calls = []
    measure = drivers_module.segment_drivers
    monkeypatch.setattr(drivers_module, "segment_drivers",
                        lambda *a, **k: calls.append(1) or measure(*a, **k))
    monkeypatch.setattr(drivers_module, "_last_run", None)
    first, warning = run_drivers(result)
    again, warning_again = run_drivers(result)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)
    assert warning_again == warning and warning is not None
    run_drivers(dataclasses.replace(result, personas=result.personas))
    assert len(calls) == 2


def test_a_caller_changing_its_drivers_leaves_the_next_callers_alone(result):
    first, _ = run_drivers(result)
    expected = first.copy()
    first.loc[:, "eta2"] = -1.0
    again, _ = run_drivers(result)
    pd.testing.assert_frame_equal(again, expected)
