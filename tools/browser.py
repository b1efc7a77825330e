"""Run the studio and drive it in Debian's headless Chromium (Playwright).

Shared by the browser journey test and the README tour screenshots.
Playwright's own browser download is not used: Chromium comes from the
system package.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


# The studio as the README starts it: app.py on a server that warms itself (serve.py).
STUDIO = "serve.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(timeout: float = 60.0, script: str = STUDIO):
    """Start ``streamlit run SCRIPT`` (the studio by default, served as the README starts
    it) on a free local port; yield its URL; stop it. ``script`` is relative to the
    repository root (see :func:`running_server`).
    """
    with running_server(timeout, script) as (url, _):
        yield url


@contextlib.contextmanager
def running_server(timeout: float = 60.0, script: str = STUDIO):
    """:func:`running_app`, yielding the URL and the server's process (for its CPU time).

    The server's output goes to a temporary file, never to a pipe: a pipe that
    nobody reads fills after 64 KB of log lines and then blocks the server on
    its next write, so it stops answering.
    """
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(url):
                if time.monotonic() > deadline or proc.poll() is not None:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(
                        f"the app did not start within {timeout:.0f} s: {output}")
                time.sleep(0.5)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process has used so far, all its threads (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def settle(page, title: str) -> None:
    """Wait until the page's title is shown and its script run has finished.

    Streamlit marks the app element with its script state; skeletons and
    spinners stand in for elements still being computed.
    """
    page.wait_for_timeout(300)  # let a click's rerun start before waiting for its end
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=90_000)
    for placeholder in ("stSkeleton", "stSpinner"):
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=\"{placeholder}\"]').length == 0",
            timeout=90_000)
    page.wait_for_timeout(500)


def go_to(page, link: str, title: str | None = None) -> None:
    """Click a sidebar link (a URL would start a new, empty session) and wait for the page."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    settle(page, title or link)
