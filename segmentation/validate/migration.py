"""Re-running on new data: how customers moved between personas from one quarter to the next.

Two assignment tables (``customer_id``, ``segment``, ``persona``: the
``assignments.csv`` that ``python -m segmentation run`` writes) are compared
customer by customer. Customers are matched by id. Their segments are matched
by persona *name*, because the segment numbers of two separate runs are
arbitrary labels: k-means numbers its clusters in no particular order, so
"segment 2" last quarter and "segment 2" this quarter need not describe the
same kind of customer. Only when a file carries no persona names (the column
is absent or has blank cells) are segment numbers compared, as "Segment N",
and a note says that the comparison is then only meaningful for two files
scored with the same saved model.

Readings
--------
Migration rate, the share of customers in both files whose persona changed,
read per quarter: over 30% is high churn between segments (simplify the
segments: fewer, broader), under 10% is stable personas, anything between is
moderate movement (watch the segments that lose the most).

Population stability index (PSI) of the persona shares: under 0.1 no
significant change, 0.1 to 0.25 a moderate change, over 0.25 a significant
shift.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import (
    HIGH_CHURN_RATE,
    PSI_EPSILON,
    PSI_MODERATE,
    PSI_SIGNIFICANT,
    STABLE_RATE,
)
from segmentation.data.small_csv import read_text_table
from segmentation.errors import SegmentationError
from segmentation.export.outputs import restore, write_csv

HIGH_VALUE_WORDS = ("High-Income", "High Income", "Big Spenders", "Premium")
LAPSED_WORDS = ("Lapsed",)
REQUIRED_COLUMNS = ("customer_id", "segment")
FILE_NAMES = ("migration_matrix.csv", "migration_percent.csv", "migration.json", "movers.csv")
_FORMAT_HINT = ("pass the assignments.csv written by 'python -m segmentation run' "
                "(columns customer_id, segment, persona)")


@dataclass(frozen=True)
class Migration:
    """How the customers of two assignment tables moved between personas.

    Attributes
    ----------
    matrix : DataFrame
        Counts of customers in both files: rows are old personas (index
        ``old_persona``), columns new personas (``new_persona``). Personas
        present on both sides come first, in the same order on both axes, so
        the diagonal holds the customers who kept their persona. No totals.
    row_percent : DataFrame
        ``matrix`` as percentages of each row (each row sums to 100).
    rate : float
        Share of customers in both files whose persona changed; NaN when the
        files have no customer in common.
    reading : str
        The plain reading of ``rate`` (see the module notes).
    psi : float
        Population stability index of the persona shares of the whole files.
    psi_reading : str
    shares : DataFrame
        One row per persona of either file: ``persona``, ``old_share``,
        ``new_share``, ``change`` (new minus old), largest old share first.
    movers : DataFrame
        ``customer_id``, ``old_persona``, ``new_persona`` of the customers who
        moved from a high-value persona to a lapsed one.
    customers_old, customers_new, customers_both, only_old, only_new : int
        Customers in each file, in both, and in one file only.
    basis : str
        ``"persona"`` (names compared) or ``"segment"`` (numbers compared).
    high_value, lapsed : tuple of str
        The persona names counted as high-value and as lapsed.
    notes : tuple of str
        Things the reader should know, e.g. why segment numbers were compared.
    """

    matrix: pd.DataFrame
    row_percent: pd.DataFrame
    rate: float
    reading: str
    psi: float
    psi_reading: str
    shares: pd.DataFrame
    movers: pd.DataFrame
    customers_old: int
    customers_new: int
    customers_both: int
    only_old: int
    only_new: int
    basis: str
    high_value: tuple[str, ...]
    lapsed: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def leaving(self) -> pd.Series:
        """Per old persona, the share of its customers (in both files) now in another persona.

        Largest first: the segments that lose the most.
        """
        total = self.matrix.sum(axis=1).astype(float)
        stayed = pd.Series({p: self.matrix.loc[p, p] if p in self.matrix.columns else 0
                            for p in self.matrix.index}, dtype=float)
        left = (total - stayed) / total
        return left.sort_values(ascending=False, kind="stable")


# --- reading a file -------------------------------------------------------------------------------

def read_assignments(source: bytes | str | Path, name: str | None = None) -> pd.DataFrame:
    """Read an assignments CSV with customer ids kept exactly as text.

    Every cell is read as text (``"007"`` stays ``"007"``), then the
    apostrophe that :func:`segmentation.export.outputs.neutralise` puts before a cell
    starting with ``=``, ``+``, ``-`` or ``@`` is taken off again, so ids such
    as ``=HYPERLINK(...)`` or ``-5x`` come back as they were. (A cell that
    itself began with an apostrophe followed by such a character cannot be
    told apart from a neutralised one and loses its apostrophe.) Comma,
    semicolon and tab separators and a UTF-8 byte order mark are accepted.

    Parameters
    ----------
    source : bytes, str or Path
        The file's bytes, or a path to read them from.
    name : str, optional
        A display name for messages (default: the file name).

    Returns
    -------
    DataFrame
        ``customer_id`` (text), ``segment`` (int), ``persona`` (text, when the
        file has it) and any other columns as text.

    Raises
    ------
    SegmentationError
        If the file cannot be opened, is empty or not a CSV, lacks a required
        column, has blank ids or non-integer segments, or lists an id twice.

    Examples
    --------
    >>> frame = read_assignments(b"customer_id,segment,persona\\n007,1,A\\n'-5x,0,B\\n")
    >>> frame["customer_id"].tolist(), frame["segment"].tolist()
    (['007', '-5x'], [1, 0])
    """
    frame, name = read_text_table(source, _FORMAT_HINT, name=name)
    frame.columns = [restore(str(c).strip()) for c in frame.columns]
    frame = frame.map(restore)
    if "status" in frame.columns:
        # The full export lists customers that were not segmented, with the reason
        # in ``status``; only the segmented ones can migrate.
        frame = frame[frame["status"] == "segmented"].reset_index(drop=True)
    return _validate_assignments(frame, name)


def _validate_assignments(frame: pd.DataFrame, name: str = "the table") -> pd.DataFrame:
    """Check an assignment table and return a clean copy (ids text, segments int).

    Raises
    ------
    SegmentationError
        Naming the missing column, blank ids, non-integer segments or the
        repeated ids, and what to do.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise SegmentationError(
            f"{name} has no {', '.join(repr(c) for c in missing)} column: {_FORMAT_HINT}."
        )
    if frame.empty:
        raise SegmentationError(f"{name} has a header but no customer rows: {_FORMAT_HINT}.")
    out = frame.copy()
    out["customer_id"] = _text(out["customer_id"])
    if "persona" in out.columns:
        out["persona"] = _text(out["persona"])
    blank = out["customer_id"].str.strip() == ""
    if blank.any():
        raise SegmentationError(
            f"{name} has {int(blank.sum())} row(s) without a customer_id (first at data row "
            f"{int(np.flatnonzero(blank.to_numpy())[0]) + 1}): every row needs an id."
        )
    out["segment"] = _segments(out["segment"], name)
    _refuse_duplicates(out["customer_id"], name)
    return out


def _text(series: pd.Series) -> pd.Series:
    return series.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                      else str(v)).astype(object)


def _segments(series: pd.Series, name: str) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    bad = ~np.isfinite(numbers.to_numpy()) | (numbers.to_numpy() % 1 != 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise SegmentationError(
            f"{name} has a segment that is not a whole number ({series.iloc[first]!r} at data "
            f"row {first + 1}): {_FORMAT_HINT}."
        )
    return numbers.astype(np.int64)


def _refuse_duplicates(ids: pd.Series, name: str) -> None:
    repeated = ids[ids.duplicated(keep=False)]
    if repeated.empty:
        return
    counts = repeated.value_counts(sort=False)
    examples = ", ".join(f"{i!r} ({n} times)" for i, n in list(counts.items())[:3])
    raise SegmentationError(
        f"{name} lists {len(counts)} customer id(s) more than once, e.g. {examples}: each "
        "customer must appear once; pass the assignments of a single run."
    )


# --- comparing two tables -------------------------------------------------------------------------

def compare_assignments(old: pd.DataFrame, new: pd.DataFrame,
                        high_value: Iterable[str] | None = None,
                        lapsed: Iterable[str] | None = None) -> Migration:
    """Compare last quarter's assignments with this quarter's.

    Parameters
    ----------
    old, new : DataFrame
        Assignment tables with ``customer_id``, ``segment`` and (preferably)
        ``persona`` columns, one row per customer.
    high_value, lapsed : iterable of str, optional
        Persona names counted as high-value and as lapsed, for the movers
        list. By default they are recognised by name: "High-Income", "Big
        Spenders" or "Premium" make a persona high-value, "Lapsed" makes it
        lapsed (case-insensitive). A name with both, such as "Lapsed
        High-Income Customers", counts as lapsed only: those customers are no
        longer buying.

    Returns
    -------
    Migration

    Raises
    ------
    SegmentationError
        If either table lacks a required column or lists an id twice.

    Examples
    --------
    >>> old = pd.DataFrame({"customer_id": ["1", "2"], "segment": [0, 1],
    ...                     "persona": ["Premium", "Families"]})
    >>> new = pd.DataFrame({"customer_id": ["1", "2"], "segment": [1, 0],
    ...                     "persona": ["Lapsed Customers", "Families"]})
    >>> m = compare_assignments(old, new)
    >>> m.rate, m.movers["customer_id"].tolist()
    (0.5, ['1'])
    """
    old = _validate_assignments(old, "The old assignments")
    new = _validate_assignments(new, "The new assignments")
    basis, notes = _basis(old, new)
    before, after = _labels(old, basis), _labels(new, basis)
    common = before.index[before.index.isin(after.index)]
    matrix = _matrix(before[common], after[common])
    rate = float((before[common] != after[common]).mean()) if len(common) else math.nan
    if not len(common):
        notes.append("The two files have no customer id in common: check that both come from "
                     "the same customer base and use the same ids.")
    shares = _shares(before, after)
    names = list(shares["persona"])
    high, low, unknown = _value_groups(names, high_value, lapsed)
    notes += [f"{p!r} is not a persona in either file." for p in unknown]
    index = _psi(shares["old_share"], shares["new_share"])
    return Migration(
        matrix=matrix, row_percent=matrix.div(matrix.sum(axis=1), axis=0) * 100,
        rate=rate, reading=_migration_reading(rate), psi=index, psi_reading=_psi_reading(index),
        shares=shares, movers=_movers(before[common], after[common], high, low),
        customers_old=len(before), customers_new=len(after), customers_both=len(common),
        only_old=len(before) - len(common), only_new=len(after) - len(common),
        basis=basis, high_value=high, lapsed=low, notes=tuple(notes),
    )


def shares_with_counts(migration: Migration, old: pd.DataFrame, new: pd.DataFrame
                       ) -> pd.DataFrame:
    """``migration.shares`` with each persona's customers in both files beside its shares.

    Columns: ``persona``, ``then`` (customers in ``old``), ``old_share``, ``now``
    (customers in ``new``), ``new_share``, ``change``; a persona absent from one file has 0
    there. ``old`` and ``new`` are the assignment tables ``migration`` was computed from.
    """
    then = old["persona"].value_counts()
    now = new["persona"].value_counts()
    counted = migration.shares.assign(
        then=migration.shares["persona"].map(then).fillna(0).astype(int),
        now=migration.shares["persona"].map(now).fillna(0).astype(int))
    return counted[["persona", "then", "old_share", "now", "new_share", "change"]]


def _basis(old: pd.DataFrame, new: pd.DataFrame) -> tuple[str, list[str]]:
    """Persona names when both tables carry them for every customer, else segment numbers."""
    def named(frame):
        return "persona" in frame.columns and bool((frame["persona"].str.strip() != "").all())

    if named(old) and named(new):
        return "persona", []
    return "segment", ["Persona names are missing from at least one file, so segment numbers "
                       "were compared: this is only meaningful for two files scored with the "
                       "same saved model, since separate runs number their segments arbitrarily."]


def _labels(frame: pd.DataFrame, basis: str) -> pd.Series:
    values = frame["persona"] if basis == "persona" else "Segment " + frame["segment"].astype(str)
    return pd.Series(values.to_numpy(dtype=object), index=pd.Index(frame["customer_id"],
                                                                   dtype=object))


def _matrix(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """Counts, with the personas of both sides first and in the same order on both axes."""
    counts = pd.crosstab(before.to_numpy(), after.to_numpy())
    rows = _by_size(before)
    cols = _by_size(after)
    both = [p for p in rows if p in set(cols)]
    rows = both + [p for p in rows if p not in set(both)]
    cols = both + [p for p in cols if p not in set(both)]
    matrix = counts.reindex(index=rows, columns=cols, fill_value=0).astype(np.int64)
    matrix.index = pd.Index(rows, dtype=object, name="old_persona")
    matrix.columns = pd.Index(cols, dtype=object, name="new_persona")
    return matrix


def _by_size(labels: pd.Series) -> list[str]:
    counts = labels.value_counts()
    return sorted(counts.index, key=lambda p: (-counts[p], p))


def _shares(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    old = before.value_counts(normalize=True)
    new = after.value_counts(normalize=True)
    names = sorted(set(old.index) | set(new.index),
                   key=lambda p: (-old.get(p, 0.0), -new.get(p, 0.0), p))
    frame = pd.DataFrame({
        "persona": pd.Series(names, dtype=object),
        "old_share": [float(old.get(p, 0.0)) for p in names],
        "new_share": [float(new.get(p, 0.0)) for p in names],
    })
    frame["change"] = frame["new_share"] - frame["old_share"]
    return frame


def _value_groups(names: list[str], high_value, lapsed
                  ) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    low = _given(lapsed) if lapsed is not None else _lapsed_personas(names)
    high = (_given(high_value) if high_value is not None
            else tuple(p for p in _high_value_personas(names) if p not in low))
    unknown = [p for p in high + low if p not in set(names)]
    return high, low, unknown


def _given(names: Iterable[str]) -> tuple[str, ...]:
    if isinstance(names, str):  # one name, not its letters
        names = [names]
    return tuple(dict.fromkeys(str(n) for n in names))


def _high_value_personas(names: Iterable[str]) -> tuple[str, ...]:
    """Names containing "High-Income", "Big Spenders" or "Premium" (any case)."""
    return _containing(names, HIGH_VALUE_WORDS)


def _lapsed_personas(names: Iterable[str]) -> tuple[str, ...]:
    """Names containing "Lapsed" (any case)."""
    return _containing(names, LAPSED_WORDS)


def _containing(names: Iterable[str], words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p for p in dict.fromkeys(names)
                 if any(w.casefold() in str(p).casefold() for w in words))


def _movers(before: pd.Series, after: pd.Series, high: tuple[str, ...],
            low: tuple[str, ...]) -> pd.DataFrame:
    moved = before.isin(high) & after.isin(low) & (before != after)
    return pd.DataFrame({
        "customer_id": pd.Series(before.index[moved], dtype=object),
        "old_persona": pd.Series(before[moved].to_numpy(), dtype=object),
        "new_persona": pd.Series(after[moved].to_numpy(), dtype=object),
    })


def _migration_reading(rate: float) -> str:
    """The plain reading of a quarter's migration rate (over 30% high, under 10% stable)."""
    if not np.isfinite(rate):
        return "no customers in both files: migration cannot be measured"
    if rate > HIGH_CHURN_RATE:
        return "high churn between segments: simplify the segments (fewer, broader)"
    if rate < STABLE_RATE:
        return "stable personas"
    return "moderate movement: watch the segments that lose the most"


def _psi(old_shares, new_shares, eps: float = PSI_EPSILON) -> float:
    """Population stability index between two share vectors over the same personas.

    ``PSI = sum((new - old) * ln(new / old))``, with any share below ``eps``
    (a persona missing from one side) raised to ``eps`` (1e-4 by default) so
    the logarithm is defined. Every term is non-negative and the index is
    symmetric in its two arguments.

    Examples
    --------
    >>> round(_psi([0.5, 0.3, 0.2], [0.4, 0.4, 0.2]), 4)
    0.0511
    """
    old = np.maximum(np.asarray(old_shares, dtype=float), eps)
    new = np.maximum(np.asarray(new_shares, dtype=float), eps)
    if old.shape != new.shape:
        raise ValueError("old_shares and new_shares must cover the same personas")
    return float(np.sum((new - old) * np.log(new / old)))


def _psi_reading(value: float) -> str:
    """The usual reading: < 0.1 no significant change, 0.1-0.25 moderate, > 0.25 significant."""
    if value < PSI_MODERATE:
        return "no significant change"
    if value <= PSI_SIGNIFICANT:
        return "moderate change"
    return "significant shift"


# --- profile drift --------------------------------------------------------------------------------

def drift(old_z: pd.DataFrame, new_z: pd.DataFrame, pairs: Mapping[int, int],
          old_means: pd.DataFrame | None = None, new_means: pd.DataFrame | None = None,
          names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """How far each matched segment's centre moved, variable by variable.

    Parameters
    ----------
    old_z, new_z : DataFrame
        Standardized profiles, segments × variables (``Profiles.z``): each
        segment's mean minus the population mean, in population standard
        deviations of its own run.
    pairs : mapping
        ``{new segment: old segment}``, e.g. ``match_segments(...).pairs``
        from :mod:`segmentation.validate.stability`.
    old_means, new_means : DataFrame, optional
        Natural-unit means, segments × variables (``Profiles.means``). Without
        them ``old_mean``, ``new_mean`` and ``change`` are NaN.
    names : mapping, optional
        ``{new segment: persona name}``; default "Segment N".

    Returns
    -------
    DataFrame
        One row per matched pair and variable the two z tables share:
        ``new_segment``, ``old_segment``, ``persona``, ``variable``,
        ``old_mean``, ``new_mean``, ``change`` (new minus old, natural units)
        and ``change_in_sd`` (new z minus old z: the change in how far the
        segment stands from everyone, which ignores a shift of the whole
        population). Within a pair, the largest absolute ``change_in_sd``
        comes first.
    """
    variables = [v for v in new_z.columns if v in old_z.columns]
    frames = [_pair_drift(new_seg, old_seg, variables, old_z, new_z, old_means, new_means,
                          (names or {}).get(new_seg, f"Segment {new_seg}"))
              for new_seg, old_seg in sorted(pairs.items())]
    columns = ["new_segment", "old_segment", "persona", "variable", "old_mean", "new_mean",
               "change", "change_in_sd"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _pair_drift(new_seg, old_seg, variables, old_z, new_z, old_means, new_means, persona):
    for table, seg, which in ((old_z, old_seg, "old"), (new_z, new_seg, "new")):
        if seg not in table.index:
            raise SegmentationError(
                f"Segment {seg} is not in the {which} profiles: pair segments that exist "
                "in both runs (see stability.match_segments)."
            )
    frame = pd.DataFrame({
        "variable": variables,
        "old_mean": _row(old_means, old_seg, variables),
        "new_mean": _row(new_means, new_seg, variables),
        "change_in_sd": (new_z.loc[new_seg, variables].to_numpy(float)
                         - old_z.loc[old_seg, variables].to_numpy(float)),
    })
    frame["change"] = frame["new_mean"] - frame["old_mean"]
    frame.insert(0, "persona", persona)
    frame.insert(0, "old_segment", int(old_seg))
    frame.insert(0, "new_segment", int(new_seg))
    order = np.argsort(-np.abs(frame["change_in_sd"].to_numpy()), kind="stable")
    return frame.iloc[order]


def _row(means: pd.DataFrame | None, seg: int, variables: list[str]) -> np.ndarray:
    if means is None or seg not in means.index:
        return np.full(len(variables), np.nan)
    return means.loc[seg].reindex(variables).to_numpy(float)


# --- output ---------------------------------------------------------------------------------------

def _migration_dict(m: Migration) -> dict:
    """The comparison in figures, for ``migration.json`` (NaN written as null)."""
    return {
        "customers_old": m.customers_old,
        "customers_new": m.customers_new,
        "customers_both": m.customers_both,
        "only_old": m.only_old,
        "only_new": m.only_new,
        "basis": m.basis,
        "migration_rate": _finite(m.rate),
        "reading": m.reading,
        "leaving": {str(p): _finite(v) for p, v in m.leaving().items()},
        "psi": _finite(m.psi),
        "psi_reading": m.psi_reading,
        "shares": [{"persona": r.persona, "old_share": r.old_share, "new_share": r.new_share,
                    "change": r.change} for r in m.shares.itertuples(index=False)],
        "high_value_personas": list(m.high_value),
        "lapsed_personas": list(m.lapsed),
        "movers_high_value_to_lapsed": m.movers["customer_id"].tolist(),
        "notes": list(m.notes),
    }


def write_migration(m: Migration, out_dir: str | Path) -> dict[str, Path]:
    """Write the four comparison files into ``out_dir``; CSV cells are neutralised.

    ``migration_matrix.csv`` holds counts only, without a total row or
    column (a total could be mistaken for a persona, and every cell can be
    summed as it is); ``migration_percent.csv`` holds row percentages rounded
    to two decimals.
    """
    out = Path(out_dir)
    paths = {name: out / name for name in FILE_NAMES}
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_csv(m.matrix.reset_index(), paths["migration_matrix.csv"])
        _write_csv(m.row_percent.round(2).reset_index(), paths["migration_percent.csv"])
        paths["migration.json"].write_text(
            json.dumps(_migration_dict(m), indent=2, allow_nan=False), encoding="utf-8")
        _write_csv(m.movers, paths["movers.csv"])
    except OSError as exc:
        raise SegmentationError(
            f"Cannot write the comparison to {str(out)!r} ({exc.strerror}): "
            "choose another folder."
        ) from None
    return paths


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_csv(frame, path)


def summary_lines(m: Migration) -> list[str]:
    """Two lines for a person: who is in both files and how they moved."""
    rate = "n/a" if not np.isfinite(m.rate) else f"{m.rate:.1%}"
    return [
        f"{m.customers_both} customers in both files ({m.only_old} only in the old, "
        f"{m.only_new} only in the new); {rate} changed {m.basis}: {m.reading}.",
        f"Segment shares: PSI {m.psi:.3f} ({m.psi_reading}); {len(m.movers)} moved from a "
        "high-value persona to a lapsed one.",
    ]


def _finite(x: float):
    return float(x) if np.isfinite(x) else None
