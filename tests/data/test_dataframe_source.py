"""A pandas DataFrame is a customer table too: read as its CSV export would be."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from segmentation import RunConfig, SegmentationError, read_table, run
from tests.helpers import CHEAP, planted_customers


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    table = planted_customers(400, seed=5)
    table.attrs = {}
    return table


def test_a_dataframe_runs_exactly_as_its_csv_export(frame):
    config = replace(CHEAP, k=3, k_min=3, k_max=3)
    from_frame = run(frame, config)
    from_file = run(frame.to_csv(index=False).encode("utf-8"), config, name="the table")
    assert np.array_equal(from_frame.segmentation.labels, from_file.segmentation.labels)
    assert list(from_frame.features.customer_ids) == list(from_file.features.customer_ids)
    assert [p.name for p in from_frame.personas] == [p.name for p in from_file.personas]
    assert from_frame.dataset.rows_read == len(frame)


def test_customer_ids_set_as_the_index_are_kept(frame):
    id_column = frame.columns[0]
    raw = read_table(frame.set_index(id_column))
    assert raw.frame.columns[0] == id_column
    assert raw.frame[id_column].tolist() == frame[id_column].astype(str).tolist()
    # A default index is not a column.
    assert list(read_table(frame).frame.columns) == list(frame.columns)


def test_a_lone_surrogate_is_read_escaped_not_refused(frame):
    table = frame.astype({frame.columns[0]: object})
    table.iloc[3, 0] = "C\ud800x"
    raw = read_table(table)
    assert raw.frame.iloc[3, 0] == "C\\ud800x"
    assert raw.rows_read == len(frame)


@pytest.mark.parametrize("source", [42, 3.5, None, {"a": [1]}, [[1, 2]]])
def test_anything_else_is_one_sentence(source):
    with pytest.raises(SegmentationError) as caught:
        read_table(source)
    message = str(caught.value)
    assert "path, a file's bytes or a pandas DataFrame" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_run_takes_a_dataframe_with_the_default_settings(frame):
    result = run(frame, RunConfig())
    assert 2 <= result.chosen_k <= 6
    assert result.segmentation.labels.size == len(frame)


def test_line_breaks_inside_cells_keep_every_customer_on_their_own_line():
    """A bare CR, a LF or a CRLF inside a note stays in the cell: no customer is cut in two
    or lost."""
    notes = ["called back\rtwice", "line one\nline two", "windows\r\nbreak", "plain"]
    frame = pd.DataFrame({"customer": [11, 12, 13, 14], "note": notes,
                          "spend": [1.5, 2.5, 3.5, 4.5]})
    raw = read_table(frame)
    assert raw.frame["customer"].tolist() == ["11", "12", "13", "14"]
    assert raw.frame["note"].tolist() == notes
    assert raw.frame["spend"].tolist() == ["1.5", "2.5", "3.5", "4.5"]
