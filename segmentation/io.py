"""Reading a customer table from bytes: delimited text, Excel or Parquet.

Text cells are kept as strings (customer ids keep their leading zeros);
numbers are parsed later, per column, by :func:`to_number`, once the
column's role is known.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SegmentationError

MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "--", "#n/a"})
DELIMITERS = (",", "\t", ";", "|")
_SNIFF_LINES = 50
_CURRENCY = re.compile(r"[\s\u00a0$€£¥]|(?i:usd|eur|gbp)")
_DOT_DECIMAL = re.compile(
    r"^[+-]?((\d{1,3}(,\d{3})+|\d+)(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_COMMA_HINT = re.compile(r"^[+-]?[\d.]*\d,\d{1,2}$")
_DOT_HINT = re.compile(r"^[+-]?[\d,]*\d\.\d{1,2}$")


@dataclass(frozen=True)
class RawTable:
    """A table as read, before any column is interpreted.

    Attributes
    ----------
    frame : DataFrame
        One row per data line that had the right number of fields. Text
        cells are strings; missing markers are already missing.
    rows_read : int
        Data lines in the file (malformed ones included, blank lines not).
    malformed_lines : tuple of int
        1-based line numbers skipped for having the wrong number of fields.
    file_format : str
        ``"text"``, ``"excel"`` or ``"parquet"``.
    delimiter, decimal, encoding : str or None
        What was detected for text files.
    """

    frame: pd.DataFrame
    rows_read: int
    malformed_lines: tuple[int, ...] = ()
    file_format: str = "text"
    delimiter: str | None = None
    decimal: str = "."
    encoding: str | None = None
    name: str = "upload"
    notes: tuple[str, ...] = field(default=())
    line_numbers: tuple[int, ...] | None = None  # file line of each row of ``frame``
    fingerprint: str = ""  # of the file's bytes, see :func:`fingerprint`

    def line_of(self, position: int) -> int:
        """The file line a row of ``frame`` came from (the header is line 1)."""
        return self.line_numbers[position] if self.line_numbers else position + 2


def fingerprint(data: bytes) -> str:
    """A short, stable identifier of a file's exact bytes (SHA-256, 16 hex digits)."""
    return hashlib.sha256(data).hexdigest()[:16]


def read_table(source: bytes | str | Path, name: str | None = None) -> RawTable:
    """Read a customer table from a path or from the bytes of an upload.

    The format is recognised from the content (Excel and Parquet by their
    signatures, anything else as delimited text), so a misnamed file still
    loads. For text, the encoding (UTF-8, UTF-8 with BOM, Latin-1), the
    delimiter (comma, tab, semicolon, pipe) and the decimal mark are detected.

    Parameters
    ----------
    source : bytes, str or Path
        The file's bytes, or a path to read them from.
    name : str, optional
        A display name for messages and reports.

    Returns
    -------
    RawTable

    Raises
    ------
    SegmentationError
        If the file is empty, has a header but no rows, or is not a table.

    Examples
    --------
    >>> raw = read_table(b'id,income\\n1,"$58,138.00"\\n2,NA\\n')
    >>> raw.frame["income"].tolist()
    ['$58,138.00', nan]
    """
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SegmentationError(
                f"Cannot open {str(path)!r} ({exc.strerror}): check the path and try again."
            ) from None
        name = name or path.name
    else:
        data = bytes(source)
    name = name or "upload"
    if not data.strip():
        raise SegmentationError(
            f"{name} is empty: export the customer table again and upload the new file."
        )
    if data[:4] == b"PK\x03\x04":
        raw = _read_excel(data, name)
    elif data[:4] == b"PAR1":
        raw = _read_parquet(data, name)
    else:
        raw = _read_text(data, name)
    raw = replace(raw, fingerprint=fingerprint(data))
    if raw.frame.empty and not raw.malformed_lines:
        raise SegmentationError(
            f"{name} has a header row but no customer rows: export the table with its data."
        )
    if raw.frame.empty:
        raise SegmentationError(
            f"Every data line of {name} has the wrong number of fields "
            f"(first at line {raw.malformed_lines[0]}): check the delimiter and quoting."
        )
    return raw


def _read_excel(data: bytes, name: str) -> RawTable:
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise SegmentationError(
            f"{name} looks like an Excel file but cannot be read ({type(exc).__name__}): "
            "save it again as .xlsx or CSV."
        ) from None
    frame = _tidy(frame)
    return RawTable(frame=frame, rows_read=len(frame), file_format="excel", name=name)


def _read_parquet(data: bytes, name: str) -> RawTable:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises its own error types
        raise SegmentationError(
            f"{name} looks like a Parquet file but cannot be read ({type(exc).__name__}): "
            "export it again or as CSV."
        ) from None
    frame = _tidy(frame)
    return RawTable(frame=frame, rows_read=len(frame), file_format="parquet", name=name)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    head = data[:8192]
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) * 0.01:
        raise SegmentationError(
            f"{name} is not a table (it looks like a binary file): "
            "upload a CSV, TSV, Excel (.xlsx) or Parquet export."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits the first lines into the most, most consistent fields."""
    best, best_score = None, (0.0, 0)
    for delim in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        except csv.Error:  # e.g. a cell beyond the csv module's field size limit
            continue
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = (counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_text(data: bytes, name: str) -> RawTable:
    text, encoding = _decode(data, name)
    head = [line for line in text.splitlines()[:_SNIFF_LINES * 4] if line.strip()]
    if not head:
        raise SegmentationError(
            f"{name} is empty: export the customer table again and upload the new file."
        )
    delimiter = _sniff_delimiter(head[:_SNIFF_LINES])
    # One reader over the whole text, so a quoted cell may hold a line break;
    # a record's line number is the line it starts on.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or "\x1f")
    header, records, lines, malformed, rows_read = None, [], [], [], 0
    start = 1
    try:
        for row in reader:
            line_no, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if header is None:
                header = row
                continue
            rows_read += 1
            if len(row) == len(header):
                records.append(row)
                lines.append(line_no)
            else:
                malformed.append(line_no)
    except csv.Error as exc:  # e.g. a NUL byte or a field over the size limit
        raise SegmentationError(
            f"{name} cannot be read as a table near line {start} ({exc}): "
            "export it again as CSV."
        ) from None
    frame = _tidy(pd.DataFrame(records, columns=header, dtype=object))
    return RawTable(
        frame=frame,
        rows_read=rows_read,
        malformed_lines=tuple(malformed),
        file_format="text",
        delimiter=delimiter,
        decimal=_detect_decimal(frame),
        line_numbers=tuple(lines),
        encoding=encoding,
        name=name,
    )


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Unique, stripped column names; stripped text; missing markers as missing."""
    names, seen = [], {}
    for i, col in enumerate(frame.columns):
        label = str(col).strip() if col is not None and str(col).strip() else f"column_{i + 1}"
        if label.startswith("Unnamed:"):
            label = f"column_{i + 1}"
        count = seen.get(label, 0)
        seen[label] = count + 1
        names.append(label if count == 0 else f"{label}.{count}")
    out = {}
    for i, label in enumerate(names):
        series = frame.iloc[:, i]  # by position: the raw header may repeat a name
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            series = series.map(_clean_cell).astype(object)
        out[label] = series.reset_index(drop=True)
    return pd.DataFrame(out)


def _clean_cell(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, str):
        stripped = value.strip()
        return np.nan if stripped.lower() in MISSING_MARKERS else stripped
    return value


def _detect_decimal(frame: pd.DataFrame) -> str:
    """"," when numbers like ``12,5`` or ``1.234,50`` outnumber ones like ``12.50``."""
    comma = dot = 0
    for col in frame.columns:
        sample = frame[col].dropna().head(200)
        for value in sample:
            if not isinstance(value, str):
                continue
            token = _CURRENCY.sub("", value)
            comma += bool(_COMMA_HINT.match(token))
            dot += bool(_DOT_HINT.match(token))
    return "," if comma > dot else "."


def to_number(series: pd.Series, decimal: str = ".") -> pd.Series:
    """Parse text numbers, with currency signs and thousands separators, to floats.

    Values that are not numbers become missing. Already-numeric series are
    returned as float.

    Examples
    --------
    >>> to_number(pd.Series(["$58,138.00", "n/a", "12"])).tolist()
    [58138.0, nan, 12.0]
    >>> to_number(pd.Series(["1.234,50 €"]), decimal=",").tolist()
    [1234.5]
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(float)
    pattern = _COMMA_DECIMAL if decimal == "," else _DOT_DECIMAL
    thousands = "." if decimal == "," else ","

    def parse(value) -> float:
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, int | float | np.integer | np.floating):
            return float(value)
        if not isinstance(value, str):
            return np.nan
        token = _CURRENCY.sub("", value)
        if not pattern.match(token):
            return np.nan
        token = token.replace(thousands, "")
        if decimal == ",":
            token = token.replace(",", ".")
        return float(token)

    return series.map(parse).astype(float)


def numeric_share(series: pd.Series, decimal: str = ".") -> float:
    """Share of the non-missing values that parse as numbers (1.0 for an empty column)."""
    present = series.dropna()
    if present.empty:
        return 1.0
    return float(to_number(present, decimal).notna().mean())
