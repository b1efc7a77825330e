"""Who may import whom: the engine never loads the app or its plotting, the report and the
charts never load the app, even while the command line writes a report."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT, SAMPLE_PATH

pytestmark = pytest.mark.slow  # fresh interpreters that record every import

PACKAGE = ROOT / "segmentation"
UI_LIBRARIES = ("streamlit", "plotly", "altair")
APP_FOLDERS = ("ui", "pages", "charts", "report")
# Only pages/ and app.py may import ui; nothing the command line reaches may load it.
APP_ONLY = ("ui", "streamlit", "altair")
# The one way into plotting from the engine: the command line's --report imports the
# report, the report draws with the charts, and both draw with plotly.
ALLOWED_IMPORTERS = {
    "report": ("segmentation.cli.commands", "report"),
    "charts": ("report", "charts"),
    "plotly": ("report", "charts", "plotly", "_plotly_utils"),
}

# Runs in a fresh interpreter. A meta-path finder records every attempt to import a
# watched top-level name (even one guarded by try/except ImportError) together with
# the module whose code asked for it, read from the first frame outside the import
# machinery.
RECORDER = r"""
import importlib, json, pkgutil, sys, tempfile

WATCHED = {watched!r}
attempts = []

def importer():
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not name.startswith(("importlib", "_frozen_importlib")):
            return name
        frame = frame.f_back
    return ""

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WATCHED:
            attempts.append([importer(), name])
        return None

sys.meta_path.insert(0, Recorder())

def finish(**extra):
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in WATCHED)
    print(json.dumps({{"attempts": attempts, "loaded": loaded, **extra}}))
"""

# Every submodule is imported and the command line is run once without --report,
# since cli imports its stages lazily.
ENGINE_PROBE = RECORDER + r"""
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
finish(imported=imported, rc=rc)
"""

REPORT_PROBE = RECORDER + r"""
import os
from segmentation.cli import main
with tempfile.TemporaryDirectory() as out:
    rc = main(["run", {sample!r}, "--out", out, "--report", "--k", "3", "--k-min", "2",
               "--k-max", "3", "--n-init", "1"])
    size = os.path.getsize(os.path.join(out, "report.html"))
finish(rc=rc, report_bytes=size)
"""


def _probe(template: str) -> dict:
    code = template.format(watched=UI_LIBRARIES + APP_FOLDERS, sample=str(SAMPLE_PATH))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _top(name: str) -> str:
    return name.split(".")[0]


def test_engine_never_imports_ui_libraries_or_app_folders():
    report = _probe(ENGINE_PROBE)
    expected = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert {f"segmentation.{m}" for m in expected} <= set(report["imported"])
    assert "segmentation.cli" in report["imported"]
    assert report["rc"] == 0
    assert report["attempts"] == []
    assert report["loaded"] == []


def test_writing_the_report_loads_plotting_only_through_the_report():
    report = _probe(REPORT_PROBE)
    assert report["rc"] == 0
    assert report["report_bytes"] > 0
    attempts = [tuple(a) for a in report["attempts"]]
    assert [a for a in attempts if _top(a[1]) in APP_ONLY] == []
    assert "report.html" in report["loaded"]  # the report module itself loads no Streamlit
    assert [m for m in report["loaded"] if _top(m) in APP_ONLY] == []
    # The probe saw the report, the charts and plotly being imported, so the checks
    # below are about real imports, not an empty list.
    assert {_top(name) for _, name in attempts} >= {"report", "charts", "plotly"}
    assert ("segmentation.cli.commands", "report") in attempts
    strays = [(who, name) for who, name in attempts
              if _top(name) in ALLOWED_IMPORTERS
              and who not in ALLOWED_IMPORTERS[_top(name)]
              and _top(who) not in ALLOWED_IMPORTERS[_top(name)]]
    assert strays == []


def _importing(folder: str, names: tuple[str, ...]) -> list[str]:
    """Source files under ``folder`` that import any of ``names``, at any indent."""
    alternatives = "|".join(map(re.escape, names))
    pattern = re.compile(rf"^\s*(import|from)\s+({alternatives})\b", re.MULTILINE)
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    return [str(p.relative_to(ROOT)) for p in files
            if pattern.search(p.read_text(encoding="utf-8"))]


def test_no_engine_source_imports_ui_libraries_or_app_folders():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10
    assert [p for p in files if "import streamlit" in p.read_text(encoding="utf-8")] == []
    assert _importing("segmentation", UI_LIBRARIES + ("ui", "charts")) == []
    # The command line alone may reach the report, and only for --report.
    assert _importing("segmentation", ("report",)) == ["segmentation/cli/commands.py"]


def test_report_and_charts_sources_never_import_the_app():
    for folder in ("report", "charts"):
        assert _importing(folder, APP_ONLY) == [], folder
