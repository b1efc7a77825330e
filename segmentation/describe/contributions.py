"""What pulls each customer to their segment rather than the next nearest one.

In the scaled clustering space a customer ``x`` is in segment ``own`` because its
centre is nearer than the next nearest centre ``next``. For squared Euclidean
distance the gap between the two splits exactly over the variables::

    |x - c_next|^2 - |x - c_own|^2 = sum_j [(x_j - c_next,j)^2 - (x_j - c_own,j)^2]

so each variable's term says how much of the gap it makes; the terms sum to the
gap. A customer's drivers are the variables with the largest positive terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.cluster.strata import to_stratum
from segmentation.config import ASSIGN_BUDGET, N_TOP_DRIVERS

if TYPE_CHECKING:
    from segmentation.prepare.features import FeatureMatrix

__all__ = ["TOP_DRIVER_COLUMNS", "gap_terms", "top_drivers", "customer_drivers"]

#: The assignments file's columns naming each customer's drivers.
TOP_DRIVER_COLUMNS = tuple(f"top_driver_{i}" for i in range(1, N_TOP_DRIVERS + 1))


def gap_terms(X: np.ndarray, centers: np.ndarray,
              labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Each variable's part of the squared-distance gap to the next nearest centre.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Rows in the centres' scaled space.
    centers : ndarray of shape (n_centers, n_features)
        At least two centres.
    labels : sequence of int
        Each row's own segment (its centre is ``centers[label]``).

    Returns
    -------
    terms : ndarray of shape (n_rows, n_features)
        ``(x_j - c_next,j)^2 - (x_j - c_own,j)^2``; each row sums to
        ``|x - c_next|^2 - |x - c_own|^2``.
    next_labels : ndarray of int
        The nearest centre other than the row's own.

    Examples
    --------
    >>> terms, nxt = gap_terms(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0], [3.0, 4.0]]), [0])
    >>> terms.tolist(), nxt.tolist()
    ([[3.0, 16.0]], [1])
    """
    X = np.asarray(X, dtype=float)
    centers = np.asarray(centers, dtype=float)
    labels = np.asarray(labels, dtype=np.intp)
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    d2[np.arange(len(X)), labels] = np.inf
    next_labels = d2.argmin(axis=1)
    terms = (X - centers[next_labels]) ** 2 - (X - centers[labels]) ** 2
    return terms, next_labels


def top_drivers(X: np.ndarray, centers: np.ndarray, labels: Sequence[int],
                names: Sequence[str], n_top: int = N_TOP_DRIVERS,
                budget: int = ASSIGN_BUDGET) -> pd.DataFrame:
    """The ``n_top`` variables that pull each row most towards its own segment.

    Parameters
    ----------
    X, centers, labels
        As in :func:`gap_terms`.
    names : sequence of str
        The display name of each column of ``X``.
    n_top : int
    budget : int
        Most numbers held at once (rows x centres x features): memory stays
        bounded for any number of rows.

    Returns
    -------
    DataFrame
        Columns ``top_driver_1`` .. ``top_driver_<n_top>`` (text), the largest
        positive term first; empty (None) where fewer variables pull towards the
        segment than ``n_top`` (a variable with a term of zero or less pulls away).
    """
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels, dtype=np.intp)
    names = np.asarray(list(names), dtype=object)
    n_top = min(n_top, len(names))
    out = np.full((len(X), n_top), None, dtype=object)
    step = max(1, budget // max(1, np.asarray(centers).size))
    for start in range(0, len(X), step):
        rows = slice(start, start + step)
        terms, _ = gap_terms(X[rows], centers, labels[rows])
        # stable on ties: the earlier variable first, whatever the platform
        order = np.argsort(-terms, axis=1, kind="stable")[:, :n_top]
        top = np.take_along_axis(terms, order, axis=1)
        out[rows] = np.where(top > 0, names[order], None)
    return pd.DataFrame(out, columns=[f"top_driver_{i}" for i in range(1, n_top + 1)],
                        dtype=object)


def customer_drivers(fm: FeatureMatrix, labels: Sequence[int], centers: np.ndarray,
                     strata=None) -> dict[str, np.ndarray]:
    """Each customer's drivers (:func:`top_drivers`) named by the variables' labels.

    With ``strata`` (a fitted :class:`segmentation.cluster.strata.Strata`) the centres
    are each in their own stratum's space, so each stratum's customers are compared
    there, and only with the other segments of their stratum: those are the segments
    they could have been in. A stratum of one segment has no other segment, so its
    customers' drivers are empty, as are those of rows labelled -1 (no segment).

    Returns
    -------
    dict
        ``{column: values}`` for the columns of :data:`TOP_DRIVER_COLUMNS`, aligned
        with the rows of ``fm`` (as the assignments writer's ``extra`` takes them).
    """
    names = [fm.variables[f].label if f in fm.variables else f for f in fm.features]
    if strata is None:
        table = top_drivers(fm.X, centers, labels, names)
    else:
        table = _drivers_within_strata(fm.X, np.asarray(labels, dtype=np.intp),
                                       np.asarray(centers, dtype=float), strata,
                                       fm.preparation.weights, names)
    return {column: table[column].to_numpy(dtype=object) for column in table.columns}


def _drivers_within_strata(X: np.ndarray, labels: np.ndarray, centers: np.ndarray, strata,
                           weights, names: Sequence[str]) -> pd.DataFrame:
    columns = [f"top_driver_{i}" for i in range(1, min(N_TOP_DRIVERS, len(names)) + 1)]
    out = pd.DataFrame(None, index=range(len(X)), columns=columns, dtype=object)
    segment_strata = np.asarray(strata.segments, dtype=np.intp)
    for s in np.unique(segment_strata):
        own = np.flatnonzero(segment_strata == s)
        rows = np.flatnonzero(np.isin(labels, own))
        if own.size < 2 or rows.size == 0:
            continue
        Xs = to_stratum(X[rows], strata.shift[s], strata.spread[s], weights)
        local = np.searchsorted(own, labels[rows])
        out.iloc[rows] = top_drivers(Xs, centers[own], local, names).to_numpy()
    return out
