"""Time the assignments downloads (XLSX and CSV) on an assignments-shaped table.

Run from the repository root::

    python benchmarks/bench_export.py                  # 100,000 rows
    python benchmarks/bench_export.py --rows 20000,100000

Prints the wall time and the Python heap's peak (tracemalloc) of each writer beside its
target, with "met" or "MISSED"; it never fails.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np
import pandas as pd

from segmentation.export.assignments import XLSX_MAX_ROWS
from segmentation.export.strategy import assignments_csv, assignments_xlsx

# A workshop waits at most this long for a spreadsheet of XLSX_MAX_ROWS rows.
XLSX_TARGET_S = 20.0
# The CSV of a million rows is written in blocks: it should take seconds, not minutes.
CSV_TARGET_S_PER_MILLION = 15.0


def assignments_like(n: int, seed: int = 3) -> pd.DataFrame:
    """A frame with the assignments file's columns and types; 2% of lines excluded."""
    rng = np.random.default_rng(seed)
    segment = pd.array(rng.integers(0, 5, n), dtype="Int64")
    excluded = rng.random(n) < 0.02
    segment[excluded] = pd.NA
    names = np.array(["Loyal big spenders", "Bargain hunters", "=Lapsed", "New", "Families"],
                     dtype=object)
    persona = np.where(excluded, None, names[np.asarray(segment.fillna(0), dtype=int)])
    return pd.DataFrame({
        "customer_id": pd.Series([f"{i:07d}" for i in rng.permutation(n)], dtype=object),
        "segment": segment,
        "persona": pd.Series(persona, dtype=object),
        "status": np.where(excluded, "excluded", "segmented").astype(object),
        "reason": pd.Series(np.where(excluded, "missing income", None), dtype=object),
        "line": pd.array(np.arange(2, n + 2), dtype="Int64"),
        "distance": np.where(excluded, np.nan, rng.random(n) * 3),
        "silhouette": np.where(excluded, np.nan, rng.random(n) - 0.2),
    })


def measure(writer, frame: pd.DataFrame, memory: bool) -> tuple[float, float | None, int]:
    """Wall seconds of one untraced call; with ``memory``, the heap peak of a second, traced
    call (tracing every allocation slows the writers several times over)."""
    start = time.perf_counter()
    data = writer(frame)
    seconds = time.perf_counter() - start
    if not memory:
        return seconds, None, len(data)
    tracemalloc.start()
    writer(frame)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak / 1e6, len(data)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=f"{XLSX_MAX_ROWS}",
                        help="comma-separated row counts")
    parser.add_argument("--memory", action="store_true",
                        help="also measure each writer's heap peak (a second, slower call)")
    args = parser.parse_args(argv)
    if os.path.exists("/proc/loadavg"):  # the machine is shared: figures need their load
        with open("/proc/loadavg") as f:
            print("load average:", " ".join(f.read().split()[:3]))
    for n in (int(r) for r in args.rows.split(",")):
        frame = assignments_like(n)
        for label, writer, target in (
                ("xlsx", assignments_xlsx, XLSX_TARGET_S * n / XLSX_MAX_ROWS),
                ("csv", assignments_csv, CSV_TARGET_S_PER_MILLION * n / 1e6)):
            seconds, peak, size = measure(writer, frame, args.memory)
            verdict = "met" if seconds <= target else "MISSED"
            heap = f", heap peak {peak:7.1f} MB" if peak is not None else ""
            print(f"{n:>9,} rows {label:>4}: {seconds:6.2f} s (target ≤ {target:.1f} s, "
                  f"{verdict}){heap}, file {size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
