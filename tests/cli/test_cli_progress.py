"""The progress line: drawn in place on a terminal's stderr, absent when stderr is piped."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import pytest

from segmentation.cli import main
from segmentation.cli.progress import Progress
from segmentation.pipeline import (
    STAGE_PREPARING,
    STAGE_READING,
    STAGE_SEGMENTING,
    STAGE_SWEEPING,
    run,
)
from tests.helpers import CHEAP, ROOT, SAMPLE_PATH

pytestmark = pytest.mark.slow  # whole command-line runs, one on a pseudo-terminal

ARGS = ["run", str(SAMPLE_PATH), "--k-min", "2", "--k-max", "3", "--n-init", "1"]
RUN = [sys.executable, "-m", "segmentation", *ARGS]
STAGES = [STAGE_READING, STAGE_PREPARING, STAGE_SWEEPING, STAGE_SEGMENTING]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_tells_progress_each_stage_in_order():
    seen = []
    run(SAMPLE_PATH, CHEAP, progress=seen.append)
    assert seen == STAGES


def test_progress_redraws_one_line_on_a_terminal_and_wipes_it():
    screen = _Terminal()
    with Progress(screen) as progress:
        progress("reading a long stage name")
        progress("writing")
    text = screen.getvalue()
    assert text.startswith("\rreading a long stage name... (")
    assert "\n" not in text
    drawn = text.split("\r")
    # The shorter line is padded over the longer one, and the last write blanks the line.
    assert drawn[2].startswith("writing... (") and len(drawn[2]) == len(drawn[1])
    assert drawn[-2].strip() == "" and drawn[-1] == ""


def test_progress_writes_nothing_when_not_a_terminal():
    captured = io.StringIO()
    with Progress(captured) as progress:
        progress("reading")
    assert captured.getvalue() == ""


def test_the_command_line_shows_progress_on_a_terminal(tmp_path):
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run([*RUN, "--out", str(tmp_path / "out")], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=terminal, timeout=300)
    finally:
        os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal's other end is closed: everything has been read
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.returncode == 0
    text = shown.decode()
    for stage in [*STAGES, "writing"]:
        assert f"\r{stage}... (" in text
    assert b"segmented" in proc.stdout and b"\r" not in proc.stdout


def test_the_command_line_shows_no_progress_when_piped(tmp_path, capsys):
    # In-process: the progress line only asks whether stderr is a terminal, and a captured
    # stream answers as a pipe does; the real terminal is the fresh interpreter above.
    assert main([*ARGS, "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err and "..." not in captured.err
    assert "segmented" in captured.out
