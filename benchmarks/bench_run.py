"""End to end: ``python -m segmentation run`` on a generated customer export, time and peak memory.

Each size runs the command line in a fresh process (as a user or a scheduler
would), from the tab-separated file on disk to every output written: reading,
column meaning, preparation, the K sweep, the chosen segmentation, split-half
agreement, profiles, personas and the files. The peak resident memory is the
child's own ``VmHWM`` (Linux), read just before it exits.

Run from the repository root:

    python benchmarks/bench_run.py                     # 100,000 and 1,000,000 customers
    python benchmarks/bench_run.py --sizes 100000      # a subset

Prints a table of figures beside their targets; it never fails.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sample_data.generate import generate_customers, write_export  # noqa: E402

DATA_SEED = 11
# Targets: the engine's memory budget end to end at a million customers, and times a
# nightly job can live with on two cores.
TARGETS = {100_000: (60.0, 1536.0), 1_000_000: (300.0, 1536.0)}


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, out: str) -> None:
    """Run the command line in this process and report its exit code and peak memory."""
    from segmentation.cli import main as cli

    started = time.perf_counter()
    rc = cli(["run", path, "--out", out])
    seconds = time.perf_counter() - started
    print(json.dumps({"rc": rc, "seconds": seconds, "peak_mb": _peak_rss_mb()}))


def _measure(n: int, folder: Path) -> dict:
    path = folder / f"customers_{n}.tsv"
    write_export(generate_customers(n, DATA_SEED), path)
    out = folder / f"out_{n}"
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"rc": proc.returncode, "seconds": float("nan"), "peak_mb": float("nan"),
                "error": proc.stderr.strip().splitlines()[-1:] or ["no output"]}
    figures = json.loads(lines[-1])
    summary = out / "summary.json"
    if summary.exists():
        data = json.loads(summary.read_text(encoding="utf-8"))
        figures.update(kept=data["rows_kept"], k=data["chosen_k"])
    figures["mb_on_disk"] = path.stat().st_size / 2**20
    return figures


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated customer counts (default: 100000,1000000)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"python -m segmentation run, default settings, {os.cpu_count()} CPUs; "
          f"data: generate_customers(n, seed={DATA_SEED}) as a tab-separated export.\n")
    print(f"{'customers':>10} {'file':>8} {'time':>9} {'target':>8} {'':6} "
          f"{'peak RSS':>9} {'target':>8} {'':6} {'K':>2}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            f = _measure(n, Path(tmp))
            if f["rc"] != 0:
                print(f"{n:>10,} failed (exit {f['rc']}): {' '.join(f.get('error', []))}")
                continue
            t_target, m_target = TARGETS.get(n, (float("inf"), 1536.0))
            print(f"{n:>10,} {f['mb_on_disk']:>6.0f}MB {f['seconds']:>8.1f}s {t_target:>7.0f}s "
                  f"{_verdict(f['seconds'], t_target):6} {f['peak_mb']:>7.0f}MB "
                  f"{m_target:>6.0f}MB {_verdict(f['peak_mb'], m_target):6} {f.get('k', ''):>2}")


if __name__ == "__main__":
    main()
