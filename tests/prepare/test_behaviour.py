"""The behaviour-first preset: what customers do is clustered, who they are is profiled."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation import RunConfig, SegmentationError, run
from segmentation.data.dataset import load_dataset
from segmentation.data.orders import read_customers
from segmentation.describe.drivers import split_warning
from segmentation.prepare.behaviour import (
    BEHAVIOUR_SCALING,
    behaviour_features,
    behaviour_prep,
)
from segmentation.prepare.features import PrepConfig, variables_of
from tests.helpers import to_tsv_bytes
from tests.helpers.drivers import drivers_customers
from tests.helpers.logs import order_log
from tests.helpers.logs import to_bytes as log_bytes

K3 = RunConfig(k=3, k_min=2, k_max=3, stability=False)


def _dataset(data: bytes, name: str):
    return load_dataset(read_customers(data, "auto", {}, None, name=name))


def test_the_preset_takes_behaviour_and_leaves_demographics_and_money_levels():
    ds = _dataset(to_tsv_bytes(drivers_customers(300)), "c.tsv")
    variables = variables_of(ds)
    chosen = behaviour_features(variables)
    kinds = {variables[f].kind for f in chosen}
    assert kinds == {"spend_share", "channel_share", "deals", "web_visits", "recency",
                     "total_purchases", "total_spend"}
    assert not {"Income", "age", "children", "MntWines", "NumStorePurchases"} & set(chosen)
    prep = behaviour_prep(PrepConfig(weights=(("Income", 2.0),)), variables)
    assert prep.features == chosen and prep.scaling == BEHAVIOUR_SCALING and prep.weights == ()


@pytest.mark.parametrize("planted", ["behaviour", "income"])
def test_behaviour_first_recovers_behaviour_groups_independent_of_income(planted):
    frame = drivers_customers(planted=planted)
    data = to_tsv_bytes(frame)
    ds = _dataset(data, "c.tsv")
    config = replace(K3, prep=behaviour_prep(K3.prep, variables_of(ds)))
    result = run(data, config, name="c.tsv")
    agreement = adjusted_rand_score(frame.attrs["planted"], result.segmentation.labels)
    if planted == "behaviour":
        assert agreement >= 0.8
        # Names come from behaviour; income is not what sets the segments apart.
        assert split_warning(result.features, result.segmentation.labels) is None
        assert not any("Income" in p.name for p in result.personas)
    else:
        # Bands of income with the same mix in each: the preset does not find the bands.
        assert agreement < 0.8


def test_an_order_log_keeps_its_behaviour_variables_and_log_scaled_total():
    ds = _dataset(log_bytes(order_log(200)), "orders.csv")
    variables = variables_of(ds, ds.log.labels)
    chosen = behaviour_features(variables, ds.log)
    assert set(chosen) <= set(ds.log.default_features)
    money = [f for f in chosen if variables[f].kind == "money"]
    assert money and set(money) <= set(ds.log.log_features)
    left_out = [f for f in ds.log.default_features if f not in chosen]
    assert left_out and all(variables[f].kind == "money" for f in left_out)


def test_a_file_without_behaviour_variables_says_what_to_do():
    import pandas as pd

    frame = pd.DataFrame({"id": range(40), "age": [20 + i % 40 for i in range(40)],
                          "balance": [f"${100 * i:,.2f}" for i in range(40)]})
    ds = _dataset(frame.to_csv(index=False).encode(), "bank.csv")
    with pytest.raises(SegmentationError, match="choose the clustering variables by hand"):
        behaviour_features(variables_of(ds))
