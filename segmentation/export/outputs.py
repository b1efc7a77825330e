"""Files for people and machines: assignments, profiles, the run summary, the model.

Every text cell written to CSV is neutralised against spreadsheet formula
injection: every line of a cell that begins with ``=``, ``+``, ``-``, ``@`` or
tab gets a leading apostrophe, unless it is a plain number; and every field
holding a line break (a carriage return included) is quoted, so no reader
can split it into a new row whose first cell is a formula.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmentation._version import __version__
from segmentation.config import (
    CSV_BLOCK_ROWS,
)
from segmentation.describe.drivers import run_drivers
from segmentation.errors import SegmentationError
from segmentation.export.assignments import customer_assignments
from segmentation.export.formats import MODEL_FORMAT, MODEL_VERSION
from segmentation.pipeline import SegmentationResult

_FORMULA_START = ("=", "+", "-", "@", "\t")
_CELL_START = (*_FORMULA_START, "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def neutralise(value):
    """Make a cell safe to open in a spreadsheet; numbers and safe text pass unchanged.

    A cell starting with a formula character (or tab or carriage return) gets a
    leading apostrophe unless it is a plain number; so does every later line of
    a multi-line cell, since a reader that splits the cell at its line break
    would otherwise start a row with a formula.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\"http://x\")")
    '\'=HYPERLINK("http://x")'
    >>> neutralise("-12.5"), neutralise("007")
    ('-12.5', '007')
    >>> neutralise("ok\r=cmd|' /C calc'!A0")
    "ok\r'=cmd|' /C calc'!A0"
    """
    if not isinstance(value, str):
        return value
    parts = _LINE_BREAK.split(value)
    parts[2::2] = [_neutralise_line(p) for p in parts[2::2]]
    out = "".join(parts)
    if value.startswith(_CELL_START) and not _PLAIN_NUMBER.fullmatch(value):
        out = "'" + out
    return out


def _neutralise_line(line: str) -> str:
    unsafe = line.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(line)
    return "'" + line if unsafe else line


def restore(value):
    """Undo :func:`neutralise`: drop the apostrophes it adds, and only those."""
    if not isinstance(value, str) or "'" not in value:
        return value
    parts = _LINE_BREAK.split(value)
    parts[2::2] = [p[1:] if p.startswith("'") and _neutralise_line(p[1:]) == p else p
                   for p in parts[2::2]]
    plain = "".join(parts)
    for candidate in ((plain[1:],) if plain.startswith("'") else ()) + (plain, value):
        if neutralise(candidate) == value:
            return candidate
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text with every text cell neutralised and every field that holds a
    line break (carriage return included) quoted; missing values are empty."""
    out = io.StringIO()
    _write_rows(frame, out)
    return out.getvalue()


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`csv_text` to ``path`` (UTF-8), a block of rows at a time."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as out:
        _write_rows(frame, out)
    return path


def _write_rows(frame: pd.DataFrame, out) -> None:
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    # Python's csv module quotes a field holding a line feed but not one holding a bare
    # carriage return, which a spreadsheet reads as a line break: the rest of the cell would
    # become a new row. Rows with one are written with every text field quoted.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([neutralise(str(c)) for c in frame.columns])
    for start in range(0, len(frame), CSV_BLOCK_ROWS):
        safe, has_cr = _safe_block(frame.iloc[start:start + CSV_BLOCK_ROWS])
        lines = None if has_cr.any() else _csv_lines(safe)
        if lines is not None:
            out.write(lines)
            continue
        values = safe.astype(object).where(safe.notna(), "")
        rows = values.itertuples(index=False, name=None)
        if not has_cr.any():
            writer.writerows(rows)
            continue
        for row, cr in zip(rows, has_cr, strict=True):
            (quoted if cr else writer).writerow(row)


# The characters for which the csv module quotes a field (delimiter, quote, line feed; a
# bare carriage return it does not quote, and such rows never come here).
_ARROW_QUOTED = r'[,"\n]'


def _csv_lines(safe: pd.DataFrame) -> str | None:
    """The rows of a block as the csv module writes them (``QUOTE_MINIMAL``; a missing cell
    empty, a float by its ``repr``, anything else by ``str``), formatted and joined column
    by column in pyarrow: at a million rows the module's own formatting is seconds of
    Python per cell. None when the block is one the module must write (a single column,
    whose empty field it quotes, or text pyarrow cannot hold)."""
    if safe.shape[1] < 2 or not len(safe):
        return None
    fields = []
    try:
        for col in safe.columns:
            fields.append(pc.fill_null(_csv_fields(safe[col]), ""))
    except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate
        return None
    lines = pc.binary_join_element_wise(*fields, ",")
    return "\n".join(lines.to_pylist()) + "\n"


def _csv_fields(series: pd.Series) -> pa.Array:
    """One column's fields as the csv module writes them; null where the cell is missing."""
    present = series.notna().to_numpy()
    kind = series.dtype.kind
    if kind in "iu":  # the digits str() gives
        return pc.cast(pa.array(series.to_numpy(dtype=object, na_value=None)
                                if not present.all() else series.to_numpy(dtype=np.int64),
                                type=pa.int64()), pa.string())
    cells = np.full(len(series), None, dtype=object)
    if kind == "f":  # repr: the shortest text that reads back as the same float
        cells[present] = list(map(float.__repr__,
                                  series[present].to_numpy(dtype=float).tolist()))
        return pa.array(cells, type=pa.string())
    values = series.to_numpy(dtype=object)[present]
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        values = [repr(v) if isinstance(v, float) else str(v) for v in values]
    cells[present] = values
    text = pa.array(cells, type=pa.string())
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(text, _ARROW_QUOTED), quoted, text)


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and column names) are neutralised."""
    return _safe_block(frame)[0]


def _safe_block(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_safe_frame`, and per row whether any text cell holds a carriage return."""
    out = frame.copy()
    has_cr = np.zeros(len(frame), dtype=bool)
    for col in out.columns:
        if _is_text(out[col]):
            out[col], cr = _neutralised_cells(out[col])
            has_cr |= cr
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out, has_cr


def _neutralised(column: pd.Series) -> pd.Series:
    """:func:`neutralise` on every cell, calling it only on the cells it may change (those
    starting with a formula character or holding a line break): a million customer ids
    are then checked in C instead of one Python call each."""
    return _neutralised_cells(column)[0]


# The cells neutralise may change: those starting with a formula character or a tab, and
# those holding a line break (a carriage return at the start among them).
_ARROW_RISKY = r"^[=+\-@\t]|[\r\n]"


def _neutralised_cells(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """:func:`_neutralised`, and per cell whether it holds a carriage return (only a cell
    neutralise may change can hold one, so only those are looked at in Python)."""
    risky = _risky_text(column)
    if risky is None:
        try:
            risky = (column.str.startswith(_CELL_START, na=False)
                     | column.str.contains(r"[\r\n]", regex=True, na=False)).to_numpy(
                dtype=bool)
        except (AttributeError, TypeError):  # no text here the .str methods can read
            cr = column.map(lambda v: isinstance(v, str) and "\r" in v).to_numpy(bool)
            return column.map(neutralise), cr
    cr = np.zeros(len(column), dtype=bool)
    if not risky.any():
        return column, cr
    values = column.to_numpy(dtype=object, copy=True)
    cr[risky] = [isinstance(v, str) and "\r" in v for v in values[risky]]
    values[risky] = [neutralise(v) for v in values[risky]]
    return pd.Series(values, index=column.index, name=column.name, dtype=object), cr


def _risky_text(column: pd.Series) -> np.ndarray | None:
    """Per cell, whether :func:`neutralise` may change it, found by pyarrow in C; None
    for a column holding anything but text and missing values (or text pyarrow cannot
    hold, such as a lone surrogate)."""
    try:
        if isinstance(column.dtype, pd.StringDtype):
            arr = pa.array(column.array)
        else:
            values = column.to_numpy(dtype=object)
            if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
                return None
            arr = pa.array(values, type=pa.string(), from_pandas=True)
        found = pc.match_substring_regex(arr, _ARROW_RISKY)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def assignments_frame(result: SegmentationResult) -> pd.DataFrame:
    """``customer_id``, ``segment``, ``persona`` of the customers segmented (in memory, for
    comparing runs; the file of every input line is :func:`segmentation.export.assignments.customer_assignments`)."""
    names = {p.segment: p.name for p in result.personas}
    seg = result.segmentation
    return pd.DataFrame({
        "customer_id": pd.Series(seg.customer_ids.astype(str), dtype=object),
        "segment": seg.labels,
        "persona": [names[s] for s in seg.labels],
    })


def _profiles_frame(result: SegmentationResult) -> pd.DataFrame:
    """One row per segment: persona, size, shares, mean and median of every variable."""
    table = result.profiles.table()
    names = {p.segment: p.name for p in result.personas}
    table.insert(1, "persona", table["segment"].map(names))
    claims = {p.segment: "; ".join(c.text for c in p.claims) for p in result.personas}
    table.insert(2, "name_claims", table["segment"].map(claims))
    # A figure the file cannot give (revenue share without spend columns) is left out,
    # not written as an empty column.
    return table.dropna(axis=1, how="all")


def summary_dict(result: SegmentationResult) -> dict:
    """The run in figures: rows, features, metrics per K, chosen K and why, versions."""
    report = result.features.report
    metrics = result.sweep.metrics.replace({np.nan: None}).to_dict(orient="records")
    seg = result.segmentation
    return {
        "input": result.raw.name,
        "rows_read": report.rows_read,
        "rows_kept": int(seg.labels.size),
        "rows_dropped": dict(report.dropped),
        "malformed_lines": list(result.dataset.malformed_lines[:100]),
        "id_column": result.dataset.id_column,
        "columns": [{"column": c, "kind": m.kind, "role": m.role, "reason": m.reason}
                    for c, m in result.dataset.meanings.items()],
        "excluded_columns": result.dataset.excluded_columns,
        "missing_values": report.missing,
        "imputed": report.imputed,
        "outliers": {"policy": report.outlier_policy, "flagged": report.outliers},
        "features": list(result.features.features),
        "scaling": result.features.preparation.scaling,
        "log_scaled": list(result.features.preparation.log_features),
        "left_out_of_default": dict(report.left_out),
        "suggestions": list(report.suggestions),
        "metrics": metrics,
        "silhouette_sample_size": result.sweep.silhouette_sample_size,
        "recommended_k": result.sweep.recommended_k,
        "chosen_k": result.chosen_k,
        "k_reason": result.sweep.reason,
        "silhouette": _finite(seg.silhouette),
        "segments": [
            {"segment": p.segment, "persona": p.name,
             "size": int(seg.sizes[p.segment]), "share": float(seg.shares[p.segment]),
             "claims": [c.to_dict() for c in p.claims]}
            for p in result.personas
        ],
        "warnings": list(result.warnings),
        **_drivers_dict(result),
        "order_log": result.dataset.log.summary() if result.dataset.log is not None else None,
        "seed": result.config.random_state,
        "n_init": result.config.n_init,
        "versions": _versions(),
    }


def _drivers_dict(result: SegmentationResult) -> dict:
    """``drivers`` (one record per variable) and ``drivers_warning`` (a sentence, or null)."""
    drivers, warning = run_drivers(result)
    records = drivers.astype(object).where(drivers.notna(), None).to_dict(orient="records")
    return {"drivers": records, "drivers_warning": warning.message if warning else None}


def _versions() -> dict[str, str]:
    import sklearn

    return {"segmentation": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__}


def model_dict(result: SegmentationResult) -> dict:
    """Everything needed to assign new customers to these segments (and, for segments
    found within strata, the strata: cut-offs or values, and each one's scaling)."""
    out = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "preparation": result.features.preparation.to_dict(),
        "centers": result.segmentation.centers.tolist(),
        "personas": [{"segment": p.segment, "name": p.name} for p in result.personas],
        "seed": result.config.random_state,
        "versions": _versions(),
        # Only another method's model says which it is: a k-means model stays as it was.
        **({"method": result.method_fit.method, "method_params": result.method_fit.params}
           if result.method_fit is not None else {}),
    }
    if result.strata is not None:
        out["strata"] = result.strata.strata.to_dict()
    return out


def write_outputs(result: SegmentationResult, out_dir: str | Path,
                  lifetime=None) -> dict[str, Path]:
    """Write assignments.csv, profiles.csv, summary.json and model.json into ``out_dir``.

    ``assignments.csv`` has a row for every input line, in the schema of
    :mod:`segmentation.export.assignments` (with the lifetime figures when given).
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / name for name in
                 ("assignments.csv", "profiles.csv", "summary.json", "model.json")}
        write_csv(customer_assignments(result, lifetime=lifetime), paths["assignments.csv"])
        write_csv(_profiles_frame(result), paths["profiles.csv"])
        _write_json(paths["summary.json"], summary_dict(result))
        _write_json(paths["model.json"], model_dict(result))
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write the results to {str(out)!r} ({exc.strerror}): choose another folder."
        ) from None
    return paths


def write_scores(scores: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    try:
        if path.parent:
            path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(scores, path)
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write {str(path)!r} ({exc.strerror}): choose another file name."
        ) from None
    return path


def _finite(x: float):
    return float(x) if np.isfinite(x) else None


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=_json_default),
                    encoding="utf-8")


def _json_default(value):
    """``json.dumps`` ``default=`` for numpy numbers and arrays."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")

