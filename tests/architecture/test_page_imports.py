"""What the studio's pages load: a page loads a library when it draws with it or a user
asks for what needs it. The spreadsheet writers (openpyxl, xlsxwriter) load when a file is
built, the schemas that check files read back (pydantic) when one is read. Checked on a
fresh interpreter driving the pages with AppTest, by module name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # a fresh interpreter running the studio

# Together about 0.15 s of a page's first visit on this machine, for nothing it shows.
NOT_ON_VISIT = ("openpyxl", "xlsxwriter", "pydantic")

PROBE = r"""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120).run()
errors = [e.message for e in at.exception]
for page in {pages!r}:
    at.switch_page(page).run()
    errors += [e.message for e in at.exception]
print(json.dumps({{"errors": errors, "titles": [t.value for t in at.title],
                   "loaded": sorted({{m.split(".")[0] for m in sys.modules}})}}))
"""


@pytest.mark.parametrize("pages", [["pages/personas.py"], ["pages/plan.py"],
                                   ["pages/variables.py", "pages/personas.py",
                                    "pages/explore.py", "pages/validate.py", "pages/plan.py"]])
def test_visiting_pages_loads_no_spreadsheet_writer_or_file_schema(pages):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(pages=pages)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["titles"], "the last page drew nothing"
    loaded = set(report["loaded"])
    assert {"sklearn", "plotly"} <= loaded  # the probe saw the pages' own imports
    assert loaded.isdisjoint(NOT_ON_VISIT), sorted(loaded & set(NOT_ON_VISIT))
