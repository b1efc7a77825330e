"""Reading a customer table from bytes: delimited text, Excel or Parquet.

Text cells are kept as strings (customer ids keep their leading zeros);
numbers are parsed later, per column, by :func:`to_number`, once the
column's role is known.

Delimited text is parsed column-wise by pyarrow's CSV reader. A numpy scan of
the bytes finds where every record starts and the file line it starts on, so the
rows kept, the lines reported as malformed and their line numbers are exactly
those of Python's csv module reading the file row by row. The few files whose
quoting the scan cannot follow exactly (see :func:`_records`), or that the csv
module rejects, are read row by row with the csv module instead.

Numbers are parsed with pyarrow compute kernels (RE2 regular expressions) on
whole columns, each distinct value once in columns that repeat their values.
The RE2 patterns match exactly what the Python patterns below match (tests
check the character classes against every character); the rare cells that
could be a number written with digits of another script are parsed by the
Python patterns themselves.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import operator
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from pandas._libs import lib as _pandas_lib

from segmentation.config import (
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_WORKBOOK_BYTES,
)
from segmentation.errors import SegmentationError

MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "--", "#n/a"})
DELIMITERS = (",", "\t", ";", "|")
_SNIFF_LINES = 50
_CURRENCY = re.compile(r"[\s\u00a0$€£¥]|(?i:usd|eur|gbp)")
_DOT_DECIMAL = re.compile(
    r"^[+-]?((\d{1,3}(,\d{3})+|\d+)(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_COMMA_HINT = re.compile(r"^[+-]?[\d.]*\d,\d{1,2}$")
_DOT_HINT = re.compile(r"^[+-]?[\d,]*\d\.\d{1,2}$")

# Every character str.isspace() accepts: what str.strip() removes and what ``\s``
# matches in a Python pattern (a test checks this list against the Unicode tables).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# The missing markers in every mix of upper and lower case. A cell is in this set
# exactly when ``cell.lower()`` is a marker: the only non-ASCII character whose
# lower case is ASCII is the Kelvin sign (lower case "k"), and no marker holds a "k".
_MARKER_SPELLINGS = pa.array(sorted({
    "".join(letters)
    for marker in MISSING_MARKERS
    for letters in itertools.product(*({c.lower(), c.upper()} for c in marker))
}), type=pa.string())
_MARKER_BYTES = max(len(marker.encode()) for marker in MISSING_MARKERS)

# RE2 forms of _CURRENCY, _DOT_DECIMAL and _COMMA_DECIMAL. The currency pattern
# removes the same characters as the Python one from any text: the whitespace class
# is spelled out, and RE2 folds the case of u, s, d, e, r, g, b, p exactly as
# Python does (a test checks both on every character). The number patterns are for
# ASCII text, where Python's \d is [0-9].
_ARROW_CURRENCY = (
    "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "$€£¥]|(?i:usd|eur|gbp)")
_ARROW_DOT_DECIMAL = (
    r"^[+-]?(([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_ARROW_COMMA_DECIMAL = r"^[+-]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?$"
# The characters a cell may hold and still be a number once currency signs and
# spaces are removed: digits, signs, separators, exponent marks, ASCII spaces, "$",
# the letters of usd, eur and gbp, and any non-ASCII character (a currency sign, a
# space, or a digit of another script, which only the Python pattern knows).
_ARROW_MAYBE_NUMBER = (
    r"^[0-9+\-.,eE\t\n\x0b\x0c\r\x1c-\x1f $uUsSdDrRgGbBpP\x{80}-\x{10FFFF}]*$")
_CURRENCY_SIGNS = _WHITESPACE + "$€£¥"  # the characters in _CURRENCY's class
_BOM = b"\xef\xbb\xbf"
# Byte order marks of the wide encodings, UTF-32 first: its little-endian mark begins
# with UTF-16's. Excel's "Unicode text" export is UTF-16 with a mark.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
              (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_ENCODING_NAMES = {"utf-32": "UTF-32", "utf-16": "UTF-16"}
_ESCAPED_LINE = re.compile("[^\r\n]*[\udc80-\udcff][^\r\n]*")  # a line with an invalid byte
_NOT_LATIN = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a character UTF-8 decoded beyond ASCII
_LINE_BREAK = re.compile("\r\n|\r|\n")
_BAD_LINES_SHOWN = 5  # line numbers named in the note on lines that are not UTF-8
_ASCII_NOT_SPACE = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # what bytes.strip() keeps
_MATCH_ROWS = 500  # rows set aside by pyarrow that are found by their text
_PARALLEL_CELLS = 1 << 17  # a column this long is parsed in two halves at once
_SAMPLE = 2000  # first cells of a column looked at to judge how often its values repeat
_SCAN_BLOCK = 1 << 22  # bytes of a text file scanned at a time
_RATIO_FROM_BYTES = 2**20


@dataclass(frozen=True)
class _Text:
    """A text file decoded: the text, the encoding's name, the text's UTF-8 bytes when
    they are the file's own (no copy needed), and a note on lines read otherwise."""

    text: str
    encoding: str
    utf8: bytes | None = None
    note: str | None = None


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
    notes : tuple of str
        What reading did that the reader should know: lines read as Latin-1, the
        sheet read from a workbook of several.
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
    sheet: str | None = None  # the sheet read, for an Excel workbook
    sheets: tuple[str, ...] = ()  # every sheet of the workbook, in order
    # The order log this table of customers was totalled from (segmentation.data.orders.OrderLog).
    log: object | None = None

    def line_of(self, position: int) -> int:
        """The file line a row of ``frame`` came from (the header is line 1)."""
        return self.line_numbers[position] if self.line_numbers else position + 2


def fingerprint(data: bytes) -> str:
    """A short, stable identifier of a file's exact bytes (SHA-256, 16 hex digits)."""
    return hashlib.sha256(data).hexdigest()[:16]


def release_arrow_memory() -> None:
    """Give back to the system the memory Arrow kept after parsing for its own reuse.

    Arrow's allocator holds freed buffers for later allocations, which this
    process rarely makes: at a million customers that is a few hundred MB.
    """
    pa.default_memory_pool().release_unused()


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV export of a DataFrame, as a CRM would write it.

    A default index (0, 1, 2, ...) is left out and any other one, such as customer ids set
    as the index, becomes a column. A lone surrogate, which no file can hold, is written
    escaped (``\\ud800``) rather than refused.
    """
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    # Lines end in CRLF so the csv writer quotes a cell holding a bare CR: with "\n" alone
    # it leaves it bare, and the reader would end the customer's line there.
    return frame.to_csv(index=False, lineterminator="\r\n").encode(
        "utf-8", errors="backslashreplace")


def read_table(source: bytes | str | Path | pd.DataFrame, name: str | None = None,
               sheet: str | int | None = None) -> RawTable:
    """Read a customer table from a path, from the bytes of an upload, or from a DataFrame.

    The format is recognised from the content (Excel and Parquet by their
    signatures, anything else as delimited text), so a misnamed file still
    loads. For text, the encoding (UTF-8, UTF-8 with BOM, UTF-16 or UTF-32 with
    their BOM, Latin-1 for the lines that are not UTF-8), the delimiter (comma,
    tab, semicolon, pipe) and the decimal mark are detected. Of an Excel
    workbook, the first sheet holding a table is read unless ``sheet`` says which.

    Parameters
    ----------
    source : bytes, str, Path or DataFrame
        The file's bytes, or a path to a regular file to read them from. A pandas
        DataFrame is read as the CSV export of it would be (a meaningful index, such as
        customer ids, becomes a column), so every cell is interpreted as in a file.
    name : str, optional
        A display name for messages and reports.
    sheet : str or int, optional
        For an Excel workbook: the sheet's name, or its position counted from 1.

    Returns
    -------
    RawTable

    Raises
    ------
    SegmentationError
        If the file is empty, has a header but no rows, is not a table, names no
        such sheet, or is a workbook that would expand beyond the size limits.

    Examples
    --------
    >>> raw = read_table(b'id,income\\n1,"$58,138.00"\\n2,NA\\n')
    >>> raw.frame["income"].tolist()
    ['$58,138.00', nan]
    """
    if isinstance(source, pd.DataFrame):
        data, name = _frame_bytes(source), name or "the table"
    elif isinstance(source, str | Path):
        data = _file_bytes(source)
        name = name or Path(source).name
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        raise SegmentationError(
            f"A customer table is read from a path, a file's bytes or a pandas DataFrame, "
            f"not from a {type(source).__name__}: pass one of those."
        )
    name = name or "upload"
    if _ASCII_NOT_SPACE.search(data) is None:  # ``not data.strip()``, without copying the data
        raise SegmentationError(
            f"{name} is empty: export the customer table again and upload the new file."
        )
    if data[:4] == b"PK\x03\x04":
        raw = _read_excel(data, name, sheet)
    elif sheet is not None:
        raise SegmentationError(
            f"{name} is not an Excel workbook, so it has no sheet {str(sheet)!r}: "
            "leave the sheet out."
        )
    elif data[:4] == b"PAR1":
        raw = _read_parquet(data, name)
    else:
        raw = _read_text(data, name)
    release_arrow_memory()
    if len(raw.frame.columns) > MAX_COLUMNS:
        raise _too_wide(name, len(raw.frame.columns))
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


def _file_bytes(source: str | Path) -> bytes:
    """A file's bytes; only a regular file, as a device such as /dev/zero never ends."""
    path = Path(source)
    try:
        if path.exists() and not path.is_file():
            raise SegmentationError(
                f"{str(path)!r} is not a regular file (a folder or a device): give the path "
                "of a customer file."
            )
        return path.read_bytes()
    except OSError as exc:
        raise SegmentationError(
            f"Cannot open {str(path)!r} ({exc.strerror}): check the path and try again."
        ) from None


def _read_excel(data: bytes, name: str, sheet: str | int | None = None) -> RawTable:
    _check_workbook_size(data, name)
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            names = [str(n) for n in book.sheet_names]
            if sheet is not None:
                chosen = _sheet_named(names, sheet, name)
                frame = _tidy(pd.read_excel(book, sheet_name=chosen, dtype=object))
            else:
                # the first sheet holding a table: a cover or notes sheet often comes first
                for chosen in names:
                    frame = _tidy(pd.read_excel(book, sheet_name=chosen, dtype=object))
                    if not frame.empty and len(frame.columns):
                        break
                else:
                    chosen, frame = names[0], _tidy(pd.read_excel(book, sheet_name=0, dtype=object))
    except SegmentationError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _unreadable_workbook(name, exc) from None
    notes = ()
    if len(names) > 1:
        others = [n for n in names if n != chosen]
        skipped = "" if sheet is not None or chosen == names[0] else (
            " (the sheets before it hold no table)")
        notes = (f"Read sheet {chosen!r} of {name}{skipped}; the workbook also has "
                 f"{_names(others)}: choose another sheet to read one of those instead.",)
    return RawTable(frame=frame, rows_read=len(frame), file_format="excel", name=name,
                    notes=notes, sheet=chosen, sheets=tuple(names))


def _too_wide(name: str, width: int) -> SegmentationError:
    return SegmentationError(
        f"{name} has {width:,} columns, more than the {MAX_COLUMNS:,} a customer file is read "
        "with: keep the columns you need (the id and what to segment on) and read that file."
    )


def _unreadable_workbook(name: str, exc: Exception) -> SegmentationError:
    return SegmentationError(
        f"{name} looks like an Excel file but cannot be read ({type(exc).__name__}): "
        "save it again as .xlsx or CSV."
    )


def _sheet_named(names: list[str], sheet: str | int, name: str) -> str:
    """A sheet given by name, or by its position counted from 1."""
    if str(sheet) in names:
        return str(sheet)
    text = str(sheet).strip()
    if text.isdigit() and 1 <= int(text) <= len(names):
        return names[int(text) - 1]
    raise SegmentationError(
        f"{name} has no sheet {str(sheet)!r}: choose one of {_names(names)} (by name, or by "
        "number from 1)."
    )


def _names(values) -> str:
    return ", ".join(repr(v) for v in values)


def sheet_names(source: bytes | str | Path, name: str | None = None) -> tuple[str, ...]:
    """The sheets of an Excel workbook, in order; empty for any other file.

    Raises
    ------
    SegmentationError
        If the workbook would expand beyond the size limits, or cannot be read.

    Examples
    --------
    >>> sheet_names(b"id,income\\n1,2\\n")
    ()
    """
    data = _file_bytes(source) if isinstance(source, str | Path) else bytes(source)
    name = name or (Path(source).name if isinstance(source, str | Path) else "upload")
    if data[:4] != b"PK\x03\x04":
        return ()
    _check_workbook_size(data, name)
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            return tuple(str(n) for n in book.sheet_names)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _unreadable_workbook(name, exc) from None


def _check_workbook_size(data: bytes, name: str) -> None:
    """Refuse a workbook that would expand beyond ``MAX_WORKBOOK_BYTES`` when opened.

    An .xlsx file is a zip archive: its sizes are read from the archive's directory
    before anything is decompressed. The sizes can be trusted: Python's ``zipfile``,
    which openpyxl reads through, stops at the size the directory gives and then
    refuses the member for its checksum.

    Raises
    ------
    SegmentationError
        If the members add up to more than ``MAX_WORKBOOK_BYTES``, or one of them
        expands more than ``MAX_COMPRESSION_RATIO`` times (a "zip bomb").
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _unreadable_workbook(name, exc) from None
    total = sum(m.file_size for m in members)
    way_round = "export the sheet as CSV (a CSV file has no such limit) and read that instead"
    if total > MAX_WORKBOOK_BYTES:
        raise SegmentationError(
            f"{name} would expand to {total / 2**20:,.0f} MB when opened, over the "
            f"{MAX_WORKBOOK_BYTES // 2**20} MB limit for Excel files: {way_round}."
        )
    for m in members:
        if m.file_size > _RATIO_FROM_BYTES and m.file_size > MAX_COMPRESSION_RATIO * max(
                m.compress_size, 1):
            raise SegmentationError(
                f"{name} holds a part ({m.filename}) that expands "
                f"{m.file_size / max(m.compress_size, 1):,.0f} times, over the "
                f"{MAX_COMPRESSION_RATIO} times Excel files are read up to: {way_round}."
            )


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


def _decode(data: bytes, name: str) -> _Text:
    """The file's text: UTF-32 or UTF-16 by their byte order marks, else UTF-8 line by line."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            return _decode_wide(data, name, codec)
    head = data[:8192]
    if b"\x00" in head or _controls(head) > len(head) * 0.01:
        raise _binary(name)
    body = data[3:] if data.startswith(_BOM) else data
    label = "utf-8-sig" if body is not data else "utf-8"
    try:
        return _Text(body.decode("utf-8"), label, body)
    except UnicodeDecodeError:
        pass
    # Invalid bytes become lone surrogates (U+DC80-U+DCFF): every line holding one is a
    # line that is not UTF-8, and only those lines are read as Latin-1, so a name
    # written correctly elsewhere in the file keeps its accents.
    if not _may_hold_utf8(body):  # nothing is UTF-8 beyond ASCII: a Latin-1 file
        return _Text(body.decode("latin-1"), "latin-1")
    text = body.decode("utf-8", errors="surrogateescape")
    if _NOT_LATIN.search(_ESCAPED_LINE.sub("", text)) is None:
        # only lines that are not UTF-8 hold more than ASCII: a Latin-1 file too
        return _Text(body.decode("latin-1"), "latin-1")
    escaped, starts = text, []

    def as_latin(line: re.Match) -> str:
        starts.append(line.start())
        return line.group().encode("utf-8", errors="surrogateescape").decode("latin-1")

    text = _ESCAPED_LINE.sub(as_latin, escaped)
    lines = [_line_number(escaped, start) for start in starts[:_BAD_LINES_SHOWN]]
    if len(starts) == 1:
        where = f"Line {lines[0]} of {name} is not valid UTF-8 and was"
    else:
        shown = ", ".join(map(str, lines)) + (", ..." if len(starts) > len(lines) else "")
        where = f"{len(starts):,} lines of {name} are not valid UTF-8 (lines {shown}) and were"
    note = (f"{where} read as Latin-1: check the accented letters there, or save the file "
            "again as UTF-8.")
    return _Text(text, label, None, note)


def _may_hold_utf8(data: bytes) -> bool:
    """Whether some byte that starts a UTF-8 character of several bytes is followed by a
    continuation byte: False proves no character beyond ASCII is valid UTF-8."""
    buf = np.frombuffer(data, dtype=np.uint8)
    for offset in range(0, buf.size, _SCAN_BLOCK):  # blocks overlap by a byte
        block = buf[offset:offset + _SCAN_BLOCK + 1]
        if np.any((block[:-1] >= 0xC2) & ((block[1:] & 0xC0) == 0x80)):
            return True
    return False


def _decode_wide(data: bytes, name: str, codec: str) -> _Text:
    """A UTF-32 or UTF-16 file (Excel's "Unicode text" export), its byte order mark dropped."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise SegmentationError(
            f"{name} is marked as {_ENCODING_NAMES[codec]} text but byte {exc.start + 1:,} is "
            "not valid there: save it again as UTF-8 CSV."
        ) from None
    head = text[:8192]
    if _controls(head.encode("latin-1", errors="replace")) > len(head) * 0.01:
        raise _binary(name)
    return _Text(text, codec)


def _controls(head: bytes) -> int:
    """Control characters other than tab, line breaks and form feed: rare in any table."""
    return sum(b < 9 or 13 < b < 32 for b in head)


def _binary(name: str) -> SegmentationError:
    return SegmentationError(
        f"{name} is not a table (it looks like a binary file): "
        "upload a CSV, TSV, Excel (.xlsx) or Parquet export."
    )


def _line_number(text: str, position: int) -> int:
    """The file line a character is on, counting line ends as the csv module does."""
    return len(_LINE_BREAK.findall(text, 0, position)) + 1


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


def _first_lines(text: str, count: int) -> list[str]:
    """``text.splitlines()[:count]``, splitting only as much of the text as that needs."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        # With more than `count` lines in the prefix, the first `count` end inside it.
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def _read_text(data: bytes, name: str) -> RawTable:
    decoded = _decode(data, name)
    text, encoding = decoded.text, decoded.encoding
    head = [line for line in _first_lines(text, _SNIFF_LINES * 4) if line.strip()]
    if not head:
        raise SegmentationError(
            f"{name} is empty: export the customer table again and upload the new file."
        )
    delimiter = _sniff_delimiter(head[:_SNIFF_LINES])
    separator = delimiter or "\x1f"
    try:  # refused before the parsing, which is what takes the time
        width = len(next(csv.reader(head[:1], delimiter=separator)))
    except csv.Error:
        width = 0  # a cell the csv module refuses: reported by the parsing
    if width > MAX_COLUMNS:
        raise _too_wide(name, width)
    utf8 = decoded.utf8 if decoded.utf8 is not None else text.encode("utf-8")
    parsed = _parse_columns(utf8, separator)
    if parsed is None:  # quoting only the csv module reads exactly, or a cell it refuses
        parsed = _parse_rows(text, separator, name)
    frame, rows_read, malformed, lines = parsed
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
        notes=(decoded.note,) if decoded.note else (),
    )


def _parse_rows(text: str, separator: str, name: str):
    """Row by row with the csv module: the reference behaviour, for files the fast path declines."""
    # One reader over the whole text, so a quoted cell may hold a line break;
    # a record's line number is the line it starts on.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
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
    except csv.Error as exc:  # e.g. a field over the size limit
        raise SegmentationError(
            f"{name} cannot be read as a table near line {start} ({exc}): "
            "export it again as CSV."
        ) from None
    frame = _tidy(pd.DataFrame(records, columns=header, dtype=object))
    return frame, rows_read, malformed, lines


@dataclass(frozen=True)
class _Records:
    """Where each record of a delimited file lies, as the csv module splits it."""

    starts: np.ndarray  # byte offset of the record's first character
    ends: np.ndarray  # byte offset just past its last character (before the line break)
    lines: np.ndarray  # file line the record starts on (1-based)
    quotes: np.ndarray  # byte offsets of the quote characters, opening and closing in turn
    quoted_breaks: bool  # whether some quoted cell holds a line break


def _positions(buf: np.ndarray, byte: int) -> np.ndarray:
    """Offsets of one byte value, a block at a time (no file-sized temporary array)."""
    found, hits = [], np.empty(min(buf.size, _SCAN_BLOCK), dtype=bool)
    for offset in range(0, buf.size, _SCAN_BLOCK):
        block = buf[offset:offset + _SCAN_BLOCK]
        np.equal(block, byte, out=hits[:block.size])
        found.append(np.flatnonzero(hits[:block.size]) + offset)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def _records(buf: np.ndarray, raw: bytes, separator: str) -> _Records | None:
    """Split the bytes into records the way Python's csv module does, or None if unsure.

    The csv module ends a line at ``\\r\\n``, ``\\r`` or ``\\n``, and a record at a
    line end outside quotes. A quote opens a quoted section only at the start of a
    field; inside one, ``""`` is a literal quote. When every quote is either at the
    start of a field or closes a section right before a delimiter, a line end, the
    end of the file or a doubled quote, quotes simply alternate between opening and
    closing, and whether a byte is quoted is the parity of the quotes before it.
    Other quoting (a quote inside an unquoted cell, text after a closing quote, an
    unclosed quote) is left to the csv module.
    """
    size, sep = buf.size, ord(separator)
    breaks = _positions(buf, 10)
    if b"\r" in raw:  # a line feed right after a carriage return ends the same line
        breaks = np.sort(np.concatenate((
            _positions(buf, 13), breaks[(breaks == 0) | (buf[breaks - 1] != 13)])))
    quotes = _positions(buf, 34) if b'"' in raw else np.empty(0, dtype=np.int64)
    record_ends = breaks
    if quotes.size:
        if quotes.size % 2:
            return None
        opening, closing = quotes[0::2], quotes[1::2]
        before = buf[opening - 1]
        after = buf[np.minimum(closing + 1, size - 1)]
        opens_field = (opening == 0) | (before == sep) | (before == 10) | (before == 13) | (
            before == 34)
        closes_field = (closing == size - 1) | (after == sep) | (after == 10) | (after == 13) | (
            after == 34)
        if not (opens_field.all() and closes_field.all()):
            return None
        record_ends = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
    crlf = (buf[record_ends] == 13) & (buf[np.minimum(record_ends + 1, size - 1)] == 10) & (
        record_ends + 1 < size)
    starts = np.concatenate(([0], record_ends + 1 + crlf))
    ends = np.concatenate((record_ends, [size]))
    if starts[-1] == size:  # the file ends with a line break: no record after it
        starts, ends = starts[:-1], ends[:-1]
    quoted_breaks = breaks.size != record_ends.size
    # a record's line: one plus the line breaks before it, quoted ones included
    lines = (np.searchsorted(breaks, starts) + 1 if quoted_breaks
             else np.arange(1, starts.size + 1))
    return _Records(starts, ends, lines, quotes, quoted_breaks)


def _count_fields(buf: np.ndarray, separator: str, rec: _Records) -> np.ndarray:
    """Delimiters outside quotes, plus one, per record; a block of records at a time."""
    starts, ends = rec.starts, rec.ends
    fields = np.ones(starts.size, dtype=np.int64)
    sep = ord(separator)
    opening, closing = rec.quotes[0::2], rec.quotes[1::2]
    first = 0
    while first < starts.size:
        offset = int(starts[first])
        last = max(first + 1, int(np.searchsorted(starts, offset + _SCAN_BLOCK)))
        stop = int(ends[last - 1])
        hits = np.flatnonzero(buf[offset:stop] == sep) + offset
        fields[first:last] += np.diff(np.searchsorted(hits, ends[first:last]), prepend=0)
        if opening.size:  # quoted sections lie inside records, so inside the block
            low, high = np.searchsorted(opening, [offset, stop])
            quoted = (np.searchsorted(hits, closing[low:high])
                      - np.searchsorted(hits, opening[low:high]))
            record = np.searchsorted(starts[first:last], opening[low:high], side="right") - 1
            fields[first:last] -= np.bincount(record, weights=quoted,
                                              minlength=last - first).astype(np.int64)
        first = last
    return fields


def _match_rows(buf: np.ndarray, rec: _Records, rows: list[tuple[int, str]]) -> dict | None:
    """The records whose text is that of the given rows, with the rows' field counts.

    Records with the same text have the same fields, so every record matching a
    row pyarrow set aside is one it set aside: with as many matches as rows, these
    are exactly its records. None when there are not as many (a different split).
    """
    lengths = rec.ends - rec.starts
    texts: dict[bytes, int] = {}
    for fields, text in rows:
        texts[text.encode("utf-8")] = fields
    found, budget = {}, 2 * buf.size + (1 << 24)  # bytes compared, about what counting costs
    for length in {len(text) for text in texts}:
        same = np.flatnonzero(lengths == length)
        for text in (t for t in texts if len(t) == length):
            if not length:
                return None
            expected = np.frombuffer(text, dtype=np.uint8)
            cands = same[(buf[rec.starts[same]] == expected[0])
                         & (buf[rec.starts[same] + length - 1] == expected[-1])]
            budget -= cands.size * length
            if budget < 0:
                return None  # many records alike: counting delimiters is quicker
            step = max(1, (1 << 24) // length)  # compare at most ~16 MB of bytes at once
            for i in range(0, cands.size, step):
                part = cands[i:i + step]
                window = buf[rec.starts[part][:, None] + np.arange(length)]
                for k in part[(window == expected).all(axis=1)]:
                    found[int(k)] = texts[text]
    return found if len(found) == len(rows) else None


def _parse_columns(raw: bytes, separator: str):
    """Parse UTF-8 delimited text with pyarrow; None where only the csv module can be exact."""
    if raw.startswith(_BOM):  # pyarrow would drop a second byte order mark the csv module keeps
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    rec = _records(buf, raw, separator)
    if rec is None:
        return None
    empty = rec.starts == rec.ends

    def fields_of(k: int) -> list[str]:
        return next(csv.reader([raw[rec.starts[k]:rec.ends[k]].decode("utf-8")],
                               delimiter=separator), [])

    def blank(row: list[str]) -> bool:
        return not row or (len(row) == 1 and not row[0].strip())

    try:
        header = next((int(k) for k in np.flatnonzero(~empty) if not blank(fields_of(int(k)))),
                      None)
        if header is None:
            return _tidy(pd.DataFrame([], dtype=object)), 0, [], []
        width = len(fields_of(header))
    except csv.Error:  # a cell over the field size limit: the csv module reports it
        return None
    set_aside = []  # (fields, text) of the rows pyarrow skips for their number of fields

    def set_row_aside(row) -> str:
        set_aside.append((row.actual_columns, row.text))
        return "skip"

    names = [f"f{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(raw),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=max(
                1 << 20, 2 * int((rec.ends - rec.starts).max()))),  # a record fits in a block
            parse_options=pa_csv.ParseOptions(
                delimiter=separator,
                newlines_in_values=rec.quoted_breaks,
                invalid_row_handler=set_row_aside,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    # Fields per record: `width` for the records pyarrow kept, the count it gave for the
    # ones it set aside (found by their text, or by counting delimiters when many).
    fields = np.full(rec.starts.size, width, dtype=np.int64)
    matched = _match_rows(buf, rec, set_aside) if len(set_aside) <= _MATCH_ROWS else None
    if matched is not None:
        fields[list(matched)] = list(matched.values())
    else:
        fields = _count_fields(buf, separator, rec)
    rows = np.flatnonzero(~empty & (fields == width))  # the record behind each of pyarrow's rows
    if table.num_rows != rows.size or len(set_aside) != int(np.count_nonzero(~empty)) - rows.size:
        return None  # pyarrow split the text differently from the scan: read it row by row
    if _over_field_limit(table, rec, set_aside):
        return None  # the csv module reports a cell this long as an error
    after = np.arange(rec.starts.size) > header
    blank_line = empty.copy()
    if width == 1:
        trimmed = pc.utf8_trim(table.column(0), _WHITESPACE)
        blank_line[rows] = pc.equal(trimmed, "").to_numpy()
    else:  # cells within the field size limit here, as _over_field_limit checked
        for k in np.flatnonzero(after & (fields == 1) & ~empty):
            blank_line[k] = blank(fields_of(int(k)))
    data = after & ~blank_line
    valid = data & (fields == width)
    keep = (rows > header) & ~blank_line[rows]
    header_row = int(np.searchsorted(rows, header))
    labels = [table.column(i)[header_row].as_py() for i in range(width)]
    kept = np.flatnonzero(keep)
    if kept.size == 0 or kept[-1] - kept[0] + 1 == kept.size:  # one run of rows: no copy
        table = table.slice(kept[0] if kept.size else 0, kept.size)
    else:
        table = table.filter(pa.array(keep))
    with ThreadPoolExecutor(max_workers=_workers()) as pool:  # pyarrow releases the GIL
        columns = list(pool.map(_clean_text, table.columns))
    out = dict(zip(_column_names(labels), columns, strict=True))
    return (pd.DataFrame(out, copy=False), int(data.sum()), rec.lines[data & ~valid].tolist(),
            rec.lines[valid].tolist())


def _over_field_limit(table: pa.Table, rec: _Records, set_aside: list) -> bool:
    """Whether some cell is longer than the csv module's field size limit."""
    limit = csv.field_size_limit()
    if not rec.starts.size or int((rec.ends - rec.starts).max()) <= limit:
        return False  # no record is that long (a character takes a byte or more)
    if any(len(text) > limit for _, text in set_aside):
        return True
    return any((pc.max(pc.utf8_length(column)).as_py() or 0) > limit for column in table.columns)


def _clean_text(column: pa.ChunkedArray) -> pd.Series:
    """A text column as read: cells stripped, missing markers as NaN."""
    if _repetitive(column):  # one Python string per distinct value
        return pd.Series(_by_value(column, _clean_strings), dtype=object, copy=False)
    return pd.Series(_clean_strings(column), dtype=object, copy=False)


def _clean_strings(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Python strings stripped as ``str.strip`` does, NaN for a missing marker."""
    trimmed = pc.utf8_trim(arr, _WHITESPACE)
    values = trimmed.to_numpy(zero_copy_only=False)
    # no missing marker is longer than four bytes: look up only the short cells
    short = np.flatnonzero(_mask(pc.less_equal(pc.binary_length(trimmed), _MARKER_BYTES)))
    if short.size:
        missing = short[_mask(pc.is_in(trimmed.take(short), value_set=_MARKER_SPELLINGS))]
        values[missing] = np.nan
    return values


def _column_names(columns) -> list[str]:
    """Unique, stripped names; ``column_N`` for blank and pandas' ``Unnamed:`` ones."""
    names, seen = [], {}
    for i, col in enumerate(columns):
        label = str(col).strip() if col is not None and str(col).strip() else f"column_{i + 1}"
        if label.startswith("Unnamed:"):
            label = f"column_{i + 1}"
        count = seen.get(label, 0)
        seen[label] = count + 1
        names.append(label if count == 0 else f"{label}.{count}")
    return names


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Unique, stripped column names; stripped text; missing markers as missing."""
    out = {}
    for i, label in enumerate(_column_names(frame.columns)):
        series = frame.iloc[:, i]  # by position: the raw header may repeat a name
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            cleaned = _clean_objects(series.to_numpy(dtype=object))
            if series.dtype == object:
                # the values as Series.map returns them: pandas' conversion of the results
                # (a column of numbers becomes numeric, of dates datetime), then back to objects
                series = pd.Series(_pandas_lib.maybe_convert_objects(cleaned), copy=False)
            else:
                series = pd.Series(pd.array(cleaned, dtype=series.dtype))
            series = series.astype(object)
        out[label] = series.reset_index(drop=True)
    return pd.DataFrame(out)


def _instances(values: np.ndarray, kind) -> np.ndarray:
    """``isinstance(value, kind)`` for each value of an object array."""
    return np.fromiter(map(isinstance, values, itertools.repeat(kind)), dtype=bool,
                       count=len(values))


def _clean_objects(values: np.ndarray) -> np.ndarray:
    """None and NaN as NaN; text stripped, missing markers as NaN; anything else as it is."""
    cleaned = values.copy()
    nothing = np.fromiter(map(operator.is_, values, itertools.repeat(None)), dtype=bool,
                          count=len(values))
    cleaned[nothing | (_instances(values, float) & pd.isna(values))] = np.nan
    text = _instances(values, str)
    if text.any():
        stripped = pd.Series(values[text], dtype=object).str.strip()
        marker = stripped.str.lower().isin(list(MISSING_MARKERS)).to_numpy(dtype=bool)
        stripped = np.array(stripped, dtype=object)
        stripped[marker] = np.nan
        cleaned[text] = stripped
    return cleaned


def _detect_decimal(frame: pd.DataFrame) -> str:
    """"," when numbers like ``12,5`` or ``1.234,50`` outnumber ones like ``12.50``."""
    # The first 200 values present in each column, looking no further than needed: the
    # first 256 rows of every column at once (a file may have thousands of columns),
    # then further down the few columns with fewer values there.
    block = frame.head(256).to_numpy(dtype=object)
    present = ~pd.isna(block)
    taken = np.cumsum(present, axis=0)
    samples = [block.T[(present & (taken <= 200)).T]]
    if len(frame) > 256:
        for i in np.flatnonzero(taken[-1] < 200):
            column, size = frame.iloc[:, i], 1024
            while True:
                sample = column.head(size).dropna().head(200)
                if len(sample) >= 200 or size >= len(column):
                    break
                size *= 4
            samples.append(list(sample))
    values = np.array([None, *itertools.chain.from_iterable(samples)], dtype=object)[1:]
    # each distinct cell once, weighted by how often it occurs: a wide file's samples
    # repeat their values, and the patterns run in Python cell by cell
    counts = pd.Series(values[_instances(values, str)], dtype=object).value_counts()
    if counts.empty:
        return "."
    tokens = counts.index.to_series().str.replace(_CURRENCY, "", regex=True)
    comma = int(counts[tokens.str.match(_COMMA_HINT).to_numpy(dtype=bool)].sum())
    dot = int(counts[tokens.str.match(_DOT_HINT).to_numpy(dtype=bool)].sum())
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
    return pd.Series(_parse_values(series, decimal), index=series.index, name=series.name)


def numeric_share(series: pd.Series, decimal: str = ".") -> float:
    """Share of the non-missing values that parse as numbers (1.0 for an empty column)."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        present = series.dropna()
        if present.empty:
            return 1.0
        return float(to_number(present, decimal).notna().mean())
    numbers, missing = _parse_values(series, decimal, count_missing=True)
    if missing == len(numbers):
        return 1.0
    # the mean of a boolean Series is this same division
    return np.count_nonzero(~np.isnan(numbers)) / (len(numbers) - missing)


def _parse_values(series: pd.Series, decimal: str, count_missing: bool = False):
    """:func:`to_number` of a column that is not numeric, as a float array.

    With ``count_missing``, also the number of missing values (as ``Series.isna``
    counts them; pyarrow's nulls are the same values).
    """
    if isinstance(series.dtype, pd.StringDtype):
        arr = pa.array(series.array)
        numbers = _parse_strings(arr, decimal)
        return (numbers, arr.null_count) if count_missing else numbers
    values = series.to_numpy(dtype=object)
    arr = None
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        try:  # text and missing values only
            arr = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, UnicodeError):
            arr = None  # a missing value pyarrow does not know, or a lone surrogate
    if arr is not None:
        numbers = _parse_strings(arr, decimal)
        return (numbers, arr.null_count) if count_missing else numbers
    numbers = np.full(len(values), np.nan)
    kind = _instances(values, (int, float, np.integer, np.floating))  # bool is an int
    if kind.any():
        numbers[kind] = values[kind].astype(np.float64)
    text = _instances(values, str)
    if text.any():
        try:
            strings = pa.array(values[text], type=pa.string())
        except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate, not valid UTF-8
            numbers[text] = [_parse_text(value, decimal) for value in values[text]]
        else:
            numbers[text] = _parse_strings(strings, decimal)
    return (numbers, int(pd.isna(values).sum())) if count_missing else numbers


def _parse_text(value: str, decimal: str) -> float:
    """One cell, with the Python patterns: the definition the column-wise parsing follows."""
    return _parse_token(_CURRENCY.sub("", value), decimal)


def _parse_token(token: str, decimal: str) -> float:
    """A cell without its currency signs and spaces, as a number (NaN if it is not one)."""
    pattern = _COMMA_DECIMAL if decimal == "," else _DOT_DECIMAL
    if not pattern.match(token):
        return np.nan
    token = token.replace("." if decimal == "," else ",", "")
    if decimal == ",":
        token = token.replace(",", ".")
    return float(token)


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean result as a numpy mask, missing as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _repetitive(arr: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a column repeats its values enough to work on its distinct values only."""
    if len(arr) < 4 * _SAMPLE:
        return False
    head = arr.slice(0, _SAMPLE)
    return pc.count_distinct(head).as_py() * 2 <= len(head) - head.null_count


def _by_value(arr: pa.Array | pa.ChunkedArray, work) -> np.ndarray:
    """``work`` done once per distinct value of a string array, spread back to every cell.

    ``work`` takes a pyarrow string array and returns a numpy array as long; a missing
    cell gets ``work``'s result for a missing value.
    """
    encoded = pc.dictionary_encode(arr)
    if isinstance(encoded, pa.ChunkedArray):
        chunks = encoded.unify_dictionaries().chunks
        dictionary = chunks[0].dictionary if chunks else pa.array([], pa.string())
        indices = pa.chunked_array([c.indices for c in chunks], pa.int32())
    else:
        dictionary, indices = encoded.dictionary, encoded.indices
    words = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    positions = pc.fill_null(indices, len(dictionary)).to_numpy()
    return work(words)[positions]


def _parse_strings(arr: pa.Array | pa.ChunkedArray, decimal: str) -> np.ndarray:
    """:func:`_parse_text` of every cell of a pyarrow string array (missing cells: NaN)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if _repetitive(arr):
        return _by_value(arr, lambda words: _parse_strings(words, decimal))
    if len(arr) >= _PARALLEL_CELLS and _workers() > 1:
        # pyarrow's kernels release the GIL: the halves of a long column run side by side
        middle = len(arr) // 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            halves = list(pool.map(lambda part: _parse_distinct(part, decimal),
                                   [arr.slice(0, middle), arr.slice(middle)]))
        return np.concatenate(halves)
    return _parse_distinct(arr, decimal)


def _workers() -> int:
    return min(2, os.cpu_count() or 1)


def _parse_distinct(arr: pa.Array, decimal: str) -> np.ndarray:
    """:func:`_parse_strings` of an array whose values mostly differ."""
    pattern = _ARROW_COMMA_DECIMAL if decimal == "," else _ARROW_DOT_DECIMAL
    out = np.full(len(arr), np.nan)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    # 1. Plain digits are numbers as they are.
    found = _mask(pc.ascii_is_decimal(arr))
    if np.array_equal(found, valid):
        out[found] = _as_floats(arr.filter(found), decimal)
        return out
    # 2. So are cells that match the pattern once the currency signs and spaces
    # around the number are trimmed ("$1,234.50", "12,5 €"): only those characters
    # go, as with the Python pattern.
    trimmed = pc.utf8_trim(arr, _CURRENCY_SIGNS)
    found = _mask(pc.match_substring_regex(trimmed, pattern))
    if found.any():
        out[found] = _as_floats(trimmed.filter(found), decimal)
    # 3. Other cells made only of characters a number may hold: remove every currency
    # sign, space and currency code, as the Python pattern does, then match.
    rest = np.flatnonzero(valid & ~found)
    if rest.size:
        rest = rest[_mask(pc.match_substring_regex(arr.take(rest), _ARROW_MAYBE_NUMBER))]
    if rest.size:
        cleaned = pc.replace_substring_regex(arr.take(rest), _ARROW_CURRENCY, "")
        ascii_text = _mask(pc.string_is_ascii(cleaned))
        ok = ascii_text & _mask(pc.match_substring_regex(cleaned, pattern))
        if ok.any():
            out[rest[ok]] = _as_floats(cleaned.filter(ok), decimal)
        # What is left and not ASCII may be written with digits of another script,
        # which only Python's \d knows; a letter other than an exponent's e rules
        # that out (no digit is a letter).
        other = np.flatnonzero(~ascii_text)
        if other.size:
            other = other[~_mask(pc.match_substring_regex(cleaned.take(other), r"[^\P{L}eE]"))]
        if other.size:
            out[rest[other]] = _python_numbers(cleaned.take(other).to_numpy(
                zero_copy_only=False), decimal)
    return out


def _python_numbers(tokens: np.ndarray, decimal: str) -> np.ndarray:
    """:func:`_parse_token` of each token, with pandas' string methods and Python's patterns."""
    tokens = pd.Series(tokens, dtype=object)
    numbers = np.full(len(tokens), np.nan)
    match = tokens.str.match(_COMMA_DECIMAL if decimal == "," else _DOT_DECIMAL).to_numpy(
        dtype=bool)
    if match.any():
        found = tokens[match].str.replace("." if decimal == "," else ",", "", regex=False)
        if decimal == ",":
            found = found.str.replace(",", ".", regex=False)
        numbers[match] = found.to_numpy(dtype=object).astype(np.float64)  # float() of each
    return numbers


def _as_floats(numbers: pa.Array, decimal: str) -> np.ndarray:
    """Cells that match the number pattern (ASCII, no currency signs) as floats."""
    thousands = "." if decimal == "," else ","
    if pc.any(pc.match_substring(numbers, thousands)).as_py():
        numbers = pc.replace_substring(numbers, thousands, "")
    if decimal == ",":
        numbers = pc.replace_substring(numbers, ",", ".")
    return pc.cast(numbers, pa.float64()).to_numpy(zero_copy_only=False)
