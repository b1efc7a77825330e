"""From a raw table to typed customer records, one row per unique customer id."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import SegmentationError
from .io import RawTable, to_number
from .roles import NUMERIC_ROLES, Role, detect_roles, parse_dates

REASON_MALFORMED = "malformed line (wrong number of fields)"
REASON_DUPLICATE_ID = "duplicate customer id (first kept)"
REASON_MISSING_ID = "missing customer id"


@dataclass(frozen=True)
class Dataset:
    """Typed customer records and the account of every row that did not make it.

    Attributes
    ----------
    frame : DataFrame
        Indexed by customer id (text, so leading zeros survive). Numeric-role
        columns are floats, the signup date is a datetime, categories are text.
        Columns with no usable role are left out (see ``excluded_columns``).
    roles : dict
        ``{column: role}`` for every column of the raw table.
    id_column : str or None
        The column the ids came from; None when ids were made from row numbers.
    rows_read : int
        Data lines in the input.
    dropped : dict
        ``{reason: count}`` of rows not in ``frame``.
    excluded_columns : dict
        ``{column: reason}`` for columns that are never clustered on.
    unparseable : dict
        ``{column: count}`` of values that were not numbers and became missing.
    """

    frame: pd.DataFrame
    roles: dict[str, str]
    id_column: str | None
    rows_read: int
    name: str = "upload"
    dropped: dict[str, int] = field(default_factory=dict)
    malformed_lines: tuple[int, ...] = ()
    duplicate_ids: tuple[str, ...] = ()
    excluded_columns: dict[str, str] = field(default_factory=dict)
    unparseable: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def n_customers(self) -> int:
        return len(self.frame)


def load_dataset(
    raw: RawTable,
    roles: dict[str, str] | None = None,
    id_column: str | None = None,
) -> Dataset:
    """Type the columns of a raw table by role and keep one row per customer id.

    Parameters
    ----------
    raw : RawTable
        As returned by :func:`segmentation.io.read_table`.
    roles : dict, optional
        Overrides for the detected roles, ``{column: role}``; columns not named
        keep their detected role.
    id_column : str, optional
        The customer id column; by default the first column whose role is ``id``.

    Returns
    -------
    Dataset

    Raises
    ------
    SegmentationError
        For an unknown column or role, or a table with no numeric column.
    """
    frame = raw.frame
    detected = detect_roles(frame, raw.decimal)
    for col, role in (roles or {}).items():
        if col not in detected:
            raise SegmentationError(
                f"The role given for column {col!r} names no column of the file: "
                f"use one of {_names(frame.columns)}."
            )
        if role not in set(Role):
            raise SegmentationError(
                f"{role!r} is not a column role: use one of {_names(r.value for r in Role)}."
            )
        detected[col] = str(Role(role))
    if id_column is not None:
        if id_column not in detected:
            raise SegmentationError(
                f"The id column {id_column!r} is not in the file: "
                f"use one of {_names(frame.columns)}."
            )
        detected[id_column] = str(Role.ID)  # other id columns stay ids, never clustered on
    else:
        id_cols = [c for c, r in detected.items() if r == Role.ID]
        id_column = id_cols[0] if id_cols else None

    dropped = {REASON_MALFORMED: len(raw.malformed_lines)} if raw.malformed_lines else {}
    notes = []
    if id_column is None:
        ids = pd.Series([f"row_{raw.line_of(i)}" for i in range(len(frame))], dtype=object)
        notes.append("No customer id column was found: ids were made from file line numbers "
                     "(row_2 is the first data line).")
    else:
        ids = frame[id_column].map(id_text)
    keep = ids.notna().to_numpy().copy()
    if (~keep).any():
        dropped[REASON_MISSING_ID] = int((~keep).sum())
    duplicated = ids.duplicated(keep="first").to_numpy() & keep
    if duplicated.any():
        dropped[REASON_DUPLICATE_ID] = int(duplicated.sum())
    keep = keep & ~duplicated

    typed, excluded, unparseable = {}, {}, {}
    for col, role in detected.items():
        if role == Role.ID and col == id_column:
            continue
        series = frame[col]
        if role in NUMERIC_ROLES:
            numbers = to_number(series, raw.decimal)
            bad = int((numbers.isna() & series.notna()).sum())
            if bad:
                unparseable[col] = bad
            typed[col] = numbers
        elif role == Role.SIGNUP_DATE:
            typed[col] = parse_dates(series)
        elif role in {Role.EDUCATION, Role.MARITAL_STATUS, Role.CATEGORY}:
            typed[col] = series.map(lambda v: v if pd.isna(v) else str(v)).astype(object)
        else:
            excluded[col] = {
                Role.ID: "another id column",
                Role.CONSTANT: "the same value for every customer",
                Role.TEXT: "free text",
                Role.IGNORE: "ignored",
            }.get(Role(role), "not used")
    if not any(detected[c] in NUMERIC_ROLES for c in typed):
        raise SegmentationError(
            f"{raw.name} has no numeric column to segment on: check the delimiter, "
            "or upload an export with income, spend or purchase counts."
        )
    out = pd.DataFrame(typed).loc[keep]
    out.index = pd.Index(ids[keep].to_numpy(), name="customer_id", dtype=object)
    return Dataset(
        frame=out,
        roles=detected,
        id_column=id_column,
        rows_read=raw.rows_read,
        name=raw.name,
        dropped=dropped,
        malformed_lines=raw.malformed_lines,
        duplicate_ids=tuple(ids[duplicated].head(20)),
        excluded_columns=excluded,
        unparseable=unparseable,
        notes=tuple(notes),
    )


def id_text(value) -> str | float:
    """Ids are text; an Excel number such as 5524.0 becomes "5524"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text if text else np.nan


def _names(values) -> str:
    values = [str(v) for v in values]
    shown = ", ".join(repr(v) for v in values[:12])
    return shown + (", ..." if len(values) > 12 else "")
