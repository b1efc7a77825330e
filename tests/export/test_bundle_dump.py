"""The bundle is written byte for byte as ``json.dump(indent=1)`` would write it."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.export.bundle import _dump
from segmentation.export.outputs import _json_default

SCALARS = st.one_of(st.text(max_size=6), st.integers(-10**12, 10**12), st.none(),
                    st.booleans(), st.floats(allow_nan=False, allow_infinity=False))


def _reference(data: dict) -> str:
    out = io.StringIO()
    json.dump(data, out, indent=1, allow_nan=False, default=_json_default)
    return out.getvalue()


def _written(data: dict) -> str:
    out = io.StringIO()
    _dump(data, out)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(ids=st.one_of(st.lists(st.text(max_size=8), max_size=30), st.lists(SCALARS, max_size=8)),
       segments=st.one_of(st.lists(st.integers(0, 20), max_size=30),
                          st.lists(SCALARS, max_size=8)),
       name=st.text(max_size=10))
def test_written_as_json_dump_writes_it(ids, segments, name):
    data = {"format": "bundle", "data": {"name": name, "rows": [1, 2]},
            "assignments": {"customer_id": ids, "segment": segments}, "versions": {}}
    assert _written(data) == _reference(data)


def test_long_lists_are_written_in_blocks_with_the_same_layout(monkeypatch):
    monkeypatch.setattr("segmentation.export.bundle._BLOCK_ITEMS", 7)
    data = {"assignments": {"customer_id": [f"c{i}é\"" for i in range(50)],
                            "segment": [i % 4 for i in range(50)]}}
    assert _written(data) == _reference(data)
