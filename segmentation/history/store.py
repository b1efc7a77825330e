"""Every recorded run in one SQLite file: figures, personas and who was in which segment.

Why SQLite: the studio and the command line may write the same history from several
processes at once (two app sessions saving, a scheduled run). SQLite in write-ahead-log
mode lets readers go on while one writer holds a short lock, and a writer that finds the
lock taken waits (``busy_timeout``) and retries; DuckDB allows one writing process per file
at a time, so a second session would fail instead of waiting.

A persona keeps one *line* through the history: each run's segments are matched by profile
(:func:`segmentation.describe.carry_names.carry_over`) to the latest profile of every line,
so "Wine Lovers" in March and June are one line even when their segment numbers differ,
and a persona renamed in June continues March's line under its new name.

The file's layout is versioned (table ``schema_version``); a file written by an older
version is brought up to date when it is opened, step by step (:data:`_MIGRATIONS`).
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import (
    HISTORY_BUSY_SECONDS,
    HISTORY_FILE,
    HISTORY_MONEY_KINDS,
    HISTORY_OUTCOME_KINDS,
    HISTORY_WRITE_ATTEMPTS,
)
from segmentation.describe.carry_names import PersonaRecord, carry_over
from segmentation.describe.personas import Persona
from segmentation.errors import SegmentationError
from segmentation.pipeline import SegmentationResult

__all__ = ["SCHEMA_VERSION", "History", "RunRecord", "check_history", "default_history_path",
           "history_for_report", "load_history", "record_run", "run_assignments", "run_record",
           "with_run"]

SCHEMA_VERSION = 2
# Statements that take a history from version i to i + 1 (index i). Never edit a step that
# has shipped: files in the field are at that step; add the next one.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: runs, their personas and their assignments
        "CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, "
        "data_name TEXT NOT NULL, fingerprint TEXT NOT NULL, settings TEXT NOT NULL, "
        "k INTEGER NOT NULL, customers INTEGER NOT NULL, silhouette REAL, "
        "calinski_harabasz REAL, davies_bouldin REAL, stability REAL, source TEXT NOT NULL)",
        "CREATE TABLE personas (run_id INTEGER NOT NULL REFERENCES runs(run_id), "
        "segment INTEGER NOT NULL, line INTEGER NOT NULL, name TEXT NOT NULL, "
        "size INTEGER NOT NULL, share REAL NOT NULL, signature TEXT NOT NULL, "
        "PRIMARY KEY (run_id, segment))",
        "CREATE TABLE assignments (run_id INTEGER PRIMARY KEY REFERENCES runs(run_id), "
        "customers INTEGER NOT NULL, ids BLOB NOT NULL, segments BLOB NOT NULL)",
    ),
    (  # 2: each persona's bootstrap stability, and its money and outcome averages
        "ALTER TABLE personas ADD COLUMN stability REAL",
        "CREATE TABLE persona_means (run_id INTEGER NOT NULL REFERENCES runs(run_id), "
        "segment INTEGER NOT NULL, variable TEXT NOT NULL, label TEXT NOT NULL, "
        "kind TEXT NOT NULL, mean REAL, PRIMARY KEY (run_id, segment, variable))",
    ),
)
_CHOOSE = "choose another history file (--history, or the setting on the Export page)"


def default_history_path(out: str | Path) -> Path:
    """Where ``run --out OUT`` keeps its history: ``OUT/../segmentation_history.sqlite``.

    Beside the output folder rather than in it, so the runs of successive quarters written
    to ``q1/``, ``q2/``, ... land in one history and each folder holds only the run's files.
    """
    return Path(out).absolute().parent / HISTORY_FILE


@dataclass(frozen=True)
class RunRecord:
    """What one run adds to the history (see :func:`run_record`).

    ``personas``: segment, name, size, share, stability (NaN when not computed);
    ``signatures``: segments × variables standardized profile; ``means``: segment,
    variable, label, kind, mean of the money and outcome variables; ``assignments``:
    customer_id, segment of every customer segmented.
    """

    created: str
    data_name: str
    fingerprint: str
    settings: dict
    k: int
    customers: int
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float
    stability: float
    source: str
    personas: pd.DataFrame
    signatures: pd.DataFrame
    means: pd.DataFrame
    assignments: pd.DataFrame


@dataclass(frozen=True)
class History:
    """The recorded runs, read back (see :func:`load_history`).

    Attributes
    ----------
    runs : DataFrame
        One row per run, oldest first: ``run_id``, ``created``, ``data_name``,
        ``fingerprint``, ``settings`` (JSON text), ``k``, ``customers``, ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``stability`` (split-half agreement at
        K, NaN when not measured) and ``source`` (``cli`` or ``app``).
    personas : DataFrame
        One row per run and segment: ``run_id``, ``segment``, ``line``, ``name`` (as in
        that run), ``persona`` (the line's latest name), ``size``, ``share``, ``stability``.
    means : DataFrame
        ``run_id``, ``segment``, ``line``, ``persona``, ``variable``, ``label``, ``kind``,
        ``mean``: the money and outcome averages.
    signatures : DataFrame
        Lines × variables: the latest standardized profile of every line.
    path : str
    """

    runs: pd.DataFrame
    personas: pd.DataFrame
    means: pd.DataFrame
    signatures: pd.DataFrame
    path: str

    @property
    def lines(self) -> dict[int, str]:
        """``{line: latest name}``."""
        latest = self.personas.drop_duplicates("line", keep="last")
        return dict(zip(latest["line"].astype(int), latest["name"], strict=True))


# --- a run's record -------------------------------------------------------------------------------

def run_record(result: SegmentationResult, personas: tuple[Persona, ...] | None = None,
               stability: dict[int, float] | None = None, source: str = "cli") -> RunRecord:
    """The figures a run adds to the history.

    Parameters
    ----------
    result : SegmentationResult
    personas : tuple of Persona, optional
        The names as exported (a user's edits); default ``result.personas``.
    stability : dict, optional
        ``{segment: mean bootstrap Jaccard}`` when the bootstrap was computed.
    source : str
        ``"cli"`` or ``"app"``.

    Returns
    -------
    RunRecord
    """
    from segmentation.export.bundle import _config_to_dict

    seg = result.segmentation
    names = {p.segment: p.name for p in (personas or result.personas)}
    stability = stability or {}
    segments = np.arange(result.chosen_k)
    metrics = result.sweep.metrics.set_index("k")
    at_k = metrics.loc[result.chosen_k] if result.chosen_k in metrics.index else None

    def metric(column: str) -> float:
        return float(at_k[column]) if at_k is not None and column in at_k else math.nan

    kinds = set(HISTORY_MONEY_KINDS) | set(HISTORY_OUTCOME_KINDS)
    watched = [v for v, var in result.profiles.variables.items()
               if var.kind in kinds and v in result.profiles.means.columns]
    means = pd.DataFrame([
        {"segment": int(s), "variable": v, "label": result.profiles.variables[v].label,
         "kind": result.profiles.variables[v].kind,
         "mean": float(result.profiles.means.loc[s, v])}
        for s in segments for v in watched],
        columns=["segment", "variable", "label", "kind", "mean"])
    return RunRecord(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        data_name=result.raw.name, fingerprint=result.raw.fingerprint,
        settings=_config_to_dict(replace(result.config, k=result.chosen_k)),
        k=result.chosen_k, customers=int(seg.labels.size), silhouette=float(seg.silhouette),
        calinski_harabasz=metric("calinski_harabasz"), davies_bouldin=metric("davies_bouldin"),
        stability=metric("stability"), source=source,
        personas=pd.DataFrame({
            "segment": segments, "name": [names[int(s)] for s in segments],
            "size": np.asarray(seg.sizes, dtype=np.int64),
            "share": np.asarray(seg.shares, dtype=float),
            "stability": [float(stability.get(int(s), math.nan)) for s in segments]}),
        signatures=result.profiles.z.astype(float),
        means=means,
        assignments=pd.DataFrame({"customer_id": seg.customer_ids.astype(str),
                                  "segment": seg.labels.astype(np.int64)}))


# --- opening ------------------------------------------------------------------------------------

def _not_history(path: Path, why: str) -> SegmentationError:
    return SegmentationError(f"{str(path)!r} is not a run history ({why}): {_CHOOSE}.")


def _connect(path: Path) -> sqlite3.Connection:
    if path.is_dir():
        raise SegmentationError(f"The history {str(path)!r} is a folder: give a file name "
                                f"such as {HISTORY_FILE!r}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun by hand, as BEGIN IMMEDIATE, so a
        # writer takes the lock before reading the lines it will extend.
        con = sqlite3.connect(path, timeout=HISTORY_BUSY_SECONDS, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise SegmentationError(
            f"Cannot open the history {str(path)!r} ({_reason(exc)}): {_CHOOSE}.") from None
    try:
        con.execute(f"PRAGMA busy_timeout = {int(HISTORY_BUSY_SECONDS * 1000)}")
        con.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error:
        con.close()
        raise
    return con


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _upgrade(con: sqlite3.Connection, path: Path) -> None:
    """Bring the file to :data:`SCHEMA_VERSION`, creating it when empty; refuse others."""
    con.execute("BEGIN IMMEDIATE")
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise _not_history(path, "an SQLite database of something else")
            con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            con.execute("INSERT INTO schema_version VALUES (0)")
            version = 0
        else:
            rows = con.execute("SELECT version FROM schema_version").fetchall()
            if len(rows) != 1 or not isinstance(rows[0][0], int) or rows[0][0] < 0:
                raise _not_history(path, "its schema_version table is damaged")
            version = rows[0][0]
        if version > SCHEMA_VERSION:
            raise SegmentationError(
                f"The history {str(path)!r} was written by a newer version of the studio "
                f"(layout {version}, this one reads up to {SCHEMA_VERSION}): upgrade the "
                f"studio, or {_CHOOSE}.")
        for step in range(version, SCHEMA_VERSION):
            for statement in _MIGRATIONS[step]:
                con.execute(statement)
        if version != SCHEMA_VERSION:
            con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _with_history(path: str | Path, work, create: bool):
    """Open the history (upgrading it), call ``work(con)``, close; retry while locked.

    Every SQLite failure becomes one sentence: a file that is not a database, a damaged
    one, or a lock another process held longer than the busy timeout on every attempt.
    """
    path = Path(path)
    if not create and not path.is_file():
        raise SegmentationError(
            f"There is no run history at {str(path)!r}: record runs with 'python -m "
            "segmentation run' (or save one from the Export page), or give the history's "
            "path with --history.")
    for attempt in range(HISTORY_WRITE_ATTEMPTS):
        try:
            con = _connect(path)
            try:
                _upgrade(con, path)
                return work(con)
            finally:
                con.close()
        except sqlite3.OperationalError as exc:
            if _locked(exc) and attempt + 1 < HISTORY_WRITE_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            if _locked(exc):
                raise SegmentationError(
                    f"The history {str(path)!r} stayed locked by another process for "
                    f"{HISTORY_WRITE_ATTEMPTS} tries of {HISTORY_BUSY_SECONDS:.0f} s: close "
                    "the program holding it and run again.") from None
            raise _not_history(path, _reason(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise _not_history(path, _reason(exc)) from None
    raise AssertionError("unreachable")  # the loop returns or raises


def check_history(path: str | Path) -> None:
    """Open (creating or upgrading) the history at ``path``, so a run can refuse a bad
    ``--history`` before it works for minutes.

    Raises
    ------
    SegmentationError
        If the file is not a run history, is from a newer version, or cannot be written.
    """
    _with_history(path, lambda con: None, create=True)


# --- writing ------------------------------------------------------------------------------------

def _pack_ids(ids: pd.Series) -> bytes:
    # Converted in one call, not a Python str() per id: a million ids took 0.6 s that way.
    return zlib.compress(json.dumps(ids.astype(str).tolist()).encode("utf-8"))


def _pack_segments(segments) -> bytes:
    # Little-endian 16-bit: K never exceeds 50 centres, and the file reads the same anywhere.
    return zlib.compress(np.asarray(segments, dtype="<i2").tobytes())


def _signature(row: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in row.items() if np.isfinite(v)}


def _assign_lines(history: History, record: RunRecord) -> dict[int, int]:
    """``{segment: line}`` for a new run: the line whose latest profile matches, else a new one.

    Matching is :func:`segmentation.describe.carry_names.carry_over` against one record per
    line (its latest profile and name).
    """
    # A line profiled on none of this run's variables (another file's run) cannot match.
    shared = history.signatures.reindex(columns=record.signatures.columns).notna().any(axis=1)
    lines = list(history.signatures.index[shared.to_numpy()])
    records = tuple(PersonaRecord(signature=_signature(history.signatures.loc[line]),
                                  fields={"name": history.lines.get(int(line), "")})
                    for line in lines)
    match = carry_over((), record.signatures, records).match
    following = max((int(x) for x in history.signatures.index), default=0) + 1
    out = {}
    for segment in record.personas["segment"].astype(int):
        if segment in match.pairs:
            out[segment] = int(lines[match.pairs[segment]])
        else:
            out[segment] = following
            following += 1
    return out


def _insert(con: sqlite3.Connection, record: RunRecord, lines: dict[int, int]) -> int:
    cur = con.execute(
        "INSERT INTO runs (created, data_name, fingerprint, settings, k, customers, silhouette,"
        " calinski_harabasz, davies_bouldin, stability, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (record.created, record.data_name, record.fingerprint,
         json.dumps(record.settings, sort_keys=True), record.k, record.customers,
         *(_nullable(x) for x in (record.silhouette, record.calinski_harabasz,
                                  record.davies_bouldin, record.stability)), record.source))
    run_id = int(cur.lastrowid)
    con.executemany(
        "INSERT INTO personas (run_id, segment, line, name, size, share, signature, stability)"
        " VALUES (?,?,?,?,?,?,?,?)",
        [(run_id, int(p.segment), lines[int(p.segment)], str(p.name), int(p.size),
          float(p.share), json.dumps(_signature(record.signatures.loc[int(p.segment)])),
          _nullable(p.stability)) for p in record.personas.itertuples(index=False)])
    con.executemany(
        "INSERT INTO persona_means (run_id, segment, variable, label, kind, mean)"
        " VALUES (?,?,?,?,?,?)",
        [(run_id, int(m.segment), str(m.variable), str(m.label), str(m.kind),
          _nullable(m.mean)) for m in record.means.itertuples(index=False)])
    con.execute("INSERT INTO assignments VALUES (?,?,?,?)",
                (run_id, len(record.assignments), _pack_ids(record.assignments["customer_id"]),
                 _pack_segments(record.assignments["segment"])))
    return run_id


def _nullable(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def record_run(path: str | Path, record: RunRecord) -> int:
    """Add a run to the history at ``path`` (created when missing); return its run id.

    The lines are assigned inside the write transaction, so two processes recording at
    once each extend the lines as the other left them.

    Raises
    ------
    SegmentationError
        If the file is not a run history, is from a newer version, or stays locked.
    """
    def work(con):
        con.execute("BEGIN IMMEDIATE")
        try:
            run_id = _insert(con, record, _assign_lines(_read(con, str(path)), record))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return run_id

    return _with_history(path, work, create=True)


# --- reading ------------------------------------------------------------------------------------

def _read(con: sqlite3.Connection, path: str) -> History:
    runs = pd.read_sql_query("SELECT * FROM runs ORDER BY run_id", con)
    personas = pd.read_sql_query(
        "SELECT run_id, segment, line, name, size, share, stability, signature FROM personas "
        "ORDER BY run_id, segment", con)
    means = pd.read_sql_query("SELECT * FROM persona_means ORDER BY run_id, segment", con)
    latest = personas.drop_duplicates("line", keep="last")
    signatures = pd.DataFrame([json.loads(s) for s in latest["signature"]],
                              index=pd.Index(latest["line"].astype(int), name="line"))
    personas = personas.drop(columns="signature")
    names = dict(zip(latest["line"].astype(int), latest["name"], strict=True))
    personas.insert(4, "persona", personas["line"].map(names))
    means = means.merge(personas[["run_id", "segment", "line", "persona"]],
                        on=["run_id", "segment"], how="left")
    for frame in (runs, personas, means):
        for column in frame.columns:
            if frame[column].dtype == object and column not in (
                    "created", "data_name", "fingerprint", "settings", "source", "name",
                    "persona", "variable", "label", "kind"):
                frame[column] = pd.to_numeric(frame[column])
    return History(runs=runs, personas=personas, means=means, signatures=signatures,
                   path=path)


def load_history(path: str | Path) -> History:
    """Read every recorded run at ``path`` (upgrading an older file first).

    Raises
    ------
    SegmentationError
        If there is no file there, or it is not a run history, or it is from a newer version.

    Examples
    --------
    >>> history = load_history("segmentation_history.sqlite")  # doctest: +SKIP
    >>> history.runs[["run_id", "created", "k"]]  # doctest: +SKIP
    """
    return _with_history(path, lambda con: _read(con, str(path)), create=False)


def run_assignments(path: str | Path, run_id: int) -> pd.DataFrame:
    """``customer_id``, ``segment`` of the customers of one recorded run.

    Raises
    ------
    SegmentationError
        If the run is not in the history, or its assignments are damaged.
    """
    def work(con):
        row = con.execute("SELECT customers, ids, segments FROM assignments WHERE run_id = ?",
                          (int(run_id),)).fetchone()
        if row is None:
            raise SegmentationError(
                f"Run {run_id} is not in the history {str(path)!r}: see "
                "'python -m segmentation history list' for the recorded runs.")
        try:
            ids = json.loads(zlib.decompress(row[1]).decode("utf-8"))
            segments = np.frombuffer(zlib.decompress(row[2]), dtype="<i2").astype(np.int64)
        except (zlib.error, ValueError, UnicodeDecodeError):
            ids, segments = None, None
        if ids is None or len(ids) != row[0] or len(segments) != row[0]:
            raise _not_history(Path(path), f"the assignments of run {run_id} are damaged")
        return pd.DataFrame({"customer_id": pd.Series(ids, dtype=object),
                             "segment": segments})

    return _with_history(path, work, create=False)


def with_run(history: History, record: RunRecord) -> History:
    """``history`` with ``record`` added in memory as its next run, lines assigned as
    :func:`record_run` would: a report drawn before the run is recorded shows it already."""
    lines = _assign_lines(history, record)
    run_id = int(history.runs["run_id"].max()) + 1 if len(history.runs) else 1
    run = {"run_id": run_id, "created": record.created, "data_name": record.data_name,
           "fingerprint": record.fingerprint, "settings": json.dumps(record.settings),
           "k": record.k, "customers": record.customers, "silhouette": record.silhouette,
           "calinski_harabasz": record.calinski_harabasz,
           "davies_bouldin": record.davies_bouldin, "stability": record.stability,
           "source": record.source}
    personas = record.personas.assign(run_id=run_id,
                                      line=record.personas["segment"].map(lines))
    names = {**history.lines, **dict(zip(personas["line"], personas["name"], strict=True))}
    personas = pd.concat([history.personas.drop(columns="persona"), personas],
                         ignore_index=True)
    personas.insert(4, "persona", personas["line"].map(names))
    means = pd.concat([history.means.drop(columns="persona"), record.means.assign(
        run_id=run_id, line=record.means["segment"].map(lines))], ignore_index=True)
    means["persona"] = means["line"].map(names)
    latest = record.signatures.rename(index=lines)
    signatures = pd.concat([history.signatures.drop(index=latest.index, errors="ignore"),
                            latest])
    return History(runs=pd.concat([history.runs, pd.DataFrame([run])], ignore_index=True),
                   personas=personas[history.personas.columns], means=means,
                   signatures=signatures, path=history.path)


def history_for_report(path: str | Path | None, result) -> History | None:
    """The history at ``path`` with ``result`` added as its latest run, for a report's
    trend section; None when no earlier run is recorded there (or no file is given)."""
    if path is None or not Path(path).is_file():
        return None
    history = load_history(path)
    if history.runs.empty:
        return None
    return with_run(history, run_record(result))
