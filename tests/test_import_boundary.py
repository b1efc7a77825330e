"""The engine is pure Python: importing or running it never pulls in the app's UI libraries."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT, SAMPLE_PATH

PACKAGE = ROOT / "segmentation"
FORBIDDEN = ("streamlit", "plotly", "altair")

# Runs in a fresh interpreter. A meta-path finder records every attempt to import a
# forbidden library (even one guarded by try/except ImportError), then every submodule
# is imported and the command line is run once, since cli imports its stages lazily.
PROBE = r"""
import importlib, json, pkgutil, sys, tempfile

FORBIDDEN = {forbidden!r}
attempts = []

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            attempts.append(name)
        return None

sys.meta_path.insert(0, Recorder())

import segmentation
imported = ["segmentation"]
for info in pkgutil.walk_packages(segmentation.__path__, "segmentation."):
    if info.name == "segmentation.__main__":
        continue  # importing it runs the command line and exits
    importlib.import_module(info.name)
    imported.append(info.name)

from segmentation.cli import main
with tempfile.TemporaryDirectory() as out:
    rc = main(["run", {sample!r}, "--out", out, "--k", "3", "--k-min", "2", "--k-max", "3",
               "--n-init", "1"])

loaded = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
print(json.dumps({{"imported": imported, "attempts": attempts, "loaded": loaded, "rc": rc}}))
"""


def test_engine_never_imports_ui_libraries():
    code = PROBE.format(forbidden=FORBIDDEN, sample=str(SAMPLE_PATH))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert {f"segmentation.{m}" for m in expected} <= set(report["imported"])
    assert "segmentation.cli" in report["imported"]
    assert report["rc"] == 0
    assert report["attempts"] == []
    assert report["loaded"] == []


def test_no_source_file_imports_ui_libraries():
    pattern = re.compile(r"^\s*(import|from)\s+(streamlit|plotly|altair)\b", re.MULTILINE)
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10
    offenders = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if "import streamlit" in text or pattern.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
