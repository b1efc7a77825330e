"""One way to summarise a result: a title, the conclusion, a tidy table and notes.

Every result object of the engine (the K sweep, the segmentation, the profiles, the stability
checks, campaign results, the bandit simulation) has a ``summary()`` method returning a
:class:`Summary`, as statsmodels' results do. The command line prints
:meth:`Summary.as_text`, the report and the pages show its ``verdict`` and ``table``, and
:meth:`Summary.as_dict` is the same content for JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd

# A missing figure in the plain-text table: the report shows missing cells the same way.
MISSING_TEXT = "–"
# Two spaces between columns of the plain-text table, as the inspect command lays them out.
COLUMN_GAP = "  "


@dataclass(frozen=True, eq=False)
class Summary:
    """What a result says: a title, the conclusion in one sentence, its figures, notes.

    Attributes
    ----------
    title : str
        What was done, on what (e.g. the file, the number of customers).
    verdict : str
        The conclusion, in plain words a user reads.
    table : DataFrame
        Tidy, one row per unit (K, segment, policy ...), snake_case columns; may be empty.
        Held as its own copy with a fresh 0..n-1 index, so editing it changes no result.
    notes : tuple of str
        Caveats and warnings, each one sentence.

    Examples
    --------
    >>> s = Summary("K sweep", "K = 3 is recommended.",
    ...             pd.DataFrame({"k": [2, 3], "silhouette": [0.31, 0.42]}))
    >>> print(s.as_text())
    K sweep
    K = 3 is recommended.
    <BLANKLINE>
    k  silhouette
    2        0.31
    3        0.42
    """

    title: str
    verdict: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        # The table is often a result's own frame: a copy keeps the result as it was.
        object.__setattr__(self, "table", self.table.reset_index(drop=True))
        object.__setattr__(self, "notes", tuple(self.notes))

    def __str__(self) -> str:
        return self.as_text()

    def as_text(self) -> str:
        """The summary as a terminal shows it.

        Returns
        -------
        str
            The title, the verdict, a blank line and the table in aligned columns (numbers
            right-aligned, text left-aligned, a missing value as ``MISSING_TEXT``), then
            each note on its own line after ``Note:``. An empty table is left out.
        """
        lines = [self.title, self.verdict]
        if not self.table.empty:
            lines += ["", *_aligned(self.table)]
        if self.notes:
            lines.append("")
            lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """The summary as plain JSON-safe data.

        Returns
        -------
        dict
            ``title``, ``verdict``, ``columns`` (the table's column names, so an empty
            table keeps them), ``table`` (one dict per row) and ``notes`` (a list). NumPy
            scalars become Python numbers; NaN, infinities, ``None`` and pandas' missing
            values become ``None``; dates become ISO 8601 text. ``json.dumps(...,
            allow_nan=False)`` accepts it.
        """
        columns = [str(c) for c in self.table.columns]
        rows = [{c: _plain(v) for c, v in zip(columns, row, strict=True)}
                for row in self.table.itertuples(index=False, name=None)]
        return {"title": self.title, "verdict": self.verdict, "columns": columns,
                "table": rows, "notes": list(self.notes)}


# A column of small floats (shares, agreements) is shown to at most this many places.
MAX_DECIMALS = 6


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, Real) and not isinstance(value, Integral) and not math.isfinite(
        float(value))


def _plain(value):
    """A cell as a JSON-safe Python value."""
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    return value if isinstance(value, str) else str(value)


def _decimals(values: list) -> int | None:
    """Decimals that give a float column's largest value four significant digits.

    One count for the whole column, so its decimal points line up; None for a column
    that is not all floats (each cell is then written on its own).
    """
    present = [v for v in values if not _missing(v)]
    if not present or not all(isinstance(v, Real) and not isinstance(v, (Integral, bool,
                                                                          np.bool_))
                              for v in present):
        return None
    numbers = [float(v) for v in present]
    largest = max(abs(v) for v in numbers)
    if largest == 0:
        return 0
    return int(min(MAX_DECIMALS, max(0, 3 - math.floor(math.log10(largest)))))


def _cell(value, decimals: int | None = None) -> str:
    """A cell as text: thousands separated; floats with ``decimals`` places when given,
    else four significant digits below 1,000."""
    if _missing(value):
        return MISSING_TEXT
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        value = float(value)
        if decimals is not None:
            return f"{value:,.{decimals}f}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _aligned(table: pd.DataFrame) -> list[str]:
    """Header and rows of ``table`` in columns as wide as their widest cell."""
    columns = []
    for name in table.columns:
        dtype = table[name].dtype
        right = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        values = table[name].tolist()
        decimals = _decimals(values)
        cells = [str(name), *(_cell(v, decimals) for v in values)]
        width = max(len(c) for c in cells)
        columns.append([c.rjust(width) if right else c.ljust(width) for c in cells])
    return [COLUMN_GAP.join(row).rstrip() for row in zip(*columns, strict=True)]
