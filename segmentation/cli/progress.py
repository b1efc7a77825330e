"""The line on the terminal that says which stage a long command is in.

Drawn on stderr, in place with a carriage return, and only when stderr is a terminal:
piped or captured output (scripts, CI, the tests' reference outputs) stays exactly as it
was, and stdout is never touched.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """A callable for the engine's ``progress`` argument: ``progress("sweeping K")``.

    Parameters
    ----------
    stream : text stream, optional
        Where to draw; default ``sys.stderr``. Nothing is drawn unless
        ``stream.isatty()`` is true.

    Examples
    --------
    >>> with Progress() as progress:  # doctest: +SKIP
    ...     result = run("customers.csv", progress=progress)
    """

    def __init__(self, stream: TextIO | None = None):
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.started = time.perf_counter()
        self.width = 0

    def __call__(self, stage: str) -> None:
        if not self.live:
            return
        line = f"{stage}... ({time.perf_counter() - self.started:.0f} s)"
        # Padded to the last line's width, so a shorter line leaves no tail of the old one.
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def clear(self) -> None:
        """Wipe the line, so that what is printed next starts at the left margin."""
        if self.live and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.clear()
