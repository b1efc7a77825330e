"""What the history says: each persona's size, share, averages and stability over the runs,
the migration between any two runs, and alerts when the personas drift.

Alerts compare each run with the one recorded before it:

- ``share``: a persona present in both whose share of customers moved by more than
  ``share_threshold`` (default :data:`~segmentation.config.SHARE_ALERT`);
- ``psi``: a population stability index of the persona shares above
  :data:`~segmentation.config.PSI_SIGNIFICANT` (0.25, a significant shift);
- ``vanished`` / ``appeared``: a persona with no segment in the new run, or a new one;
- ``stability``: a persona's bootstrap stability, or the run's split-half agreement, that
  fell below :data:`~segmentation.config.STABILITY_ALERT` (0.75) from at or above it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import (
    HISTORY_MONEY_KINDS,
    HISTORY_OUTCOME_KINDS,
    PSI_SIGNIFICANT,
    SHARE_ALERT,
    STABILITY_ALERT,
)
from segmentation.errors import SegmentationError
from segmentation.history.store import History, run_assignments
from segmentation.validate.migration import _psi, compare_assignments

ALERT_COLUMNS = ["run_id", "previous_run_id", "kind", "persona", "value", "message"]
_TREND_COLUMNS = ["run_id", "created", "line", "persona", "name", "segment", "size", "share",
                  "stability"]


def _when(history: History) -> pd.Series:
    return history.runs.set_index("run_id")["created"]


def find_line(history: History, persona: str) -> int:
    """The line of a persona given by any name it had in any run (any case), or by number.

    Raises
    ------
    SegmentationError
        If no run of the history had a persona of that name, or the name is ambiguous.
    """
    text = str(persona).strip()
    if text.isdigit() and int(text) in set(history.personas["line"].astype(int)):
        return int(text)
    hits = history.personas.loc[history.personas["name"].str.casefold() == text.casefold(),
                                "line"].astype(int).unique()
    if len(hits) == 1:
        return int(hits[0])
    known = ", ".join(repr(n) for n in history.lines.values()) or "none recorded yet"
    if len(hits) > 1:
        raise SegmentationError(
            f"Several personas of the history were called {text!r}: give the line number "
            f"instead (see 'history list'; lines: {sorted(int(h) for h in hits)}).")
    raise SegmentationError(f"No persona of the history is called {text!r}: use one of {known}.")


def persona_trend(history: History, line: int | None = None) -> pd.DataFrame:
    """Size, share and stability of every persona (or of one line) in every run, tidy.

    Returns
    -------
    DataFrame
        ``run_id``, ``created``, ``line``, ``persona`` (the line's latest name), ``name``
        (its name in that run), ``segment``, ``size``, ``share``, ``stability``; oldest run
        first.
    """
    frame = history.personas if line is None else \
        history.personas[history.personas["line"] == line]
    return frame.assign(created=frame["run_id"].map(_when(history)))[_TREND_COLUMNS] \
        .reset_index(drop=True)


def means_trend(history: History, line: int | None = None) -> pd.DataFrame:
    """Money and outcome averages of every persona (or one line) in every run, tidy.

    Returns
    -------
    DataFrame
        ``run_id``, ``created``, ``line``, ``persona``, ``variable``, ``label``, ``kind``,
        ``group`` (``money`` or ``outcome``), ``mean``.
    """
    frame = history.means if line is None else history.means[history.means["line"] == line]
    group = np.where(frame["kind"].isin(HISTORY_MONEY_KINDS), "money",
                     np.where(frame["kind"].isin(HISTORY_OUTCOME_KINDS), "outcome", "other"))
    return frame.assign(created=frame["run_id"].map(_when(history)), group=group)[
        ["run_id", "created", "line", "persona", "variable", "label", "kind", "group", "mean"]
    ].reset_index(drop=True)


def run_trend(history: History) -> pd.DataFrame:
    """One row per run: ``run_id``, ``created``, ``data_name``, ``k``, ``customers``,
    ``silhouette``, ``stability`` (split-half agreement at K), ``source``."""
    return history.runs[["run_id", "created", "data_name", "k", "customers", "silhouette",
                         "stability", "source"]].reset_index(drop=True)


def _population_stability(old_shares, new_shares) -> float:
    """Population stability index between two share vectors over the same personas.

    ``sum((new - old) * ln(new / old))``, a share of 0 counted as 1e-4 (see
    :mod:`segmentation.validate.migration`).

    Examples
    --------
    >>> round(_population_stability([0.5, 0.5], [0.25, 0.75]), 4)
    0.2747
    """
    return _psi(old_shares, new_shares)


def _shares(history: History, run_id: int) -> pd.Series:
    rows = history.personas[history.personas["run_id"] == run_id]
    return rows.groupby("line")["share"].sum()


def _stability(history: History, run_id: int) -> float:
    value = history.runs.loc[history.runs["run_id"] == run_id, "stability"]
    return float(value.iloc[0]) if len(value) and pd.notna(value.iloc[0]) else math.nan


def _fell(before: float, now: float, floor: float) -> bool:
    return np.isfinite(now) and now < floor and not (np.isfinite(before) and before < floor)


def alerts(history: History, share_threshold: float = SHARE_ALERT,
           psi_threshold: float = PSI_SIGNIFICANT,
           stability_floor: float = STABILITY_ALERT) -> pd.DataFrame:
    """Every alert between consecutive runs of the history (see the module notes).

    Parameters
    ----------
    history : History
    share_threshold : float
        Largest move of a persona's share (a fraction: 0.05 is 5 points) not flagged.
    psi_threshold : float
    stability_floor : float

    Returns
    -------
    DataFrame
        ``run_id``, ``previous_run_id``, ``kind`` (``share``, ``psi``, ``vanished``,
        ``appeared``, ``stability``), ``persona`` (empty for a run-wide alert), ``value``
        and ``message``; oldest run first.
    """
    if not 0 < share_threshold < 1:
        raise SegmentationError(f"The share alert {share_threshold!r} is not valid: give a "
                                "fraction between 0 and 1, e.g. 0.05 for 5 points.")
    names = history.lines
    runs = history.runs["run_id"].astype(int).tolist()
    rows = []
    for before, now in zip(runs, runs[1:], strict=False):
        rows += _pair_alerts(history, before, now, names, share_threshold, psi_threshold,
                             stability_floor)
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def _pair_alerts(history, before, now, names, share_threshold, psi_threshold, floor):
    old, new = _shares(history, before), _shares(history, now)
    out = []

    def alert(kind, line, value, message):
        out.append({"run_id": now, "previous_run_id": before, "kind": kind,
                    "persona": "" if line is None else names[int(line)], "value": value,
                    "message": f"Run {now} against run {before}: {message}."})

    for line in old.index.difference(new.index):
        alert("vanished", line, float(old[line]),
              f"{names[int(line)]!r} vanished (it held {old[line]:.1%} of customers)")
    for line in new.index.difference(old.index):
        alert("appeared", line, float(new[line]),
              f"{names[int(line)]!r} is new, with {new[line]:.1%} of customers")
    for line in old.index.intersection(new.index):
        change = float(new[line] - old[line])
        if abs(change) > share_threshold:
            alert("share", line, change,
                  f"{names[int(line)]!r} {'grew' if change > 0 else 'shrank'} from "
                  f"{old[line]:.1%} to {new[line]:.1%} of customers")
    lines = old.index.union(new.index)
    index = _population_stability(old.reindex(lines, fill_value=0.0),
                                 new.reindex(lines, fill_value=0.0))
    if index > psi_threshold:
        alert("psi", None, index, f"the persona shares shifted significantly (PSI "
                                  f"{index:.2f}, over {psi_threshold:g})")
    run_before, run_now = _stability(history, before), _stability(history, now)
    if _fell(run_before, run_now, floor):
        alert("stability", None, run_now, f"the split-half agreement fell to {run_now:.2f}, "
                                          f"under {floor:g}")
    stab = history.personas.set_index(["run_id", "line"])["stability"]
    for line in old.index.intersection(new.index):
        then, later = float(stab.get((before, line), math.nan)), \
            float(stab.get((now, line), math.nan))
        if _fell(then, later, floor):
            alert("stability", line, later, f"the stability of {names[int(line)]!r} fell to "
                                            f"{later:.2f}, under {floor:g}")
    return out


def migration_between(history: History, old_run: int, new_run: int):
    """How the customers of two recorded runs moved between personas.

    Each persona is named by its line's latest name on both sides, so a renamed persona is
    one row and one column; :func:`segmentation.validate.migration.compare_assignments` does
    the rest.

    Returns
    -------
    Migration
        As :func:`~segmentation.validate.migration.compare_assignments` returns it.

    Raises
    ------
    SegmentationError
        If either run is not in the history.
    """
    frames = []
    for run_id in (old_run, new_run):
        rows = history.personas[history.personas["run_id"] == int(run_id)]
        if rows.empty:
            raise SegmentationError(
                f"Run {run_id} is not in the history: see 'python -m segmentation history "
                "list' for the recorded runs.")
        names = dict(zip(rows["segment"].astype(int), rows["persona"], strict=True))
        assigned = run_assignments(Path(history.path), int(run_id))
        frames.append(assigned.assign(persona=assigned["segment"].map(names)))
    return compare_assignments(*frames)
