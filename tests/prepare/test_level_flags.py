"""A category's level indicators, decided once per distinct value, are what comparing
every cell gives: 1.0 for the level's cells, and for "(other)" every cell of no named
level, a missing one included."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.prepare.variables import OTHER_LEVEL, Variable, derive

# Category cells as a file or a spreadsheet gives them: text (accents, padding, a number
# written as text beside the number itself), missing in every spelling, numbers, flags.
CELLS = st.one_of(st.sampled_from(["Single", "Married", "married", " Single", "1", "Ünï",
                                   "日本", ""]),
                  st.sampled_from([None, np.nan, pd.NA]), st.sampled_from([1, 1.0, True]))


def _levels(named: list[str]) -> dict[str, Variable]:
    return {f"level_{i}": Variable(f"level_{i}", d, "g", "level", ("status",), d)
            for i, d in enumerate([*named, OTHER_LEVEL])}


@settings(max_examples=300, deadline=None)
@given(st.lists(CELLS, max_size=30),
       st.lists(st.sampled_from(["Single", "Married", "1", "日本", ""]), min_size=1,
                max_size=3, unique=True))
def test_level_flags_match_comparing_every_cell(cells, named):
    base = pd.DataFrame({"status": pd.Series(cells, dtype=object)},
                        index=pd.Index([f"c{i}" for i in range(len(cells))], dtype=object))
    variables = _levels(named)
    frame = derive(base, variables)
    values = base["status"].astype(object)
    for name, var in variables.items():
        if var.detail == OTHER_LEVEL:
            expected = (~values.isin(named)).astype(float)
        else:
            expected = (values == var.detail).astype(float)
        assert frame[name].index.equals(base.index)
        assert frame[name].tolist() == expected.tolist(), (name, cells)
