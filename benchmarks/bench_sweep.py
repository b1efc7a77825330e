"""Benchmark of the K sweep: time, peak memory and accuracy of ``sweep_k``, 2,240 to 1M customers.

The app runs :func:`segmentation.cluster.kmeans.sweep_k` over K = 2..6 on every upload and on every
change of the preparation settings, so the sweep decides how long a user waits before the
recommended K appears. This script

* times the default sweep (every metric: inertia, silhouette, Calinski-Harabasz, Davies-Bouldin,
  smallest segment share) on customer matrices built the way the app builds them;
* measures the sweep's own peak memory, two ways (see below);
* splits one sweep into its parts (k-means fits, silhouette, CH, DB) to show where time goes;
* times the plain scikit-learn way on the same rows: ``KMeans(n_init=10)`` per K on all rows,
  exact ``silhouette_score`` on all rows where that is feasible, CH and DB;
* measures the error of the sampled silhouette against the exact one where exact is computable;
* prints every figure beside its target and whether it was met. It never fails on a missed
  target: a benchmark reports, the reader decides;
* with ``--restarts-study``, counts how often 1, 3 or 5 k-means++ restarts per K find the same
  solution (and the same recommended K and elbow) as the default 10, on the bundled sample, the
  public export when present, generated customers, the test shapes and planted blobs: the
  evidence for keeping every restart in the sweep;
* with ``--split-restarts-study``, the same question for the split-half check's half-models
  (most of a small sweep's time): how far each K's median agreement moves with 2 to 5
  restarts per half instead of the sweep's 10, how often it crosses the cut-off, whether the
  recommended K changes, and the time saved.

Data. Customers come from ``sample_data.generate.generate_customers`` and go through the app's
own path (tab-separated export, ``read_table``, ``load_dataset``, ``prepare``), giving the
scaled 12-column float64 matrix the sweep sees. Loading is pure Python and takes about 20 s at
100,000 rows, so above ``GENERATED_MAX`` rows a ``RESAMPLE_BASE``-customer matrix is prepared
that way and its rows are resampled with a fixed seed plus a small jitter; the output says so.

Timing. Only the sweep is timed, never the data generation. Up to ``WARM_UP_MAX`` rows a
warm-up sweep runs first and the median of 3 sweeps is reported; above it, one cold sweep.

Memory. Each size runs in a fresh Python process that loads the prepared matrix from disk, so
nothing from data generation or from another size inflates the figures:

* "RSS growth": growth of the process's peak resident set size (``VmHWM`` on Linux, the
  per-process figure behind ``ru_maxrss``; ``ru_maxrss`` elsewhere) during its first sweep,
  i.e. what the operating system had to provide for the sweep beyond the loaded matrix and
  libraries; the process's whole peak is printed in brackets.
* "traced": ``tracemalloc`` peak during one more sweep (numpy and Python allocations made by
  the sweep; memory that compiled code allocates without telling Python is not seen).

Run from the repository root::

    python benchmarks/bench_sweep.py                      # everything, several minutes
    python benchmarks/bench_sweep.py --sizes 2240,10000   # a subset
    python benchmarks/bench_sweep.py --skip-plain         # without the scikit-learn comparison
    python benchmarks/bench_sweep.py --sizes 2240 --skip-plain --restarts-study
    python benchmarks/bench_sweep.py --sizes 2240 --skip-plain --split-restarts-study
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_info

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sample_data.generate import DEFAULT_SEED as DATA_SEED  # noqa: E402
from sample_data.generate import generate_customers, write_export  # noqa: E402
from segmentation import read_table  # noqa: E402
from segmentation.cluster.kmeans import (  # noqa: E402
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    FIT_SAMPLE_SIZE,
    REPLICATES,
    SILHOUETTE_SAMPLE_SIZE,
    _ch_db_scores,
    _fit_kmeans,
    _in_parallel,
    _mean_silhouettes,
    _one_thread,
    _recommend_k,
    split_half_agreement,
    sweep_k,
)
from segmentation.data.dataset import load_dataset  # noqa: E402
from segmentation.prepare.features import prepare  # noqa: E402
from tests.helpers.shapes import ALL_SHAPES, to_bytes  # noqa: E402

SIZES = (2_240, 10_000, 100_000, 1_000_000)
K_VALUES = range(2, 7)
# Targets: seconds per sweep, peak memory of the sweep, sampled-silhouette error.
TARGET_SECONDS = {2_240: 0.15, 10_000: 0.3, 100_000: 1.0, 1_000_000: 5.0}
TARGET_PEAK_MB = {1_000_000: 1_000.0}
TARGET_SILHOUETTE_ERROR = 0.01
# Up to this many rows: a warm-up sweep, then the median of TIMED_RUNS sweeps; above, one sweep.
WARM_UP_MAX = 10_000
TIMED_RUNS = 3
# Above this many rows the matrix is resampled from a prepared RESAMPLE_BASE-customer table.
GENERATED_MAX = 100_000
RESAMPLE_BASE = 20_000
RESAMPLE_SEED = 7
JITTER_SD = 0.01  # in scaled units: every prepared column has standard deviation 1
# Exact silhouettes (plain scikit-learn, and the sampled-silhouette check) up to this many rows.
EXACT_SILHOUETTE_MAX = 20_000
MB = 1e6
# Other processes using more CPUs than this (on average) during a timing are flagged.
BUSY_MACHINE = 0.25


# ---------------------------------------------------------------------------- data


def generated_matrix(n: int, workdir: Path) -> np.ndarray:
    """``n`` generated customers through the app's path: export file, load, prepare."""
    path = workdir / f"customers_{n}.tsv"
    write_export(generate_customers(n, DATA_SEED), path)
    X = prepare(load_dataset(read_table(path))).X
    path.unlink()
    return X


def resampled_matrix(base: np.ndarray, n: int) -> np.ndarray:
    """``n`` rows drawn with replacement from ``base`` (fixed seed), plus a small jitter."""
    rng = np.random.default_rng(RESAMPLE_SEED)
    X = base[rng.integers(0, base.shape[0], n)]
    X += rng.normal(0.0, JITTER_SD, size=X.shape)
    return np.ascontiguousarray(X, dtype=np.float64)


def build_matrix(n: int, workdir: Path, cache: dict) -> tuple[np.ndarray, str]:
    """The prepared matrix for ``n`` customers and a line saying how it was made."""
    if n <= GENERATED_MAX:
        return generated_matrix(n, workdir), (
            f"{n:,} customers from generate_customers(n, seed={DATA_SEED}), exported, loaded "
            "and prepared as the app does")
    if "base" not in cache:
        cache["base"] = generated_matrix(RESAMPLE_BASE, workdir)
    return resampled_matrix(cache["base"], n), (
        f"RESAMPLED: {RESAMPLE_BASE:,} generated customers prepared as the app does, rows "
        f"drawn with replacement to {n:,} (seed {RESAMPLE_SEED}) plus N(0, {JITTER_SD}²) "
        "jitter in scaled units (generating and loading this many rows directly is too slow)")


# ---------------------------------------------------------------------------- measuring


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    On Linux, ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` carries the parent's peak
    across ``exec`` into a fresh child, which would hide the sweep's growth whenever the
    parent had grown larger (it has, after generating 100,000 customers). Elsewhere,
    ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / MB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MB if sys.platform == "darwin" else peak * 1024 / MB


def timed(fn, *args, **kwargs):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def busy_cpu_seconds() -> float | None:
    """CPU time the whole machine has spent busy since boot (Linux), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measured_runs(fn, X: np.ndarray, runs: int) -> dict:
    """Wall and CPU seconds of ``runs`` calls, and how busy other processes kept the CPUs.

    ``other_cpus`` is the machine's busy CPU time not spent by this process, per second of
    the runs: 0 on a quiet machine; near the CPU count when other work competes for the CPUs
    and the wall times are inflated.
    """
    walls, cpus = [], []
    busy_start, own_start, wall_start = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    for _ in range(runs):
        cpu = time.process_time()
        walls.append(timed(fn, X)[0])
        cpus.append(time.process_time() - cpu)
    busy_end = busy_cpu_seconds()
    others = None
    if busy_start is not None and busy_end is not None:
        own = time.process_time() - own_start
        others = max(busy_end - busy_start - own, 0.0) / (time.perf_counter() - wall_start)
    return {"runs": walls, "cpu_runs": cpus, "other_cpus": others}


def traced_peak_mb(fn, *args, **kwargs) -> float:
    """Peak of tracemalloc-traced allocations made during one call, in MB."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def repeated(fn, X: np.ndarray) -> dict:
    """Time ``fn(X)``: RSS growth of the first call, then warm-up + median of 3, or one run."""
    before = peak_rss_mb()
    warm = X.shape[0] <= WARM_UP_MAX
    out = {}
    if warm:
        out["warm_up"], out["result"] = timed(fn, X)
        out.update(rss_growth_mb=peak_rss_mb() - before, rss_peak_mb=peak_rss_mb())
        out.update(measured_runs(fn, X, TIMED_RUNS))
    else:
        calls = []
        out.update(measured_runs(lambda A: calls.append(fn(A)), X, 1))
        out.update(warm_up=None, result=calls[0], rss_growth_mb=peak_rss_mb() - before,
                   rss_peak_mb=peak_rss_mb())
    out["seconds"] = statistics.median(out["runs"])
    out["cpu_seconds"] = statistics.median(out["cpu_runs"])
    return out


# ---------------------------------------------------------------------------- the sweep


def run_sweep(X: np.ndarray):
    """The app's default sweep: K = 2..6 with every metric."""
    return sweep_k(X, K_VALUES)


def sweep_parts(X: np.ndarray) -> tuple[dict, dict]:
    """One sweep done step by step as ``sweep_k`` does it, timing each kind of step.

    The fits run side by side as in ``sweep_k``, so "fit" is the wall time of all of them.

    Returns the seconds per part and, per K, the labels and the (sampled) silhouette, which
    serve the accuracy check without refitting twice.
    """
    n = X.shape[0]
    parts = dict.fromkeys(("fit", "silhouette", "ch_db", "min_share"), 0.0)
    X32 = np.ascontiguousarray(X, dtype=np.float32) if n > FIT_SAMPLE_SIZE else None
    seconds, fitted = timed(
        _in_parallel, lambda k: _fit_kmeans(X, k, DEFAULT_SEED, DEFAULT_N_INIT, X32=X32),
        [(k,) for k in K_VALUES])
    parts["fit"] += seconds
    fits = dict(zip(K_VALUES, fitted, strict=True))
    idx = None
    if n > SILHOUETTE_SAMPLE_SIZE:
        rng = np.random.default_rng(DEFAULT_SEED)
        idx = np.sort(rng.choice(n, SILHOUETTE_SAMPLE_SIZE, replace=False))
    subs = [labels if idx is None else labels[idx] for labels, _, _ in fits.values()]
    with _one_thread():
        seconds, sampled = timed(_mean_silhouettes, X if idx is None else X[idx], subs)
    parts["silhouette"] += seconds
    per_k = {}
    for (k, (labels, _, inertia)), value in zip(fits.items(), sampled, strict=True):
        parts["ch_db"] += timed(_ch_db_scores, X, labels, k)[0]
        parts["min_share"] += timed(np.bincount, labels, minlength=k)[0]
        per_k[k] = {"labels": labels, "inertia": inertia, "sampled": value}
    return parts, per_k


def silhouette_check(X: np.ndarray, metrics, per_k: dict) -> dict | None:
    """Sweep's silhouette against the exact scikit-learn one on all rows, same labels per K."""
    if X.shape[0] > EXACT_SILHOUETTE_MAX:
        return None
    rows = []
    for k, fit in per_k.items():
        row = metrics.loc[metrics["k"] == k].iloc[0]
        exact = float(silhouette_score(X, fit["labels"]))
        rows.append({
            "k": k, "sweep": float(row["silhouette"]), "exact": exact,
            "error": float(row["silhouette"]) - exact,
            "same_fit": bool(np.isclose(row["inertia"], fit["inertia"], rtol=1e-12, atol=0)
                             and np.isclose(row["silhouette"], fit["sampled"], rtol=0,
                                            atol=1e-12)),
        })
    return {"sampled": X.shape[0] > SILHOUETTE_SAMPLE_SIZE, "rows": rows}


def sweep_worker(X: np.ndarray) -> dict:
    """Everything measured on our sweep for one size, in this (fresh) process."""
    timing = repeated(run_sweep, X)
    metrics = timing.pop("result").metrics
    traced = traced_peak_mb(run_sweep, X)
    parts, per_k = sweep_parts(X)
    return {**timing, "traced_mb": traced, "parts": parts,
            "silhouette": silhouette_check(X, metrics, per_k)}


# ---------------------------------------------------------------------------- plain scikit-learn


def plain_sweep(X: np.ndarray) -> bool:
    """The plain way: 10 k-means++ restarts per K on all rows, every metric on all rows.

    Returns whether the exact silhouette was computed (it is skipped on large data).
    """
    exact = X.shape[0] <= EXACT_SILHOUETTE_MAX
    for k in K_VALUES:
        labels = KMeans(n_clusters=k, n_init=10, random_state=DEFAULT_SEED).fit(X).labels_
        if exact:
            silhouette_score(X, labels)
        calinski_harabasz_score(X, labels)
        davies_bouldin_score(X, labels)
        np.bincount(labels, minlength=k).min()
    return exact


def plain_worker(X: np.ndarray) -> dict:
    """Everything measured on the plain scikit-learn way for one size, in this process."""
    timing = repeated(plain_sweep, X)
    computed = timing.pop("result")
    return {**timing, "silhouette_computed": computed}


# ---------------------------------------------------------------------------- restarts study


# Fewer restarts per K in the sweep would save time only if they found the same best
# solution; the study counts how often they do. Restart counts compared with DEFAULT_N_INIT:
STUDY_RESTARTS = (1, 3, 5)
STUDY_SEEDS = 10  # k-means seeds per data set (0, 1, ...), --study-seeds
SAME_INERTIA = 1e-6  # relative: within this, the same solution
REAL_FILE = ROOT.parent / "shared" / "data" / "marketing_campaign.csv"
SAMPLE_FILE = ROOT / "sample_data" / "marketing_campaign_sample.csv"


def study_data(workdir: Path) -> dict[str, np.ndarray]:
    """Prepared matrices of every shape the study covers, by name."""
    data = {"bundled sample": prepare(load_dataset(read_table(SAMPLE_FILE))).X}
    if REAL_FILE.is_file():
        data["public export"] = prepare(load_dataset(read_table(REAL_FILE))).X
    data["generated 10,000"] = generated_matrix(10_000, workdir)
    for name, (make, sep) in ALL_SHAPES.items():
        path = workdir / f"{name}.txt"
        path.write_bytes(to_bytes(make(), sep))
        data[f"shape {name}"] = prepare(load_dataset(read_table(path))).X
    for centers in (3, 5):
        data[f"blobs {centers}"] = make_blobs(3_000, 8, centers=centers, cluster_std=2.0,
                                              random_state=centers)[0]
    return data


def restarts_study(seeds: int) -> None:
    """How often the best of a few k-means++ restarts is the best of DEFAULT_N_INIT.

    Per data set, seed and K = 2..6: the sweep's inertia with each restart count of
    ``STUDY_RESTARTS`` against the one with ``DEFAULT_N_INIT`` (the same seed, so the few
    restarts are the first of the many), and whether the whole sweep recommends the same K
    with the same elbow.
    """
    print(f"\nRestarts study: sweep_k(X, range(2, 7)) with n_init in {STUDY_RESTARTS} against "
          f"n_init {DEFAULT_N_INIT}, seeds 0..{seeds - 1}; 'same' = inertia within "
          f"{SAME_INERTIA:g} relative")
    with tempfile.TemporaryDirectory(prefix="bench_sweep_study_") as tmp:
        data = study_data(Path(tmp))
    totals = {r: [0, 0, 0] for r in STUDY_RESTARTS}  # same fits, same (K, elbow), fits
    for name, X in data.items():
        cells = []
        for r in STUDY_RESTARTS:
            same = same_choice = 0
            worst = 0.0
            for seed in range(seeds):
                full = sweep_k(X, K_VALUES, random_state=seed)
                few = sweep_k(X, K_VALUES, random_state=seed, n_init=r)
                gap = (few.metrics["inertia"] - full.metrics["inertia"]) / full.metrics["inertia"]
                same += int((gap <= SAME_INERTIA).sum())
                worst = max(worst, float(gap.max()))
                same_choice += int((few.recommended_k, few.knee_k)
                                   == (full.recommended_k, full.knee_k))
            fits = seeds * len(K_VALUES)
            for i, v in enumerate((same, same_choice, fits)):
                totals[r][i] += v
            cells.append(f"{r}: {same / fits:4.0%} same, worst +{worst:6.2%}, "
                         f"K/elbow same {same_choice}/{seeds}")
        print(f"  {name:<20} n={X.shape[0]:>6,}  " + " | ".join(cells), flush=True)
    print("  all data sets        " + " | ".join(
        f"{r}: {s / f:.0%} of fits same, K/elbow same in {c}/{f // len(K_VALUES)} sweeps"
        for r, (s, c, f) in totals.items()))


# The split-half check fits two half-models per split, N_SPLITS splits per K, each with the
# sweep's restarts. Fewer restarts per half would save most of a small sweep's time if the
# agreement they measure stayed put; the study measures how far it moves.
SPLIT_STUDY_RESTARTS = (2, 3, 4, 5)


def split_restarts_study(seeds: int) -> None:
    """How far fewer restarts per half-model move the split-half agreement.

    Per data set and seed: each K's median agreement with every restart count of
    ``SPLIT_STUDY_RESTARTS`` against ``DEFAULT_N_INIT`` (the same seeds), how many Ks
    cross the ``REPLICATES`` cut-off, whether the recommended K changes, and the time.
    """
    print(f"\nSplit-half restarts study: split_half_agreement(X, k) for K = 2..6 with n_init "
          f"in {SPLIT_STUDY_RESTARTS} against n_init {DEFAULT_N_INIT}, seeds 0..{seeds - 1}")
    with tempfile.TemporaryDirectory(prefix="bench_sweep_study_") as tmp:
        data = study_data(Path(tmp))
    totals = {r: {"worst": 0.0, "same_k": 0, "sweeps": 0, "flips": 0, "seconds": 0.0}
              for r in (DEFAULT_N_INIT, *SPLIT_STUDY_RESTARTS)}

    def checked(X, sweep, seed, restarts):
        started = time.perf_counter()
        with _one_thread():  # as the sweep runs the check
            agreements = [split_half_agreement(X, k, seed, restarts) for k in K_VALUES]
        totals[restarts]["seconds"] += time.perf_counter() - started
        metrics = sweep.metrics.assign(stability=[a.median for a in agreements],
                                       stability_min=[a.low for a in agreements],
                                       stability_max=[a.high for a in agreements])
        return np.array([a.median for a in agreements]), _recommend_k(metrics, sweep.knee_k)[0]

    for name, X in data.items():
        cells = {r: [0.0, 0] for r in SPLIT_STUDY_RESTARTS}
        for seed in range(seeds):
            sweep = sweep_k(X, K_VALUES, random_state=seed)
            full, k_full = checked(X, sweep, seed, DEFAULT_N_INIT)
            for r in SPLIT_STUDY_RESTARTS:
                few, k_few = checked(X, sweep, seed, r)
                t = totals[r]
                gap = float(np.abs(few - full).max())
                cells[r][0] = max(cells[r][0], gap)
                cells[r][1] += int(k_few == k_full)
                t["worst"] = max(t["worst"], gap)
                t["same_k"] += int(k_few == k_full)
                t["sweeps"] += 1
                t["flips"] += int(((few >= REPLICATES) != (full >= REPLICATES)).sum())
        print(f"  {name:<20} n={X.shape[0]:>6,}  " + " | ".join(
            f"{r}: median moves up to {gap:.3f}, K same {same}/{seeds}"
            for r, (gap, same) in cells.items()), flush=True)
    base = totals[DEFAULT_N_INIT]["seconds"]
    for r in SPLIT_STUDY_RESTARTS:
        t = totals[r]
        print(f"  n_init {r}: median agreement moves up to {t['worst']:.3f}; "
              f"{t['flips']} of {t['sweeps'] * len(K_VALUES)} K cross the {REPLICATES:g} "
              "cut-off; "
              f"recommended K the same in {t['same_k']}/{t['sweeps']} sweeps; "
              f"{t['seconds'] / base:.0%} of the time of {DEFAULT_N_INIT} restarts")


# ---------------------------------------------------------------------------- processes


WORKERS = {"sweep": sweep_worker, "plain": plain_worker}


def worker_main(kind: str, matrix: Path) -> None:
    """Entry point of a child process: measure, print one JSON line."""
    X = np.load(matrix)
    print(json.dumps(WORKERS[kind](X)))


def in_fresh_process(kind: str, matrix: Path) -> dict:
    """Run one worker in a new interpreter and return what it measured."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--matrix", str(matrix)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return {"error": f"{kind} worker exited with {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- reporting


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def seconds_line(res: dict) -> str:
    cpu = f"CPU {res['cpu_seconds']:.3f} s"
    if res["warm_up"] is None:
        text = f"{res['seconds']:.3f} s wall, {cpu} (one cold run)"
    else:
        runs = ", ".join(f"{s:.3f}" for s in res["runs"])
        text = (f"{res['seconds']:.3f} s wall, {cpu} (median of {len(res['runs'])} after a "
                f"{res['warm_up']:.3f} s warm-up; runs {runs})")
    others = res.get("other_cpus")
    if others is not None and others > BUSY_MACHINE:
        text += f" [other processes kept {others:.1f} CPUs busy: wall times inflated]"
    return text


def peak_mb(res: dict) -> float:
    """The memory figure judged against the target: the larger of the two measures."""
    return max(res["rss_growth_mb"], res["traced_mb"])


def print_sweep(n: int, res: dict) -> None:
    target = TARGET_SECONDS.get(n)
    met = None if target is None else res["seconds"] <= target
    target_text = "" if target is None else f"   target <= {target} s: {verdict(met)}"
    print(f"  sweep_k            {seconds_line(res)}{target_text}")
    mem_target = TARGET_PEAK_MB.get(n)
    mem_text = ("" if mem_target is None else
                f"   target <= {mem_target:,.0f} MB: {verdict(peak_mb(res) <= mem_target)}")
    print(f"  peak memory        RSS growth {res['rss_growth_mb']:,.1f} MB "
          f"(peak RSS, first sweep; process peak {res['rss_peak_mb']:,.1f} MB), "
          f"traced {res['traced_mb']:,.1f} MB (tracemalloc){mem_text}")
    parts = res["parts"]
    total = sum(parts.values())
    shown = " | ".join(f"{name} {sec:.3f} s ({sec / total:.0%})" for name, sec in parts.items())
    print(f"  time by part       {shown} | sum {total:.3f} s (one more sweep, step by step)")


def print_plain(n: int, res: dict, ours: dict) -> None:
    if "error" in res:
        print(f"  plain scikit-learn {res['error']}")
        return
    sil = ("exact silhouette_score on all rows" if res["silhouette_computed"]
           else "silhouette skipped (n² distances)")
    ratio = res["seconds"] / ours["seconds"]
    print(f"  plain scikit-learn {seconds_line(res)}; KMeans(n_init=10) per K, {sil}, CH, DB; "
          f"RSS growth {res['rss_growth_mb']:,.1f} MB")
    print(f"  ratio plain / ours {ratio:.1f}x")


def print_silhouette(n: int, check: dict | None) -> None:
    if check is None:
        print(f"  sampled silhouette exact not computable above {EXACT_SILHOUETTE_MAX:,} rows "
              f"(the sweep uses a {SILHOUETTE_SAMPLE_SIZE:,}-row sample)")
        return
    worst = max(abs(r["error"]) for r in check["rows"])
    per_k = ", ".join(f"K={r['k']}: {r['sweep']:.4f} vs {r['exact']:.4f}" for r in check["rows"])
    same = all(r["same_fit"] for r in check["rows"])
    how = (f"{SILHOUETTE_SAMPLE_SIZE:,}-row sample vs exact on all {n:,} rows"
           if check["sampled"] else f"exact in the sweep too (n <= {SILHOUETTE_SAMPLE_SIZE:,})")
    target = (f"   target <= {TARGET_SILHOUETTE_ERROR}: "
              f"{verdict(worst <= TARGET_SILHOUETTE_ERROR)}" if check["sampled"] else "")
    print(f"  sampled silhouette {how}: {per_k}")
    print(f"                     max |sweep - exact| = {worst:.4f}{target}; refit labels "
          f"reproduce the sweep: {'yes' if same else 'NO (error figure unreliable)'}")


def print_summary(results: dict) -> None:
    print("\nSummary (targets: 2,240 rows <= 0.15 s, 10,000 <= 0.3 s, 100,000 <= 1 s, "
          "1,000,000 <= 5 s within 1 GB; sampled silhouette within 0.01 of exact)")
    print(f"  {'rows':>9}  {'sweep s':>8}  {'target':>6}  {'time':>6}  {'RSS MB':>7}  "
          f"{'traced':>7}  {'memory':>6}  {'sil err':>7}  {'plain s':>8}  {'plain/ours':>10}")
    for n, (ours, plain) in results.items():
        if "error" in ours:
            print(f"  {n:>9,}  {ours['error']}")
            continue
        target = TARGET_SECONDS.get(n)
        time_ok = verdict(None if target is None else ours["seconds"] <= target)
        mem_target = TARGET_PEAK_MB.get(n)
        mem_ok = verdict(None if mem_target is None else peak_mb(ours) <= mem_target)
        check = ours["silhouette"]
        err = ("-" if check is None or not check["sampled"]
               else f"{max(abs(r['error']) for r in check['rows']):.4f}")
        plain_s = "-" if not plain or "error" in plain else f"{plain['seconds']:.2f}"
        ratio = ("-" if not plain or "error" in plain
                 else f"{plain['seconds'] / ours['seconds']:.1f}x")
        busy = "*" if (ours.get("other_cpus") or 0) > BUSY_MACHINE else " "
        print(f"  {n:>9,}  {ours['seconds']:>7.3f}{busy}  {target or '-':>6}  {time_ok:>6}  "
              f"{ours['rss_growth_mb']:>7.1f}  {ours['traced_mb']:>7.1f}  {mem_ok:>6}  "
              f"{err:>7}  {plain_s:>8}  {ratio:>10}")
    print("  memory verdict uses the larger of RSS growth and traced peak; plain silhouette is "
          f"skipped above {EXACT_SILHOUETTE_MAX:,} rows, so plain/ours there compares "
          "without it; * = other processes competed for the CPUs during the timing")


def print_header(sizes, skip_plain: bool) -> None:
    threads = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info())
    print("K sweep benchmark: sweep_k(X, range(2, 7)), every metric, seed "
          f"{DEFAULT_SEED}, n_init {DEFAULT_N_INIT}")
    print(f"  machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy "
          f"{np.__version__}, scikit-learn {sklearn.__version__}; threads: {threads}")
    print(f"  sizes: {', '.join(f'{n:,}' for n in sizes)}; plain scikit-learn comparison: "
          f"{'skipped' if skip_plain else 'yes'}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print("  each size runs in fresh processes; only the sweep is timed, not data generation; "
          f"load average at start {load}")


# ---------------------------------------------------------------------------- command line


def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes must be integers separated by commas: {text!r}") from None
    if not sizes or min(sizes) < 2 * max(K_VALUES):
        raise argparse.ArgumentTypeError(f"each size must be at least {2 * max(K_VALUES)}")
    return sizes


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=SIZES,
                        help="comma-separated customer counts (default: 2240,10000,100000,1000000)")
    parser.add_argument("--skip-plain", action="store_true",
                        help="skip the plain scikit-learn comparison")
    parser.add_argument("--restarts-study", action="store_true",
                        help="also count how often fewer k-means++ restarts find the same "
                             "solution and K as the default (a few minutes)")
    parser.add_argument("--split-restarts-study", action="store_true",
                        help="also measure how far fewer restarts per half-model move the "
                             "split-half agreement (a few minutes)")
    parser.add_argument("--study-seeds", type=int, default=STUDY_SEEDS,
                        help=f"seeds per data set in the restarts study (default {STUDY_SEEDS})")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--matrix", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.matrix)
        return
    print_header(args.sizes, args.skip_plain)
    results, cache = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        workdir = Path(tmp)
        for n in args.sizes:
            X, source = build_matrix(n, workdir, cache)
            matrix = workdir / f"X_{n}.npy"
            np.save(matrix, X)
            print(f"\n{n:,} customers: {X.shape[0]:,} x {X.shape[1]} {X.dtype} matrix, {source}",
                  flush=True)
            del X
            ours = in_fresh_process("sweep", matrix)
            if "error" in ours:
                print(f"  sweep_k            {ours['error']}")
                results[n] = (ours, None)
                continue
            print_sweep(n, ours)
            plain = None if args.skip_plain else in_fresh_process("plain", matrix)
            if plain is not None:
                print_plain(n, plain, ours)
            print_silhouette(n, ours["silhouette"])
            sys.stdout.flush()
            results[n] = (ours, plain)
            matrix.unlink()
    print_summary(results)
    if args.restarts_study:
        restarts_study(args.study_seeds)
    if args.split_restarts_study:
        split_restarts_study(args.study_seeds)


if __name__ == "__main__":
    main()
