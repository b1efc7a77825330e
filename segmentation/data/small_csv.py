"""Reading small CSV files the tool itself writes or users edit: assignments, campaign results.

Unlike customer exports (see :mod:`segmentation.data.customer_file`), these are read as text
with pandas, every cell a string, and every problem reported in one
sentence that ends with ``hint`` (what the file should look like).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from segmentation.errors import SegmentationError


def read_text_table(source: bytes | str | Path, hint: str, name: str | None = None,
                    default_name: str = "upload") -> tuple[pd.DataFrame, str]:
    """Every cell as text, and the file's name for messages.

    The separator is the one that splits the header most.

    Raises
    ------
    SegmentationError
        If the file cannot be opened, is empty, binary, or not parseable.
    """
    data, name = _read_bytes(source, name, default_name)
    return _parse(_decode(data, name, hint), name, hint), name


def _read_bytes(source, name: str | None, default_name: str) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), name or default_name
    path = Path(source)
    try:
        return path.read_bytes(), name or path.name
    except OSError as exc:
        raise SegmentationError(
            f"Cannot open {str(path)!r} ({exc.strerror}): check the path and try again."
        ) from None


def _decode(data: bytes, name: str, hint: str) -> str:
    if not data.strip():
        raise SegmentationError(f"{name} is empty: {hint}.")
    # A NUL byte never occurs in a text CSV but always in Excel, Parquet or zip files.
    if b"\x00" in data[:8192]:
        raise SegmentationError(f"{name} is not a CSV file (it looks binary): {hint}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on some systems save in Latin-1; every byte decodes.
        return data.decode("latin-1")


def _parse(text: str, name: str, hint: str) -> pd.DataFrame:
    header = next((line for line in text.splitlines() if line.strip()), "")
    # Comma as the tool writes it, or semicolon / tab after a round trip
    # through a spreadsheet.
    sep = max((",", ";", "\t"), key=header.count)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                           skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise SegmentationError(
            f"{name} cannot be read as CSV ({str(exc).strip().splitlines()[-1]}): {hint}."
        ) from None
