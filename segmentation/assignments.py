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
centre) for ``run`` and ``score``, ``silhouette`` for ``run``,
``probability`` for ``predict``, the RFM scores of an order log and the
lifetime figures when they were fitted.

Should a result's raw table not be the one its dataset was loaded from, the
lines cannot be matched: segmented and excluded customers come in dataset
order with no line number, and one final row per reason with more lines than
could be listed says ``"N more row(s) not listed: <reason>"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .dataset import REASON_DUPLICATE_ID, REASON_MALFORMED, REASON_MISSING_ID, Dataset, id_text
from .errors import SegmentationError
from .io import RawTable
from .rfm import rfm_of

if TYPE_CHECKING:
    from .lifetime import Lifetime
    from .personas import Persona
    from .pipeline import SegmentationResult

ASSIGNMENT_COLUMNS = ("customer_id", "segment", "persona", "status", "reason", "line")
STATUS_SEGMENTED = "segmented"
STATUS_EXCLUDED = "excluded"
REASON_NOT_SEGMENTED = "not segmented"
# Added for an order log: recency, frequency and monetary scores (1-5), the code, the grid cell.
RFM_COLUMNS = ("r", "f", "m", "rfm", "rfm_cell")
# Added when lifetime figures are given (see segmentation.lifetime.Lifetime.per_customer).
LIFETIME_COLUMNS = ("expected_orders_12m", "p_alive", "expected_order_value",
                    "expected_value_12m")


def customer_assignments(result: SegmentationResult,
                         personas: tuple[Persona, ...] | None = None,
                         lifetime: Lifetime | None = None) -> pd.DataFrame:
    """One row per data line of the upload: its customer, segment and persona, or why not.

    The schema of :mod:`segmentation.assignments` (the same file ``run``
    writes), with ``distance`` (to the segment centre, in the scaled
    clustering space) and ``silhouette`` (the customer's own; missing where
    it was not computed, e.g. outside the sample on large files); for an
    order log also ``r``, ``f``, ``m`` (scores 1-5), ``rfm`` (the code, e.g.
    ``"545"``) and ``rfm_cell`` (see :mod:`segmentation.rfm`); with
    ``lifetime`` also ``expected_orders_12m``, ``p_alive``,
    ``expected_order_value`` and ``expected_value_12m`` (missing for a row
    without an id or a customer without an order in the history).

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona, optional
        The personas with the user's edits (see
        :func:`segmentation.personas.apply_edits`); default ``result.personas``.
    lifetime : Lifetime, optional
        Lifetime figures of an order log's customers
        (:func:`segmentation.lifetime.lifetime_of`).
    """
    personas = checked_personas(result, personas)
    seg = result.segmentation
    ids = seg.customer_ids.astype(str)
    frame = assignment_table(
        result.raw, result.dataset, ids, seg.labels, {p.segment: p.name for p in personas},
        excluded=result.features.report.excluded_ids, dropped=result.features.report.dropped,
        extra={"distance": np.asarray(seg.distances, dtype=float),
               "silhouette": np.asarray(seg.silhouette_values, dtype=float)})
    frame = with_rfm(frame, rfm_of(result), ids)
    return with_lifetime(frame, lifetime.per_customer if lifetime is not None else None)


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


def assignment_table(raw: RawTable | None, dataset: Dataset, customer_ids: Sequence,
                     segments: Sequence[int], names: Mapping[int, str],
                     excluded: Mapping[str, str] | None = None,
                     dropped: Mapping[str, int] | None = None,
                     extra: Mapping[str, Sequence] | None = None) -> pd.DataFrame:
    """Every data line of the input with its segment, or why it has none.

    Parameters
    ----------
    raw : RawTable or None
        The table ``dataset`` was loaded from (lines are matched through it).
    dataset : Dataset
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
    >>> from segmentation.io import read_table
    >>> from segmentation.dataset import load_dataset
    >>> raw = read_table(b"id,spend\\n7,10\\n7,12\\n,5\\n8,30\\n")
    >>> table = assignment_table(raw, load_dataset(raw), ["7", "8"], [0, 1], {0: "A", 1: "B"})
    >>> table[["customer_id", "segment", "status", "line"]].to_numpy().tolist()
    [['7', 0, 'segmented', 2], ['7', <NA>, 'excluded', 3], [None, <NA>, 'excluded', 4], ['8', 1, 'segmented', 5]]
    """
    ids = [str(c) for c in customer_ids]
    segments = [int(s) for s in segments]
    if len(ids) != len(segments):
        raise SegmentationError("Each assigned customer needs one segment: the lengths differ.")
    position = {cid: i for i, cid in enumerate(ids)}
    excluded = dict(excluded or {})
    extra = {k: np.asarray(v) for k, v in (extra or {}).items()}
    rows = (_rows_from_raw(raw, dataset) if raw is not None else None) or _rows_from_dataset(dataset)

    cols = {c: [] for c in (*ASSIGNMENT_COLUMNS, *extra)}
    at: list[int | None] = []
    listed: Counter = Counter()
    for _, line, cid, reason in sorted(rows, key=lambda r: r[0]):
        i = position.get(cid) if reason is None else None
        if reason is None and i is None:
            reason = excluded.get(cid, REASON_NOT_SEGMENTED)
        if i is None:
            listed[reason] += 1
        at.append(i)
        segment = segments[i] if i is not None else None
        cols["customer_id"].append(cid)
        cols["segment"].append(segment)
        cols["persona"].append(names.get(segment, f"Segment {segment}")
                               if segment is not None else None)
        cols["status"].append(STATUS_SEGMENTED if i is not None else STATUS_EXCLUDED)
        cols["reason"].append(reason)
        cols["line"].append(line)
    for reason, count in (dropped or {}).items():
        more = int(count) - listed.get(reason, 0)
        if more > 0:
            for col in cols:
                cols[col].append(None)
            cols["status"][-1] = STATUS_EXCLUDED
            cols["reason"][-1] = f"{more} more row(s) not listed: {reason}"
            at.append(None)
    frame = pd.DataFrame({
        "customer_id": pd.Series(cols["customer_id"], dtype=object),
        "segment": pd.Series(cols["segment"], dtype="Int64"),
        "persona": pd.Series(cols["persona"], dtype=object),
        "status": pd.Series(cols["status"], dtype=object),
        "reason": pd.Series(cols["reason"], dtype=object),
        "line": pd.Series(cols["line"], dtype="Int64"),
    })
    return frame.assign(**{name: _aligned(values, at) for name, values in extra.items()})


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


def _aligned(values: np.ndarray, at: list[int | None]) -> pd.Series:
    if values.dtype.kind in "fiu":
        return pd.Series([float(values[i]) if i is not None else np.nan for i in at], dtype=float)
    return pd.Series([values[i] if i is not None else None for i in at], dtype=object)


def with_rfm(frame: pd.DataFrame, rfm: pd.DataFrame | None, customer_ids: Sequence) -> pd.DataFrame:
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


def with_lifetime(frame: pd.DataFrame, per_customer: pd.DataFrame | None) -> pd.DataFrame:
    """Each row's lifetime figures, matched on its customer id (none for a row without one)."""
    if per_customer is None:
        return frame
    figures = per_customer.reindex(columns=list(LIFETIME_COLUMNS))
    figures = figures.set_axis(pd.Index(figures.index.map(str), dtype=object))
    rows = figures.reindex(pd.Index(frame["customer_id"], dtype=object))
    return frame.assign(**{column: rows[column].to_numpy(dtype=float)
                           for column in LIFETIME_COLUMNS})


def _rows_from_raw(raw: RawTable, ds: Dataset):
    """(order, line, id, reason or None) for every data line, or None if raw and dataset disagree.

    Ids are recomputed from the raw table exactly as the dataset computed
    them (same function), so every duplicate is listed, not only the 20 that
    ``Dataset.duplicate_ids`` keeps.
    """
    n = len(raw.frame)
    if ds.id_column is None:
        ids = pd.Series([f"row_{raw.line_of(i)}" for i in range(n)], dtype=object)
    elif ds.id_column in raw.frame.columns:
        ids = raw.frame[ds.id_column].map(id_text)
    else:
        return None
    present = ids.notna().to_numpy()
    duplicate = ids.duplicated(keep="first").to_numpy() & present
    kept = ids[present & ~duplicate]
    if (kept.tolist() != ds.frame.index.tolist()
            or int((~present).sum()) != ds.dropped.get(REASON_MISSING_ID, 0)
            or int(duplicate.sum()) != ds.dropped.get(REASON_DUPLICATE_ID, 0)):
        return None
    rows = []
    for i, cid in enumerate(ids.tolist()):
        line = raw.line_of(i)
        if not present[i]:
            rows.append((line, line, None, REASON_MISSING_ID))
        elif duplicate[i]:
            rows.append((line, line, cid, REASON_DUPLICATE_ID))
        else:
            rows.append((line, line, cid, None))
    rows += [(line, line, None, REASON_MALFORMED) for line in raw.malformed_lines]
    return rows


def _rows_from_dataset(ds: Dataset):
    """What can be listed without the raw lines; the order key keeps the groups apart."""
    rows = [(0, None, cid, None) for cid in ds.frame.index.astype(str)]
    rows += [(1, None, cid, REASON_DUPLICATE_ID) for cid in ds.duplicate_ids]
    rows += [(2, line, None, REASON_MALFORMED) for line in ds.malformed_lines]
    return rows
