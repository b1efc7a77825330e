"""What the command line loads: --version and --help answer without the numerical and
file-format libraries, and a run without --report leaves plotting and the optional
statistics and spreadsheet libraries alone. Checked in a fresh interpreter, by name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT, SAMPLE_PATH

pytestmark = pytest.mark.slow  # fresh interpreters that record every import

# Each takes from a tenth of a second (openpyxl) to over a second (scikit-learn with scipy)
# to import; none is needed to print the version or the help.
NOT_FOR_HELP = ("sklearn", "scipy", "statsmodels", "openpyxl", "plotly", "duckdb", "pyarrow",
                "pydantic", "pyspark", "py4j")
# A plain run clusters (scikit-learn, scipy) and reads with pyarrow, but draws nothing and
# writes no workbook, lifetime model or sign-up model.
# Nor does it start Spark: pyspark loads only with --engine spark. It writes its model and
# bundle but reads none back, so the schemas that check files read back (pydantic) wait.
NOT_FOR_RUN = ("plotly", "statsmodels", "openpyxl", "pymc", "pyspark", "py4j", "pydantic")

# Runs the command line as ``python -m segmentation ARGS`` would, then lists the top-level
# modules it loaded.
PROBE = r"""
import json, runpy, sys
sys.argv = ["segmentation", *{args!r}]
try:
    runpy.run_module("segmentation", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
sys.stdout = sys.__stdout__
print(json.dumps({{"rc": code, "loaded": sorted({{m.split(".")[0] for m in sys.modules}})}}))
"""


def _loaded(args: list[str]) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["rc"], set(report["loaded"])


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["run", "--help"],
                                  ["score", "--help"]])
def test_version_and_help_load_no_heavy_library(args):
    rc, loaded = _loaded(args)
    assert rc == 0
    assert "segmentation" in loaded  # the probe saw the command line's own imports
    assert loaded.isdisjoint(NOT_FOR_HELP), sorted(loaded & set(NOT_FOR_HELP))


def test_a_plain_run_loads_no_plotting_workbook_or_model_library(tmp_path):
    rc, loaded = _loaded(["run", str(SAMPLE_PATH), "--out", str(tmp_path / "out"),
                          "--k-min", "2", "--k-max", "3", "--n-init", "1"])
    assert rc == 0
    assert (tmp_path / "out" / "assignments.csv").exists()
    assert {"sklearn", "pandas"} <= loaded  # it did cluster
    assert loaded.isdisjoint(NOT_FOR_RUN), sorted(loaded & set(NOT_FOR_RUN))
