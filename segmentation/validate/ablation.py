"""Variable ablation: refit without each clustering variable and see what changes.

The test of a clustering variable: run the clustering with and without it; if the
segments and their profiles do not change, it adds nothing but noise and weight, and can
be dropped. :func:`ablate` does that for every variable of a run at the run's K, seed
and number of restarts; for segments found within strata, within each stratum as the run
did, so the only difference is the variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from segmentation.cluster.kmeans import Segmentation, _fit_kmeans
from segmentation.cluster.methods import METHOD_LABELS
from segmentation.cluster.strata import StrataFit, _stratum_space
from segmentation.config import ABLATION_SAME_ARI, DEFAULT_METHOD
from segmentation.errors import SegmentationError
from segmentation.prepare.features import FeatureMatrix
from segmentation.summary import Summary

__all__ = ["ABLATION_COLUMNS", "Ablation", "ablate", "profile_change"]

ABLATION_COLUMNS = ("variable", "label", "ari", "profile_change", "droppable")


@dataclass(frozen=True)
class Ablation:
    """Each clustering variable left out in turn, and how much the segments moved.

    Attributes
    ----------
    table : DataFrame
        One row per clustering variable (a category's levels count as one): ``variable``,
        ``label``, ``ari`` (adjusted Rand index between the segments with and without it;
        within each stratum, weighted by its customers, for segments found within strata),
        ``profile_change`` (mean absolute change of the standardised segment means of the
        other variables, segments matched by overlap) and ``droppable`` (``ari`` at least
        ``ABLATION_SAME_ARI``). Sorted by ``ari``, largest (least needed) first.
    n_clusters : int
    suggestion : str or None
        One sentence naming the variables that change nothing, or None.
    """

    table: pd.DataFrame
    n_clusters: int
    suggestion: str | None

    def summary(self) -> Summary:
        """The table, with the suggestion (or that every variable matters) as the verdict."""
        verdict = self.suggestion or (
            f"Every clustering variable changes the segments when left out (agreement under "
            f"{ABLATION_SAME_ARI:.2f} with all variables).")
        return Summary(title=f"Each clustering variable left out, at K = {self.n_clusters}",
                       verdict=verdict, table=self.table)


def ablate(fm: FeatureMatrix, seg: Segmentation, strata: StrataFit | None = None,
           method: str = DEFAULT_METHOD) -> Ablation:
    """Refit the segmentation once without each clustering variable.

    Each refit uses the segmentation's K, seed and number of restarts on the prepared
    matrix minus that variable's columns, so the only difference is the variable. With
    ``strata``, each stratum is refitted on its own, with its own K, in its own space (as
    :func:`segmentation.cluster.strata.segment_within_strata` found it), and the strata's
    labels are put together in the run's numbering: one k-means over the whole file would
    be compared with segments it never tried to find. Their agreement is then measured
    within each stratum and averaged weighted by its customers, as
    :func:`segmentation.cluster.strata.strata_split_half` does: the strata are the same
    with and without the variable, and counting them would raise every figure (a variable
    carrying all of the planted groups scored 0.40 over the whole file, 0.05 within strata).

    Parameters
    ----------
    fm : FeatureMatrix
        The prepared run (a strata run's ``strata.features``).
    seg : Segmentation
        Its segmentation (``segment(fm, ...)``, or ``strata.segmentation``).
    strata : StrataFit, optional
        How the segments were found within strata, when they were (the result's
        ``strata``).
    method : str
        The run's clustering method. The refits are k-means, so another method's
        segments are refused rather than compared with segments k-means never found.

    Returns
    -------
    Ablation

    Raises
    ------
    SegmentationError
        With a single clustering variable: nothing is left to cluster on without it; or
        for a method other than k-means.
    """
    if method != DEFAULT_METHOD:
        raise SegmentationError(
            f"Leaving out each variable is measured with k-means refits, and these segments "
            f"were found with {METHOD_LABELS.get(method, method)}: switch the method to "
            "k-means to see which variables matter.")
    units = _units(fm)
    if len(units) < 2:
        raise SegmentationError(
            "The segmentation uses a single clustering variable: leaving it out leaves "
            "nothing to cluster on, so choose at least two variables to compare."
        )
    rows = []
    for name, (label, columns) in units.items():
        keep = np.setdiff1d(np.arange(fm.X.shape[1]), columns)
        X = fm.X[:, keep]
        if strata is None:
            labels = _fit_kmeans(X, seg.n_clusters, seg.random_state, seg.n_init)[0]
            ari = adjusted_rand_score(seg.labels, labels)
        else:
            labels = _refit_within_strata(strata, keep)
            ari = _agreement_within_strata(strata, labels)
        rows.append({"variable": name, "label": label, "ari": float(ari),
                     "profile_change": profile_change(X, seg.labels, labels)})
    table = pd.DataFrame(rows, columns=list(ABLATION_COLUMNS[:-1]))
    table["droppable"] = table["ari"] >= ABLATION_SAME_ARI
    table = table.sort_values("ari", ascending=False, kind="stable").reset_index(drop=True)
    return Ablation(table=table, n_clusters=seg.n_clusters, suggestion=_suggestion(table))


def _refit_within_strata(fit: StrataFit, keep) -> np.ndarray:
    """Segments found again within each stratum of ``fit`` on the columns ``keep`` only.

    Each stratum's customers, in the stratum's own space, are clustered with the stratum's
    K, the run's seed and restarts; a one-segment stratum stays one segment. Labels are in
    the run's numbering range (stratum after stratum), so that with every column kept they
    are the run's labels up to the order of segments within a stratum.
    """
    seg = fit.segmentation
    labels = np.empty(seg.labels.size, dtype=np.intp)
    for f in fit.fits:
        rows, X = _stratum_space(fit, f)
        local = (np.zeros(rows.size, dtype=np.intp) if f.n_clusters == 1 else
                 _fit_kmeans(X[:, keep], f.n_clusters, seg.random_state, seg.n_init)[0])
        labels[rows] = f.first_segment + local
    return labels


def _agreement_within_strata(fit: StrataFit, labels: np.ndarray) -> float:
    """Adjusted Rand index of ``labels`` with the run's, within each clustered stratum,
    weighted by its customers; one-segment strata agree by construction and are left out."""
    values, weights = [], []
    for f in (f for f in fit.fits if f.n_clusters > 1):
        rows, _ = _stratum_space(fit, f)
        values.append(adjusted_rand_score(fit.segmentation.labels[rows], labels[rows]))
        weights.append(rows.size)
    return float(np.average(values, weights=weights)) if values else 1.0


def profile_change(X: np.ndarray, before, after) -> float:
    """Mean absolute change of the standardised segment means of ``X`` between two solutions.

    Each column of ``X`` is standardised (mean 0, sd 1 over all customers); the segments of
    ``after`` are matched one to one to those of ``before`` by the most customers shared
    (Hungarian assignment); the result is the mean over matched segments and columns of the
    absolute difference of their means. 0 means the same profiles.

    Examples
    --------
    >>> X = np.array([[0.0], [0.0], [1.0], [1.0]])
    >>> profile_change(X, [0, 0, 1, 1], [1, 1, 0, 0])
    0.0
    """
    X = np.asarray(X, dtype=float)
    before, after = np.asarray(before), np.asarray(after)
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    a_values, a = np.unique(before, return_inverse=True)
    b_values, b = np.unique(after, return_inverse=True)
    shared = np.zeros((len(a_values), len(b_values)))
    np.add.at(shared, (a, b), 1)
    rows, cols = linear_sum_assignment(-shared)

    def means(codes, k):
        sums = np.zeros((k, Z.shape[1]))
        np.add.at(sums, codes, Z)
        return sums / np.bincount(codes, minlength=k)[:, None]

    return float(np.abs(means(a, len(a_values))[rows] - means(b, len(b_values))[cols]).mean())


def _units(fm: FeatureMatrix) -> dict[str, tuple[str, list[int]]]:
    """``{variable: (label, column indices of X)}``; a category's levels are one variable."""
    out: dict[str, tuple[str, list[int]]] = {}
    for i, feature in enumerate(fm.features):
        var = fm.variables.get(feature)
        name = var.sources[0] if var is not None and var.kind == "level" else feature
        parent = fm.variables.get(name)
        label = parent.label if parent is not None else feature
        out.setdefault(name, (label, []))[1].append(i)
    return out


def _suggestion(table: pd.DataFrame) -> str | None:
    same = table[table["droppable"]]
    if same.empty:
        return None
    names = [f"{r.label} ({r.ari:.2f})" for r in same.itertuples()]
    if len(names) == 1:
        return (f"Leaving out {names[0]} barely changes the segments (agreement with all "
                f"variables at least {ABLATION_SAME_ARI:.2f}): consider dropping it.")
    # Each was left out alone: together they may still carry the segments, so the advice
    # is one at a time, starting with the one that changes least.
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return (f"Left out one at a time, {listed} each barely change the segments (agreement "
            f"with all variables at least {ABLATION_SAME_ARI:.2f}): consider dropping "
            f"{same['label'].iloc[0]} first and checking again, since each may only repeat "
            "what the others say.")
