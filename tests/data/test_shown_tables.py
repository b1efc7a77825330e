"""Tables the pages and the report show, built once in the engine."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from segmentation import read_table
from segmentation.data.dataset import column_table, load_dataset
from segmentation.data.roles import ROLE_LABELS, Role
from segmentation.validate.migration import compare_assignments, shares_with_counts
from tests.helpers.shapes import bank, retail_no_id, subscription, to_bytes, wholesale


@pytest.mark.parametrize("make", [wholesale, bank, subscription, retail_no_id])
def test_column_table_matches_the_file_read_independently(make):
    frame = make()
    data = to_bytes(frame)
    dataset = load_dataset(read_table(data))
    table = column_table(dataset)
    independent = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert list(table["column"]) == list(independent.columns)
    for row in table.itertuples(index=False):
        cells = independent[row.column].str.strip()
        assert row.missing == int((cells == "").sum()), row.column
        first = [v for v in independent[row.column] if v.strip() != ""][:3]
        assert row.first_values.split(", ")[:len(first)] == [v.strip() for v in first] or \
            row.first_values.replace(" ", "") == ", ".join(first).replace(" ", ""), row.column
        assert row.role == ROLE_LABELS[Role(dataset.roles[row.column])]
        assert row.because and "set by" not in row.because


def test_a_corrected_role_says_so_and_an_unknown_role_is_shown_as_stored():
    frame = wholesale()
    raw = read_table(to_bytes(frame))
    column = next(c for c in frame.columns if c != "Channel")
    corrected = load_dataset(raw, roles={column: "ignore"})
    row = column_table(corrected).set_index("column").loc[column]
    before = column_table(load_dataset(raw)).set_index("column").loc[column]
    assert "set by" in row["because"] and "set by" not in before["because"]
    assert row["role"] == ROLE_LABELS[Role.IGNORE]
    from dataclasses import replace
    odd = replace(corrected, roles={**corrected.roles, column: "from_a_newer_version"})
    row = column_table(odd).set_index("column").loc[column]
    assert (row["role"], row["kind"]) == ("from_a_newer_version", "")


def test_shares_with_counts_on_a_hand_made_case():
    old = pd.DataFrame({"customer_id": ["1", "2", "3", "4"], "segment": [0, 0, 0, 1],
                        "persona": ["Savers", "Savers", "Savers", "Spenders"]})
    new = pd.DataFrame({"customer_id": ["1", "2", "5"], "segment": [0, 1, 1],
                        "persona": ["Savers", "Newcomers", "Newcomers"]})
    table = shares_with_counts(compare_assignments(old, new), old, new).set_index("persona")
    assert table.loc["Savers", ["then", "now"]].tolist() == [3, 1]
    assert table.loc["Spenders", ["then", "now"]].tolist() == [1, 0]
    assert table.loc["Newcomers", ["then", "now"]].tolist() == [0, 2]
    np.testing.assert_allclose(table["old_share"], table["then"] / 4)
    np.testing.assert_allclose(table["new_share"], table["now"] / 3)
    np.testing.assert_allclose(table["change"], table["new_share"] - table["old_share"])
