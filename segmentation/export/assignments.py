"""The customer → segment file: one schema for ``run``, ``score``, ``predict`` and the app.

Every data line of the input is one row, in the file's line order, so a CRM
import can be checked line by line against its source:

========== ==============================================================
column     meaning
========== ==============================================================
customer   ``customer_id``: text, leading zeros kept; empty for a line
           without an id or a malformed line
segment    the segment number; empty for an excluded line
persona    the persona name; empty for an excluded line
status     ``"segmented"`` or ``"excluded"``
reason     empty when segmented, else why the line was left out
line       the line of the input file (the header is line 1; for Excel
           and Parquet, the table row), empty on a summary row
========== ==============================================================

After these come what the command adds: ``distance`` (to the segment
centre) for ``run`` and ``score``, ``silhouette`` for ``run``, then for
``run`` and ``score`` ``top_driver_1`` and ``top_driver_2``: the labels of the
two variables that most pull the customer to their segment rather than the
next nearest (see :mod:`segmentation.describe.contributions`; empty for a line
without a segment),
``probability`` for ``predict``, the RFM scores of an order log and the
lifetime figures when they were fitted.

The lines come from the dataset's own record of where every input line went
(:attr:`segmentation.data.dataset.Dataset.customer_lines` and ``excluded_lines``).
A dataset without that record lists its customers in dataset order with no
line number, and one final row per reason with more lines than could be
listed says ``"N more row(s) not listed: <reason>"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.cluster.rfm import rfm_of
from segmentation.data.dataset import REASON_DUPLICATE_ID, REASON_MALFORMED, Dataset
from segmentation.describe.contributions import customer_drivers
from segmentation.errors import SegmentationError

if TYPE_CHECKING:
    from segmentation.describe.personas import Persona
    from segmentation.pipeline import SegmentationResult
    from segmentation.plan.lifetime import Lifetime

ASSIGNMENT_COLUMNS = ("customer_id", "segment", "persona", "status", "reason", "line")
STATUS_SEGMENTED = "segmented"
STATUS_EXCLUDED = "excluded"
REASON_NOT_SEGMENTED = "not segmented"
# Added for an order log: recency, frequency and monetary scores (1-5), the code, the grid cell.
RFM_COLUMNS = ("r", "f", "m", "rfm", "rfm_cell")
# Added when lifetime figures are given (see segmentation.plan.lifetime.Lifetime.per_customer).
LIFETIME_COLUMNS = ("expected_orders_12m", "p_alive", "expected_order_value",
                    "expected_value_12m")
# Above this many rows the assignments are offered as CSV only: XlsxWriter takes up to about
# ten seconds for 100,000 rows on a busy two-core server (benchmarks/bench_export.py), so a
# million would keep a workshop waiting minutes, close to Excel's limit of 1,048,576 rows.
XLSX_MAX_ROWS = 100_000


def customer_assignments(result: SegmentationResult,
                         personas: tuple[Persona, ...] | None = None,
                         lifetime: Lifetime | None = None) -> pd.DataFrame:
    """One row per data line of the upload: its customer, segment and persona, or why not.

    The schema of :mod:`segmentation.export.assignments` (the same file ``run``
    writes), with ``distance`` (to the segment centre, in the scaled
    clustering space), ``silhouette`` (the customer's own; missing where
    it was not computed, e.g. outside the sample on large files),
    ``top_driver_1`` and ``top_driver_2`` (see
    :func:`segmentation.describe.contributions.customer_drivers`); for an
    order log also ``r``, ``f``, ``m`` (scores 1-5), ``rfm`` (the code, e.g.
    ``"545"``) and ``rfm_cell`` (see :mod:`segmentation.cluster.rfm`); with
    ``lifetime`` also ``expected_orders_12m``, ``p_alive``,
    ``expected_order_value`` and ``expected_value_12m`` (missing for a row
    without an id or a customer without an order in the history).

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona, optional
        The personas with the user's edits (see
        :func:`segmentation.describe.personas.apply_edits`); default ``result.personas``.
    lifetime : Lifetime, optional
        Lifetime figures of an order log's customers
        (:func:`segmentation.plan.lifetime.lifetime_of`).
    """
    personas = checked_personas(result, personas)
    seg = result.segmentation
    ids = seg.customer_ids
    frame = assignment_table(
        result.dataset, ids, seg.labels, {p.segment: p.name for p in personas},
        excluded=result.features.report.excluded_ids, dropped=result.features.report.dropped,
        extra={"distance": np.asarray(seg.distances, dtype=float),
               "silhouette": np.asarray(seg.silhouette_values, dtype=float),
               **customer_drivers(result.features, seg.labels, seg.centers,
                                  result.strata.strata if result.strata else None),
               **_stratum_column(result)})
    frame = _with_rfm(frame, rfm_of(result), ids)
    return _with_lifetime(frame, lifetime.per_customer if lifetime is not None else None)


def _stratum_column(result: SegmentationResult) -> dict[str, list[str]]:
    """``{"stratum": each customer's stratum label}`` for segments found within strata."""
    if result.strata is None:
        return {}
    strata = result.strata.strata
    return {"stratum": [strata.labels[strata.segments[s]] for s in result.segmentation.labels]}


def xlsx_refusal(n_rows: int, limit: int | None = None) -> str | None:
    """Why a file of ``n_rows`` rows is offered as CSV only, or None when Excel is offered.

    ``limit`` defaults to :data:`XLSX_MAX_ROWS`, read when called.

    >>> xlsx_refusal(10) is None
    True
    >>> xlsx_refusal(250_000)
    'With 250,000 rows an Excel file would be slow to build and near the most rows Excel holds, so the assignments are offered as CSV, which any spreadsheet opens.'
    """
    if n_rows <= (XLSX_MAX_ROWS if limit is None else limit):
        return None
    return (f"With {n_rows:,} rows an Excel file would be slow to build and near the most rows "
            "Excel holds, so the assignments are offered as CSV, which any spreadsheet opens.")


def checked_personas(result: SegmentationResult,
                      personas: tuple[Persona, ...] | None) -> tuple[Persona, ...]:
    """The personas in segment order, one per segment of this result."""
    personas = tuple(result.personas if personas is None else personas)
    segments = sorted(p.segment for p in personas)
    if segments != list(range(result.segmentation.n_clusters)):
        raise SegmentationError(
            f"The personas name segments {segments} but this run has "
            f"{result.segmentation.n_clusters} segments: pass the personas of this run."
        )
    return tuple(sorted(personas, key=lambda p: p.segment))


def assignment_table(dataset: Dataset, customer_ids: Sequence,
                     segments: Sequence[int], names: Mapping[int, str],
                     excluded: Mapping[str, str] | None = None,
                     dropped: Mapping[str, int] | None = None,
                     extra: Mapping[str, Sequence] | None = None) -> pd.DataFrame:
    """Every data line of the input with its segment, or why it has none.

    Parameters
    ----------
    dataset : Dataset
        With its record of the input line of each customer and of each line left out.
    customer_ids, segments : sequences
        The customers that got a segment, and their segments.
    names : mapping
        ``{segment: persona name}``.
    excluded : mapping, optional
        ``{customer id: reason}`` for customers of ``dataset`` left out later
        (e.g. by the missing-value or implausible-value policy).
    dropped : mapping, optional
        ``{reason: count}`` of every row the command did not assign; a count
        no listed row accounts for gets a summary row, so nothing goes unsaid.
    extra : mapping, optional
        ``{column: values}`` aligned with ``customer_ids`` (e.g. distances);
        excluded lines get a missing value.

    Returns
    -------
    DataFrame
        The columns of :data:`ASSIGNMENT_COLUMNS`, then those of ``extra``.

    Examples
    --------
    >>> from segmentation.data.customer_file import read_table
    >>> from segmentation.data.dataset import load_dataset
    >>> raw = read_table(b"id,spend\\n7,10\\n7,12\\n,5\\n8,30\\n")
    >>> table = assignment_table(load_dataset(raw), ["7", "8"], [0, 1], {0: "A", 1: "B"})
    >>> table[["customer_id", "segment", "status", "line"]].to_numpy().tolist()
    [['7', 0, 'segmented', 2], ['7', <NA>, 'excluded', 3], [None, <NA>, 'excluded', 4], ['8', 1, 'segmented', 5]]
    """
    ids = pd.Index(customer_ids, dtype=object)  # the dataset's own strings, not copies
    if pd.api.types.infer_dtype(ids, skipna=False) != "string":
        ids = pd.Index([str(c) for c in ids], dtype=object)
    segments = np.asarray(segments, dtype=np.int64)
    if len(ids) != len(segments):
        raise SegmentationError("Each assigned customer needs one segment: the lengths differ.")
    rows = _rows_from_lines(dataset) or _rows_from_dataset(dataset)
    order = np.argsort(rows["key"], kind="stable")
    line, cid, reason = (rows[c][order] for c in ("line", "customer_id", "reason"))

    # Vectorised: at a million lines, a row-by-row build held several hundred MB of tuples.
    open_ = pd.isna(reason)
    at = _positions(cid, open_, ids, excluded or {})
    assigned = at >= 0
    unmatched = open_ & ~assigned
    if unmatched.any():
        reason = reason.copy()
        reason[unmatched] = (pd.Series(cid[unmatched], dtype=object).map(dict(excluded or {}))
                             .fillna(REASON_NOT_SEGMENTED).to_numpy(dtype=object))
    listed = pd.Series(reason[~assigned], dtype=object).value_counts()
    summary = [f"{int(count) - int(listed.get(why, 0))} more row(s) not listed: {why}"
               for why, count in (dropped or {}).items() if int(count) > int(listed.get(why, 0))]

    code = np.where(assigned, segments[np.maximum(at, 0)], 0)
    segment = pd.array(code, dtype="Int64")
    segment[~assigned] = pd.NA
    known = np.unique(segments)
    labels = np.array([names.get(int(k), f"Segment {k}") for k in known], dtype=object)
    persona = np.full(len(code), None, dtype=object)
    persona[assigned] = labels[np.searchsorted(known, code[assigned])]
    n_more = len(summary)
    # Object arrays filled with one shared string each: numpy's own text arrays would make
    # a string object per row on the way into pandas.
    status = np.full(len(cid) + n_more, STATUS_EXCLUDED, dtype=object)
    status[:len(cid)][assigned] = STATUS_SEGMENTED
    reason = np.where(assigned, None, reason)
    frame = pd.DataFrame({
        "customer_id": pd.Series(np.concatenate([cid, np.full(n_more, None, dtype=object)]),
                                 dtype=object),
        "segment": pd.concat([pd.Series(segment), pd.Series([pd.NA] * n_more, dtype="Int64")],
                             ignore_index=True),
        "persona": pd.Series(np.concatenate([persona, np.full(n_more, None, dtype=object)]),
                             dtype=object),
        "status": pd.Series(status, dtype=object),
        "reason": pd.Series(np.concatenate([reason, np.array(summary, dtype=object)]),
                            dtype=object),
        "line": pd.concat([pd.Series(line, dtype="Int64"),
                           pd.Series([pd.NA] * n_more, dtype="Int64")], ignore_index=True),
    })
    at = np.concatenate([at, np.full(n_more, -1)])
    return frame.assign(**{name: _aligned(np.asarray(values), at)
                           for name, values in (extra or {}).items()})


def _positions(cid: np.ndarray, open_: np.ndarray, ids: pd.Index,
               excluded: Mapping[str, str]) -> np.ndarray:
    """Each row's position among the assigned customers, -1 for none.

    The assigned customers are the open lines in their order less those excluded later,
    which is checked and then costs no hash table over a million ids; anything else is
    matched by id.
    """
    rows = np.flatnonzero(open_)
    kept = rows[~pd.Index(cid[rows], dtype=object).isin(list(excluded))] if excluded else rows
    at = np.full(len(cid), -1, dtype=np.int64)
    if len(kept) == len(ids) and np.array_equal(cid[kept], ids.to_numpy(dtype=object)):
        at[kept] = np.arange(len(ids))
        return at
    return np.where(open_, ids.get_indexer(cid), -1)


def account(table: pd.DataFrame) -> str:
    """One line accounting for every row of an assignments table, for the command line.

    >>> account(pd.DataFrame({"status": ["segmented", "excluded"],
    ...                       "reason": [None, "missing customer id"]}))
    '2 lines: 1 segmented, 1 excluded (1 missing customer id).'
    """
    segmented = int(table["status"].eq(STATUS_SEGMENTED).sum())
    reasons = table.loc[table["status"].ne(STATUS_SEGMENTED), "reason"].value_counts(sort=False)
    text = f"{len(table):,} lines: {segmented:,} segmented, {len(table) - segmented:,} excluded"
    if len(reasons):
        text += " (" + "; ".join(f"{n:,} {why}" for why, n in reasons.items()) + ")"
    return text + "."


def _aligned(values: np.ndarray, at: np.ndarray) -> pd.Series:
    """``values`` (one per assigned customer) spread over the rows; -1 marks a row without."""
    if values.dtype.kind in "fiub":
        out = values.astype(float)[np.maximum(at, 0)] if len(values) else np.full(len(at), np.nan)
        return pd.Series(np.where(at >= 0, out, np.nan), dtype=float)
    out = values[np.maximum(at, 0)] if len(values) else np.full(len(at), None, dtype=object)
    return pd.Series(np.where(at >= 0, out, None), dtype=object)


def _with_rfm(frame: pd.DataFrame, rfm: pd.DataFrame | None, customer_ids: Sequence) -> pd.DataFrame:
    """An order log's customers also get their R, F, M scores, RFM code and grid cell
    (``rfm`` rows align with ``customer_ids``; rows not segmented have none)."""
    if rfm is None:
        return frame
    rows = rfm.reset_index(drop=True).set_axis(pd.Index([str(c) for c in customer_ids],
                                                         dtype=object))
    segmented = frame["status"].eq(STATUS_SEGMENTED).to_numpy()
    keys = pd.Index(frame["customer_id"].where(segmented, None), dtype=object)
    picked = rows.reindex(keys)
    return frame.assign(**{
        column: pd.Series(picked[column].to_numpy(), dtype="Int64" if column in ("r", "f", "m")
                          else object)
        for column in RFM_COLUMNS})


def _with_lifetime(frame: pd.DataFrame, per_customer: pd.DataFrame | None) -> pd.DataFrame:
    """Each row's lifetime figures, matched on its customer id (none for a row without one)."""
    if per_customer is None:
        return frame
    figures = per_customer.reindex(columns=list(LIFETIME_COLUMNS))
    figures = figures.set_axis(pd.Index(figures.index.map(str), dtype=object))
    rows = figures.reindex(pd.Index(frame["customer_id"], dtype=object))
    return frame.assign(**{column: rows[column].to_numpy(dtype=float)
                           for column in LIFETIME_COLUMNS})


def _rows_from_lines(ds: Dataset) -> dict[str, np.ndarray] | None:
    """Every data line from the dataset's own record of where each line went."""
    if ds.customer_lines is None or len(ds.customer_lines) != len(ds.frame):
        return None
    left = ds.excluded_lines
    lines = np.concatenate([ds.customer_lines, np.array([r[0] for r in left], dtype=np.int64)])
    return {"key": lines, "line": lines,
            "customer_id": np.concatenate([ds.frame.index.to_numpy(dtype=object),
                                           np.array([r[1] for r in left], dtype=object)]),
            "reason": np.concatenate([np.full(len(ds.frame), None, dtype=object),
                                      np.array([r[2] for r in left], dtype=object)])}


def _none(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _rows_from_dataset(ds: Dataset) -> dict[str, np.ndarray]:
    """What can be listed without a line record; the order key keeps the groups apart."""
    kept = ds.frame.index.astype(str).to_numpy(dtype=object)
    dup = np.asarray(ds.duplicate_ids, dtype=object)
    bad = np.asarray(ds.malformed_lines, dtype=np.int64)
    return {
        "key": np.concatenate([np.zeros(len(kept)), np.ones(len(dup)), np.full(len(bad), 2)]),
        "line": np.concatenate([_none(len(kept) + len(dup)), bad.astype(object)]),
        "customer_id": np.concatenate([kept, dup, _none(len(bad))]),
        "reason": np.concatenate([_none(len(kept)), np.full(len(dup), REASON_DUPLICATE_ID,
                                                           dtype=object),
                                  np.full(len(bad), REASON_MALFORMED, dtype=object)]),
    }
