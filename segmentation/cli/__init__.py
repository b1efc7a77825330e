"""Command line: ``python -m segmentation run|score|compare|predict``.

Exit 0 on success; on bad input, exit 2 with one ``error: ...`` line on
stderr and no traceback. The arguments are declared in :mod:`.parser`, each
command is a function in :mod:`.commands`.
"""

from __future__ import annotations

import sys

from segmentation.cli.commands import COMMANDS, RUN_FILES
from segmentation.cli.parser import build_parser
from segmentation.errors import SegmentationError

__all__ = ["RUN_FILES", "build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SegmentationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: not enough memory for this file: try a smaller file or fewer variables.",
              file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still no traceback for the user, but say what it was
        print(f"error: unexpected {type(exc).__name__}: {exc} (please report this).",
              file=sys.stderr)
        return 1
