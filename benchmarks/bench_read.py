"""Benchmark of reading a delimited customer table: ``read_table`` plus number parsing per column.

When a file is uploaded the app reads it with :func:`segmentation.data.customer_file.read_table`, then the
column detection calls :func:`segmentation.data.customer_file.to_number` and
:func:`segmentation.data.customer_file.numeric_share` on every column. This script times exactly that work on
generated customer tables of 100,000 and 1,000,000 rows by 30 columns, and prints every figure
beside its target with "met" or "MISSED". It never fails on a missed target: a benchmark
reports, the reader decides.

Data. Thirty columns of customer-like text, generated with a fixed seed: an id with leading
zeros, four money columns formatted like ``"$1,234.50"`` (quoted, as the comma requires),
nine integer columns, five decimal columns, five category columns, two dates, a percentage,
a name, a city and a free-text note; about 2% of the cells are empty or ``NA``, and a few
lines have an extra field (so they are reported as malformed). The table is written to a
temporary comma-separated file; writing it is not timed.

Timing. Each size runs in a fresh Python process: ``read_table(path)`` is timed, then
``to_number`` and ``numeric_share`` on every column, with the file's detected decimal mark.
Wall and CPU seconds are printed. One cold run per size (the work is dominated by the data).

Wide. One more table, 300 rows by 1,000 columns of whole numbers (``--wide``; the widest
file read, see ``segmentation.data.customer_file.MAX_COLUMNS``), timed the same way: the work there is per
column, not per row. The 10,000-column file this limit refuses took over two minutes to read
and inspect before.

Memory. In that fresh process, "RSS growth" is the growth of the peak resident set size
during the timed work (``VmHWM`` on Linux, ``ru_maxrss`` elsewhere); the table as read is
part of it (it holds one Python string per text cell), and the process's whole peak is
printed in brackets.

Before. The row-by-row reader this replaced (``segmentation/io.py`` at commit 893d1c3) took
13.3 s for the same work at 100,000 rows on the 2-CPU machine these targets are for (see
``BEFORE_100K``; the figure printed when nothing is measured). ``--before REV`` measures
``segmentation/io.py`` of a git revision on the same file, at 100,000 rows only (about a minute
for the row-by-row reader).

Run from the repository root::

    python benchmarks/bench_read.py                        # 100,000 and 1,000,000 rows
    python benchmarks/bench_read.py --sizes 100000         # a subset
    python benchmarks/bench_read.py --sizes 100000 --before 893d1c3
    python benchmarks/bench_read.py --sizes "" --wide 300x1000  # the wide table only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {100_000: 1.5, 1_000_000: 12.0}  # seconds: read_table + to_number + numeric_share
BEFORE_100K = 13.3  # seconds, row-by-row reader at 100,000 rows (recorded, see the docstring)
COLUMNS = 30
MALFORMED_EVERY = 20_000  # one line in this many gets an extra field


# --- data ------------------------------------------------------------------------------------


def _text(values) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _money(rng, n) -> pa.Array:
    cents = rng.integers(0, 250_000_00, n)
    dollars, cents = cents // 100, cents % 100
    thousands, units = dollars // 1000, dollars % 1000
    small = _join("$", _text(dollars), ".", pc.utf8_lpad(_text(cents), 2, "0"))
    large = _join("$", _text(thousands), ",", pc.utf8_lpad(_text(units), 3, "0"), ".",
                  pc.utf8_lpad(_text(cents), 2, "0"))
    return _join('"', pc.if_else(pa.array(thousands > 0), large, small), '"')


def _choice(rng, options, n) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, len(options), n), pa.int32()), pa.array(options)
    ).dictionary_decode()


def _with_missing(rng, column: pa.Array, share: float = 0.02) -> pa.Array:
    n = len(column)
    hole = rng.random(n) < share
    marker = _choice(rng, ["", "NA", "n/a", " "], n)
    return pc.if_else(pa.array(hole), marker, column)


def generate(n: int, seed: int = 7) -> tuple[bytes, list[str]]:
    """A customer table of ``n`` rows and 30 columns as comma-separated bytes, and its header."""
    rng = np.random.default_rng(seed)
    columns = {"customer_id": pc.utf8_lpad(_text(rng.permutation(n) + 1), 8, "0")}
    for name in ("income", "spend_wine", "spend_meat", "balance"):
        columns[name] = _money(rng, n)
    for i, name in enumerate(("kids", "teens", "recency", "purchases_web", "purchases_store",
                              "purchases_catalog", "visits_web", "tenure_days",
                              "year_birth")):
        columns[name] = _text(rng.integers(0, 10 ** (1 + i % 4), n))
    for name in ("score", "discount_rate", "basket_mean", "margin", "distance_km"):
        columns[name] = _join(_text(rng.integers(0, 1000, n)), ".",
                              pc.utf8_lpad(_text(rng.integers(0, 100, n)), 2, "0"))
    columns["education"] = _choice(rng, ["Basic", "2n Cycle", "Graduation", "Master", "PhD"], n)
    columns["marital_status"] = _choice(rng, ["Single", "Married", "Together", "Divorced",
                                              "Widow"], n)
    columns["channel"] = _choice(rng, ["web", "store", "catalog", "phone"], n)
    columns["segment"] = _choice(rng, ["A", "B", "C", "D", "E", "F"], n)
    columns["country"] = _choice(rng, ["SP", "CA", "US", "AUS", "GER", "IND", "SA", "ME"], n)
    for name in ("first_purchase", "last_purchase"):
        days = np.datetime64("2012-01-01") + rng.integers(0, 1000, n).astype("timedelta64[D]")
        columns[name] = _text(np.datetime_as_string(days))
    columns["response_rate"] = _join(_text(rng.integers(0, 100, n)), "%")
    columns["name"] = _join(_choice(rng, ["Ana", "Ben", "Chloé", "Dan", "Eve", "Femi"], n), " ",
                            _choice(rng, ["Smith", "Müller", "Rossi", "Nguyen", "Okafor"], n))
    columns["city"] = _choice(rng, ["Leeds", "York", "Madrid", "São Paulo", "Lagos", "Pune"], n)
    columns["note"] = _choice(rng, ["", "called back", "prefers email", "VIP", "moved"], n)
    names = list(columns)
    cells = [columns["customer_id"]] + [_with_missing(rng, columns[c]) for c in names[1:]]
    rows = pc.binary_join_element_wise(*cells, ",")
    extra = np.zeros(n, dtype=bool)
    extra[MALFORMED_EVERY // 2::MALFORMED_EVERY] = True
    rows = pc.if_else(pa.array(extra), _join(rows, ",extra"), rows)
    lines = [",".join(names), *rows.to_pylist(), ""]
    return "\n".join(lines).encode("utf-8"), names


def generate_wide(rows: int, columns: int, seed: int = 7) -> bytes:
    """An id and ``columns - 1`` columns of whole numbers, as comma-separated bytes."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 1000, size=(rows, columns - 1))
    lines = [",".join(["customer_id", *(f"v{j}" for j in range(1, columns))])]
    lines += [f"{i:06d}," + ",".join(map(str, row)) for i, row in enumerate(values, 1)]
    return ("\n".join(lines) + "\n").encode()


# --- measuring (in a fresh process per size) -------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1024**2


def _load_io(source: str | None):
    """``segmentation.data.customer_file`` as in the working tree, or from a file holding another version."""
    sys.path.insert(0, str(ROOT))
    if source is None:
        from segmentation.data import customer_file as io
        return io
    import segmentation  # noqa: F401  (the package, so the module's relative imports resolve)

    spec = importlib.util.spec_from_file_location("segmentation._io_before", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def child(path: str, source: str | None) -> None:
    io = _load_io(source)
    rss_before = _peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    raw = io.read_table(path)
    read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
    numeric = 0
    for column in raw.frame.columns:
        io.to_number(raw.frame[column], raw.decimal)
        numeric += io.numeric_share(raw.frame[column], raw.decimal) >= 0.95
    print(json.dumps({
        "read": read_wall,
        "total": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "read_cpu": read_cpu,
        "rss_growth": _peak_rss_mb() - rss_before,
        "rss_peak": _peak_rss_mb(),
        "rows": len(raw.frame),
        "columns": raw.frame.shape[1],
        "malformed": len(raw.malformed_lines),
        "numeric_columns": int(numeric),
    }))


def _run_child(path: Path, source: Path | None) -> dict:
    command = [sys.executable, __file__, "--child", str(path)]
    if source is not None:
        command += ["--source", str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load_note() -> str:
    """The 1-minute load average: on 2 CPUs, anything much above 1 slows the timings."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return ""
    return f"  (load average {load:.1f} on {os.cpu_count()} CPUs)"


def _verdict(seconds: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"target ≤ {target:g} s: " + ("met" if seconds <= target else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated row counts (default: 100000,1000000)")
    parser.add_argument("--before", metavar="REV",
                        help="also time segmentation/io.py at this git revision, at 100,000 rows")
    parser.add_argument("--wide", default="300x1000", metavar="ROWSxCOLUMNS",
                        help="also time a wide table (default: 300x1000; '' for none)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source)
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"Python {platform.python_version()}, pyarrow {pa.__version__}, numpy "
          f"{np.__version__}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"{COLUMNS} columns; timed: read_table(path), then to_number and numeric_share on "
          "every column\n")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        before_source = None
        if args.before:
            shown = subprocess.run(["git", "show", f"{args.before}:segmentation/io.py"],
                                   capture_output=True, cwd=ROOT, check=False)
            if shown.returncode == 0:
                before_source = Path(tmp) / "io_before.py"
                before_source.write_bytes(shown.stdout)
            else:
                print(f"cannot read segmentation/io.py at {args.before}: "
                      f"{shown.stderr.decode().strip()}")
        for n in sizes:
            started = time.perf_counter()
            data, _ = generate(n)
            path = Path(tmp) / f"customers_{n}.csv"
            path.write_bytes(data)
            del data
            print(f"{n:>9,} rows: {path.stat().st_size / 1e6:,.0f} MB file, generated in "
                  f"{time.perf_counter() - started:.1f} s{_load_note()}")
            result = _run_child(path, None)
            results[n] = result
            if "error" in result:
                print(f"    failed: {result['error']}")
                continue
            print(f"    read_table      {result['read']:7.2f} s   ({result['read_cpu']:.2f} s CPU)")
            print(f"    read + parsing  {result['total']:7.2f} s   ({result['cpu']:.2f} s CPU)   "
                  f"{_verdict(result['total'], TARGETS.get(n))}")
            print(f"    memory          {result['rss_growth']:7.0f} MB RSS growth "
                  f"({result['rss_peak']:.0f} MB process peak)")
            print(f"    table           {result['rows']:,} rows x {result['columns']} columns, "
                  f"{result['malformed']} malformed lines, {result['numeric_columns']} numeric "
                  "columns")
            if n == 100_000 and before_source is not None:
                old = _run_child(path, before_source)
                if "error" in old:
                    print(f"    before ({args.before}): failed: {old['error']}")
                else:
                    results["before"] = old
                    print(f"    before ({args.before}): read + parsing {old['total']:.1f} s, "
                          f"read_table {old['read']:.1f} s, "
                          f"{old['rss_growth']:.0f} MB RSS growth")
            path.unlink()
        if args.wide:
            rows, columns = (int(part) for part in args.wide.lower().split("x"))
            path = Path(tmp) / "wide.csv"
            path.write_bytes(generate_wide(rows, columns))
            result = _run_child(path, None)
            results["wide"] = result
            print(f"{rows:>9,} rows x {columns:,} columns: "
                  f"{path.stat().st_size / 1e6:,.1f} MB file{_load_note()}")
            if "error" in result:
                print(f"    failed: {result['error']}")
            else:
                print(f"    read_table      {result['read']:7.2f} s   "
                      f"({result['read_cpu']:.2f} s CPU)")
                print(f"    read + parsing  {result['total']:7.2f} s   "
                      f"({result['cpu']:.2f} s CPU)")

    print("\nSummary (read_table + to_number + numeric_share on every column)")
    print(f"{'rows':>11}  {'before':>9}  {'after':>8}  {'target':>7}  verdict")
    for n in sizes:
        result = results.get(n, {})
        if "total" not in result:
            print(f"{n:>11,}  {'':>9}  {'failed':>8}")
            continue
        if n == 100_000 and "before" in results:
            before = f"{results['before']['total']:.1f} s"
        elif n == 100_000:
            before = f"{BEFORE_100K:.1f} s*"
        else:
            before = "-"
        target = TARGETS.get(n)
        verdict = ("met" if result["total"] <= target else "MISSED") if target else ""
        print(f"{n:>11,}  {before:>9}  {result['total']:7.2f} s  "
              f"{(f'{target:g} s' if target else '-'):>7}  {verdict}")
    if "total" in results.get("wide", {}):
        label = args.wide.lower().replace("x", " x ")
        print(f"{label:>11}  {'-':>9}  {results['wide']['total']:7.2f} s  {'-':>7}")
    if 100_000 in sizes and "before" not in results:
        print("* recorded figure for the row-by-row reader (commit 893d1c3); "
              "--before REV measures a revision")


if __name__ == "__main__":
    main()
