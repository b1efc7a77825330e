"""Applying a per-value function once per distinct value rather than once per row."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas._libs import lib as _pandas_lib

# The inferred kinds whose distinct values are distinct to a function too: in a column
# mixing kinds, 1, 1.0 and True are one value to a hash table but not to ``str``.
_HOMOGENEOUS = {"string", "floating", "integer", "boolean", "empty"}


def map_distinct(series: pd.Series, func: Callable) -> pd.Series:
    """``series.map(func)``, calling ``func`` once per distinct present value.

    A column of a million customers holds a handful of education levels or categories,
    so this is that many calls instead of a million. Missing cells are passed to
    ``func`` one by one, as ``map`` would (None and NaN may differ to it).

    Examples
    --------
    >>> texts = pd.Series(["a", "b", "a", None], dtype=object)
    >>> map_distinct(texts, lambda v: v and v.upper()).tolist()
    ['A', 'B', 'A', nan]
    """
    if pd.api.types.infer_dtype(series, skipna=True) not in _HOMOGENEOUS:
        return series.map(func)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([func(v) for v in uniques] + [None], dtype=object)
    values = mapped[codes]  # code -1 (missing) picks the placeholder, replaced below
    missing = codes == -1
    if missing.any():
        values[missing] = [func(v) for v in series.to_numpy(dtype=object)[missing]]
    return as_mapped(values, series)


def as_mapped(values: np.ndarray, series: pd.Series) -> pd.Series:
    """An object array of results, one per cell of ``series``, as the Series ``series.map``
    would have returned with them."""
    # The dtype inference Series.map ends with, so that the result is the same Series
    # (None among text becomes NaN in a text column, as it does there).
    return pd.Series(_pandas_lib.maybe_convert_objects(values), index=series.index,
                     name=series.name)
