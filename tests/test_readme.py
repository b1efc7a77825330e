"""The README's Python example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import os
import re

from tests.helpers import ROOT


def _blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def test_the_python_api_example_prints_the_output_shown():
    code, shown = _blocks("python")[0], _blocks("text")[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 5
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert printed.getvalue() == shown
