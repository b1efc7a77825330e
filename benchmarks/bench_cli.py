"""The command line as a whole process: ``python -m segmentation run FILE --out DIR``.

Each size runs the command in a fresh interpreter with default settings and no report,
timed from the moment the process is started to its exit, Python's own start-up and every
import included (a user at a terminal waits for all of it); ``--runs`` times each (3 by
default) and the median is judged, since one run of a few seconds moves by a tenth either
way on a shared machine. The peak resident memory is the child's ``VmHWM``, read just
before it exits (the helper of ``bench_run.py``).

At 100,000 customers a careful scikit-learn script runs on the same file in the same way,
side by side: read with pandas, z-score the numeric columns (the id and constant columns
left out, missing values at the mean), ``KMeans(n_init=3)`` for K = 2..6 and the silhouette
on a 5,000-customer sample. The command line does more (column meaning, preparation,
split-half agreement, profiles, personas, five files), and the target is to take no longer.

Run from the repository root:

    python benchmarks/bench_cli.py                              # 2,240, 100,000, 1,000,000
    python benchmarks/bench_cli.py --sizes 2240,100000          # a subset

Prints the figures beside their targets with "met" or "MISSED"; it never fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run import DATA_SEED, ROOT, _verdict, generate_customers, write_export  # noqa: E402

SAMPLE = ROOT / "sample_data" / "marketing_campaign_sample.csv"
SAMPLE_ROWS = 2240
# Targets: the bundled sample answers while the user still watches the terminal; a million
# customers fits a coffee break and the engine's memory budget.
TIME_TARGETS = {SAMPLE_ROWS: 3.0, 1_000_000: 30.0}
MEMORY_TARGET_MB = 1536.0
COMPARED = 100_000  # the size timed against the scikit-learn script
GOAL_RATIO = 1 / 3  # where the command line should get to against that script

# Both children end by printing one JSON line: the exit code and the process's peak memory.
_REPORT = """
sys.path.insert(0, {bench!r})
from bench_run import _peak_rss_mb
print(json.dumps({{"rc": rc, "peak_mb": _peak_rss_mb()}}))
"""

# Exactly ``python -m segmentation run FILE --out DIR``, then the report line.
CLI_CHILD = """
import json, runpy, sys
sys.argv = ["segmentation", "run", {path!r}, "--out", {out!r}]
rc = 0
try:
    runpy.run_module("segmentation", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    rc = exit.code
""" + _REPORT

SKLEARN_CHILD = """
import json, sys
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

frame = pd.read_csv({path!r}, sep="\\t")
numbers = frame.select_dtypes("number").drop(columns=["ID"], errors="ignore")
numbers = numbers.loc[:, numbers.std() > 0]
X = ((numbers - numbers.mean()) / numbers.std()).fillna(0.0).to_numpy()
for k in range(2, 7):
    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(X)
    silhouette_score(X, labels, sample_size=5000, random_state=0)
rc = 0
""" + _REPORT


def _timed(code: str) -> dict:
    """Run ``code`` in a fresh interpreter: wall seconds from start to exit, and its report."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    seconds = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"rc": proc.returncode or 1, "seconds": seconds, "peak_mb": float("nan"),
                "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return {**json.loads(lines[-1]), "seconds": seconds}


def _file_for(n: int, folder: Path) -> Path:
    if n == SAMPLE_ROWS:
        return SAMPLE
    path = folder / f"customers_{n}.tsv"
    write_export(generate_customers(n, DATA_SEED), path)
    return path


def _load() -> str:
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def _median_run(runs: list[dict]) -> dict:
    """The run of median time (the lower middle of an even count), with every time kept."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[(len(ordered) - 1) // 2], "all": [r["seconds"] for r in runs]}


def _report(n: int, folder: Path, runs: int) -> None:
    """Time one size (and the scikit-learn script beside it, in turn) and print its lines."""
    bench = str(Path(__file__).resolve().parent)
    path = _file_for(n, folder)
    ours_runs, their_runs = [], []
    for _ in range(runs if n < 1_000_000 else 1):  # a million once: half a minute each
        ours_runs.append(_timed(CLI_CHILD.format(path=str(path), out=str(folder / f"out_{n}"),
                                                 bench=bench)))
        if ours_runs[-1]["rc"] != 0:
            print(f"{n:>10,} failed (exit {ours_runs[-1]['rc']}): "
                  f"{ours_runs[-1].get('error', '')}")
            return
        if n == COMPARED:
            their_runs.append(_timed(SKLEARN_CHILD.format(path=str(path), bench=bench)))
            if their_runs[-1]["rc"] != 0:  # a crashed script's short time is no comparison
                print(f"{n:>10,} the scikit-learn script failed (exit "
                      f"{their_runs[-1]['rc']}): {their_runs[-1].get('error', '')}")
                return
    ours = _median_run(ours_runs)
    theirs = _median_run(their_runs) if their_runs else None
    target = theirs["seconds"] if theirs else TIME_TARGETS.get(n, float("inf"))
    memory = max(r["peak_mb"] for r in ours_runs)  # the worst run's, not the median's
    print(f"{n:>10,} {ours['seconds']:>7.1f}s {target:>7.1f}s "
          f"{_verdict(ours['seconds'], target):6} {memory:>7.0f}MB "
          f"{MEMORY_TARGET_MB:>6.0f}MB {_verdict(memory, MEMORY_TARGET_MB):6}")
    print(f"{'':>10} runs {', '.join(f'{s:.2f}' for s in ours['all'])} s")
    if theirs:
        ratio = ours["seconds"] / theirs["seconds"]
        print(f"{'':>10} scikit-learn script {theirs['seconds']:.1f}s "
              f"(runs {', '.join(f'{s:.2f}' for s in theirs['all'])} s; "
              f"{theirs['peak_mb']:.0f}MB); ratio {ratio:.2f} "
              f"(target <= 1: {_verdict(ratio, 1.0)}; goal <= {GOAL_RATIO:.2f}: "
              f"{_verdict(ratio, GOAL_RATIO)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=f"{SAMPLE_ROWS},{COMPARED},1000000",
                        help="comma-separated customer counts; 2240 is the bundled sample")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each size below a million, median judged (default 3)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"python -m segmentation run FILE --out DIR, whole process, {os.cpu_count()} CPUs; "
          f"data: the bundled sample, or generate_customers(n, seed={DATA_SEED}); "
          f"load average {_load()}.\n")
    header = ("customers", "time", "target", "", "peak RSS", "target", "")
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, (10, 8, 8, 6, 9, 8, 6), strict=True)))
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            _report(n, Path(tmp), max(1, args.runs))
    print(f"\nload average at the end {_load()}")


if __name__ == "__main__":
    main()
