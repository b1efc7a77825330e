"""Reading the project's JSON files (model, bundle, roles) within bounds.

A model or bundle may come from anyone: it is read only from a regular file,
only up to ``MAX_JSON_BYTES``, and JSON nested too deeply to parse is refused,
each with one sentence, before any of it is trusted.
"""

from __future__ import annotations

import json
from pathlib import Path

from segmentation.config import (
    MAX_JSON_BYTES,
)
from segmentation.errors import SegmentationError


def read_json(source: bytes | str | Path, what: str, remedy: str):
    """Parse a JSON file (a path) or its bytes.

    ``what`` names the file in messages ("the model", "the bundle"); ``remedy``
    says what to pass instead.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            if not path.exists():
                raise SegmentationError(
                    f"Cannot open {what} {str(path)!r} (No such file or directory): "
                    "check the path."
                )
            if not path.is_file():
                raise SegmentationError(
                    f"{what.capitalize()} {str(path)!r} is not a regular file: {remedy}."
                )
            if path.stat().st_size > MAX_JSON_BYTES:
                raise SegmentationError(
                    f"{what.capitalize()} {str(path)!r} is larger than "
                    f"{MAX_JSON_BYTES // 2**20} MB: {remedy}."
                )
            data = path.read_bytes()
        except OSError as exc:
            raise SegmentationError(
                f"Cannot open {what} {str(path)!r} ({exc.strerror}): check the path."
            ) from None
    else:
        data = bytes(source)
        if len(data) > MAX_JSON_BYTES:
            raise SegmentationError(
                f"{what.capitalize()} is larger than {MAX_JSON_BYTES // 2**20} MB: {remedy}."
            )
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SegmentationError(f"{what.capitalize()} is not valid JSON: {remedy}.") from None
    except RecursionError:
        raise SegmentationError(
            f"{what.capitalize()} is nested too deeply to be a file of this tool: {remedy}."
        ) from None
