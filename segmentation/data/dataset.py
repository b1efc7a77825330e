"""From a raw table to typed customer records, one row per unique customer id."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.config import (
    ABSURD_MAGNITUDE,
    FIRST_VALUES,
    MIN_CUSTOMERS,
)
from segmentation.data._distinct import as_mapped, map_distinct
from segmentation.data.customer_file import RawTable, to_number
from segmentation.data.roles import (
    BINARY_ROLES,
    CATEGORY_ROLES,
    KIND_LABELS,
    NUMERIC_ROLES,
    ROLE_LABELS,
    ColumnMeaning,
    Kind,
    Role,
    _parse_dates,
    _sentinel_of,
    _to_binary,
    describe_columns,
    kind_of,
    parse_role,
)
from segmentation.errors import SegmentationError

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
    absurd : dict
        ``{column: count}`` of numbers that were infinite or beyond
        ``ABSURD_MAGNITUDE`` and became missing.
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
    absurd: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    meanings: dict[str, ColumnMeaning] = field(default_factory=dict)
    sentinels: dict[str, float] = field(default_factory=dict)
    log: object | None = None
    # The input line of each customer of ``frame``, and (line, id or None, reason) of every
    # line left out, so the assignments can account for every line without the raw table.
    customer_lines: np.ndarray | None = field(default=None, compare=False, repr=False)
    excluded_lines: tuple[tuple[int, str | None, str], ...] = field(default=(), repr=False)
    # {column: (its first values as read, missing cells)}: what the file looked like, kept
    # so the raw table need not be.
    column_summary: dict[str, tuple[tuple[str, ...], int]] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        return len(self.frame)

    def kind(self, column: str) -> str:
        """The kind of a column of the input (see :class:`segmentation.data.roles.Kind`)."""
        return kind_of(self.roles[column])


def column_table(dataset: Dataset) -> pd.DataFrame:
    """How each column of the file was read: one row per column, in the file's order.

    Columns: ``column``, ``kind`` and ``role`` (their labels), ``because`` (why it was read
    that way, or "set by you" for a correction), ``first_values`` (the first values as read,
    comma-separated) and ``missing`` (empty cells as read). The Data page and the report
    show this one table. A role this version does not know (from a newer bundle) is shown
    as stored, with an empty kind.
    """
    rows = []
    for column, role in dataset.roles.items():
        try:
            kind, label = KIND_LABELS[Kind(kind_of(role))], ROLE_LABELS[Role(role)]
        except (KeyError, ValueError):
            kind, label = "", str(role)
        meaning = dataset.meanings.get(column)
        first, missing = dataset.column_summary.get(column, ((), None))
        rows.append({"column": column, "kind": kind, "role": label,
                     "because": str(meaning.reason) if meaning is not None and meaning.reason
                     else "set by you",
                     "first_values": ", ".join(first), "missing": missing})
    return pd.DataFrame(rows, columns=["column", "kind", "role", "because", "first_values",
                                       "missing"]).astype({"missing": "Int64"})


def load_dataset(
    raw: RawTable,
    roles: dict[str, str] | None = None,
    id_column: str | None = None,
) -> Dataset:
    """Type the columns of a raw table by role and keep one row per customer id.

    Parameters
    ----------
    raw : RawTable
        As returned by :func:`segmentation.data.customer_file.read_table`.
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
    # Telling a missing text cell apart costs pandas a Python check per cell: done once per
    # column here, for detection, the counts of unparseable cells and the summary.
    missing = {col: frame[col].isna().to_numpy() for col in frame.columns}
    parsed: dict[str, pd.Series] = {}
    meanings = describe_columns(frame, raw.decimal, missing=missing, parsed=parsed)
    log = raw.log
    if log is not None:  # the aggregation knows what each column it made means
        for col, role in log.roles.items():
            if col in meanings:
                label = log.labels.get(col, col)
                meanings[col] = ColumnMeaning(col, role, kind_of(role),
                                              f"totalled from the order log: {label.lower()}")
    detected = {col: m.role for col, m in meanings.items()}
    given = dict(roles or {})
    for col, role in given.items():
        if col not in detected:
            raise SegmentationError(
                f"The role given for column {col!r} names no column of the file: "
                f"use one of {_names(frame.columns)}."
            )
        try:
            detected[col] = parse_role(role)
        except ValueError:
            raise SegmentationError(
                f"{role!r} is not a column kind or role: use a kind ("
                + ", ".join(k.value for k in Kind) + ") or a role ("
                + ", ".join(r.value for r in Role if r.value not in {k.value for k in Kind})
                + ")."
            ) from None
        if detected[col] != meanings[col].role:
            meanings[col] = ColumnMeaning(col, detected[col], kind_of(detected[col]),
                                          "set by the user", meanings[col].sentinel)
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
    # how the file was read (lines not UTF-8, the sheet of a workbook); an order log's
    # notes are its own and shown with it
    notes = list(raw.notes) if log is None else []
    if id_column is None:
        ids = pd.Series([f"row_{raw.line_of(i)}" for i in range(len(frame))], dtype=object)
        notes.append("No customer id column was found: ids were made from file line numbers "
                     "(row_2 is the first data line).")
    else:
        ids = _ids_text(frame[id_column])
    keep = ids.notna().to_numpy().copy()
    if (~keep).any():
        dropped[REASON_MISSING_ID] = int((~keep).sum())
    duplicated = ids.duplicated(keep="first").to_numpy() & keep
    if duplicated.any():
        dropped[REASON_DUPLICATE_ID] = int(duplicated.sum())
    keep = keep & ~duplicated
    lines = (np.asarray(raw.line_numbers, dtype=np.int64) if raw.line_numbers
             else np.arange(2, len(frame) + 2, dtype=np.int64))

    if log is None:
        _refuse_order_log(raw, detected, id_column, ids)
    typed, excluded, unparseable, sentinels, absurd = {}, {}, {}, {}, {}
    for col, role in detected.items():
        if role == Role.ID and col == id_column:
            continue
        series = frame[col]
        if role == Role.SENTINEL:
            code = meanings[col].sentinel
            code = code if code is not None else _sentinel_of(series, raw.decimal)
            if code is None:  # set by the user on a column with no code: a plain measure
                detected[col] = Role.OTHER_NUMERIC.value
                role = detected[col]
            else:
                sentinels[col] = float(code)
        if role in NUMERIC_ROLES:
            # the numbers detection parsed already, when it did: parsing is cell by cell
            numbers = parsed[col] if col in parsed else to_number(series, raw.decimal)
            bad = int((numbers.isna().to_numpy() & ~missing[col]).sum())
            if bad:
                unparseable[col] = bad
            numbers, n_absurd = _without_absurd(numbers)
            if n_absurd:
                absurd[col] = n_absurd
            typed[col] = numbers
        elif role in BINARY_ROLES or role == Role.LEAK and _is_binary(series):
            values = _to_binary(series)
            if values.notna().sum() < series.notna().sum() * 0.95:  # not yes/no after all
                values = to_number(series, raw.decimal)
            bad = int((values.isna() & series.notna()).sum())
            if bad:
                unparseable[col] = bad
            typed[col] = values
        elif role == Role.LEAK:
            numbers = to_number(series, raw.decimal)
            typed[col] = (numbers if numbers.notna().sum() >= series.notna().sum() * 0.95
                          else _as_text(series))
        elif role in {Role.SIGNUP_DATE, Role.DATE}:
            typed[col] = _parse_dates(series)
        elif role in CATEGORY_ROLES:
            typed[col] = _as_text(series)
        else:
            excluded[col] = {
                Role.ID: "another id column",
                # "empty in every row" or "the same value ('x') in every row", as detected
                Role.CONSTANT: meanings[col].reason if meanings[col].role == Role.CONSTANT
                else "the same value for every customer",
                Role.TEXT: "free text",
                Role.IGNORE: "ignored",
            }.get(Role(role), "not used")
    if not any(detected[c] in NUMERIC_ROLES | BINARY_ROLES for c in typed):
        _refuse_nothing_to_segment(raw, id_column, ids)  # what is really wrong, when it is that
        raise SegmentationError(
            f"{raw.name} has no numeric column to segment on (no amounts, counts or yes/no "
            "flags): check the delimiter, or upload an export with one row per customer."
        )
    if absurd:
        notes.append(
            "Treated as missing, being infinite or beyond ±1e15: "
            + ", ".join(f"{n:,} in {col}" for col, n in absurd.items()) + ".")
    # copy=False, and no row selection when every row is kept: the typed columns are used
    # as they are, not copied again into one block (a few hundred MB at a million rows).
    out = pd.DataFrame(typed, copy=False)
    if not keep.all():
        out = out.loc[keep]
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
        customer_lines=lines[keep],
        excluded_lines=tuple(sorted(
            [(int(line), None, REASON_MISSING_ID) for line in lines[~ids.notna().to_numpy()]]
            + [(int(line), str(cid), REASON_DUPLICATE_ID)
               for line, cid in zip(lines[duplicated], ids[duplicated], strict=True)]
            + [(int(line), None, REASON_MALFORMED) for line in raw.malformed_lines])),
        excluded_columns=excluded,
        unparseable=unparseable,
        absurd=absurd,
        notes=tuple(notes),
        meanings=meanings,
        sentinels=sentinels,
        log=log,
        column_summary={str(c): (tuple(map(str, frame[c].iloc[
                                     np.flatnonzero(~missing[c])[:FIRST_VALUES]])),
                                 int(missing[c].sum())) for c in frame.columns},
    )


def _without_absurd(numbers: pd.Series) -> tuple[pd.Series, int]:
    """Infinite and absurdly large numbers become missing, with their count."""
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    absurd = ~np.isnan(values) & ~(np.abs(values) < ABSURD_MAGNITUDE)
    if not absurd.any():
        return numbers, 0
    return numbers.mask(absurd), int(absurd.sum())


def _as_text(series: pd.Series) -> pd.Series:
    """Category values as text; whole numbers read as numbers lose their ".0"."""
    def text(value):
        if pd.isna(value):
            return value
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return str(int(value))
        return str(value)

    return map_distinct(series, text).astype(object)


def _is_binary(series: pd.Series) -> bool:
    present = series.dropna()
    return bool(len(present)) and _to_binary(present).notna().all()


def _refuse_nothing_to_segment(raw: RawTable, id_column: str | None, ids: pd.Series) -> None:
    """One sentence for a file too small or too uniform to segment, whose columns then
    all look constant."""
    rows = len(raw.frame)
    if rows < 2:
        raise SegmentationError(
            f"{raw.name} has only {rows} customer row: segmentation needs at least "
            f"{MIN_CUSTOMERS} (two segments of two), so read the whole customer table."
        )
    others = raw.frame.drop(columns=[id_column] if id_column is not None else [])
    if len(others.columns) and len(others.drop_duplicates()) == 1:
        apart = " apart from their id" if id_column is not None and ids.nunique() > 1 else ""
        raise SegmentationError(
            f"All {rows:,} rows of {raw.name} are identical{apart}, so there is nothing to "
            "segment: check that the export holds each customer's own figures."
        )


def _refuse_order_log(raw: RawTable, roles: dict[str, str], id_column: str | None,
                      ids: pd.Series) -> None:
    """One clear sentence for a file of order lines read as a customer table."""
    from segmentation.data.orders import looks_like_log

    why = looks_like_log(raw.frame)
    if why is not None:
        raise SegmentationError(
            f"{raw.name} looks like a log of order lines, not one row per customer: read it as "
            "transactions (input kind auto or transactions) so it is totalled per customer."
        )

# Python's str.strip() removes these ASCII characters (and more, outside ASCII).
_ARROW_STRIPPED = r"^[\t\n\x0b\x0c\r\x1c-\x1f ]|[\t\n\x0b\x0c\r\x1c-\x1f ]$"


def _ids_text(series: pd.Series) -> pd.Series:
    """``series.map(_id_text)``, with the ids :func:`_id_text` leaves as they are (ASCII
    text with nothing to strip) found by pyarrow in C: a million ids are not a million
    Python calls."""
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return series.map(_id_text)  # numbers (an Excel export's ids): cell by cell
    try:
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):  # e.g. a lone surrogate
        return series.map(_id_text)
    plain = pc.and_(pc.and_(pc.string_is_ascii(arr), pc.greater(pc.utf8_length(arr), 0)),
                    pc.invert(pc.match_substring_regex(arr, _ARROW_STRIPPED)))
    # a missing id is null to pyarrow and goes to _id_text with the rest
    other = np.flatnonzero(~pc.fill_null(plain, False).to_numpy(zero_copy_only=False))
    if other.size:
        values = values.copy()
        values[other] = [_id_text(v) for v in values[other]]
    return as_mapped(values, series)


def _id_text(value) -> str | float:
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

