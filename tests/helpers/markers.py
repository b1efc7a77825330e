"""The markers a test earns: `engine`, `app`, `browser` and `spark` (see tests/conftest.py)."""

from __future__ import annotations

import inspect
import itertools
import re
import sys
from pathlib import Path

# What a test module holds at module level decides its speed class (the fast engine loop is
# `-m "engine and not slow and not spark"`, the README's). Judged from the objects themselves (where each imported
# class, function or module was defined), so a renamed file or helper cannot slip through.
MODULE_MARKERS = {
    "app": ("streamlit.testing",),  # Streamlit's AppTest: runs whole pages, seconds each
    "browser": ("tools.browser", "playwright"),  # a real Chromium and a running app
}
# Fixtures that make a test slow by nature: the Spark session starts a Java virtual machine.
FIXTURE_MARKERS = {"spark": "spark"}


def _origins(module) -> set[str]:
    """Dotted names of the modules that defined what ``module`` imported at its top level."""
    origins = set()
    for obj in vars(module).values():
        if inspect.ismodule(obj):
            origins.add(obj.__name__)
        elif inspect.isclass(obj) or inspect.isfunction(obj):
            origins.add(getattr(obj, "__module__", None) or "")
    return origins


def module_markers(module, _seen: frozenset[str] = frozenset()) -> list[str]:
    """The speed markers a test module earns from its imports (see ``MODULE_MARKERS``).

    A module that borrows page drivers from another test module (``from tests.app.test_app
    import start``) runs pages as surely as that module does, so it earns that module's
    markers too.
    """
    origins = _origins(module)
    markers = [marker for marker, prefixes in MODULE_MARKERS.items()
               if any(o == p or o.startswith(p + ".") for o in origins for p in prefixes)]
    for origin in sorted(origins - _seen - {module.__name__}):
        if origin.startswith("tests.") and origin in sys.modules:
            for marker in module_markers(sys.modules[origin], _seen | {module.__name__}):
                if marker not in markers:
                    markers.append(marker)
    return markers


# Folders whose every test module earns one marker (tests/architecture/test_markers.py
# checks it): when the -m expression leaves that marker out, the folder is not even
# imported, which spares the engine loop Streamlit's and Playwright's imports.
FOLDER_MARKERS = {"app": "app", "browser": "browser"}


def folder_left_out(folder: str, markexpr: str) -> bool:
    """Whether ``-m markexpr`` deselects every test under ``tests/<folder>`` (a folder or a
    top-level test file), judged by the markers its place decides: ``FOLDER_MARKERS`` and
    ``engine``. Any other marker a test there might carry is left open."""
    from _pytest.mark.expression import Expression

    if not markexpr:
        return False
    known = {"engine": engine_folder(Path(__file__).resolve().parents[1] / folder)}
    if folder in FOLDER_MARKERS:
        known[FOLDER_MARKERS[folder]] = True
    expression = Expression.compile(markexpr)
    others = sorted(set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not"} - set(known))
    held_always = {name for name, on in known.items() if on}
    for values in itertools.product((False, True), repeat=len(others)):
        held = held_always | {name for name, on in zip(others, values, strict=True) if on}
        if expression.evaluate(held.__contains__):
            return False
    return True


# The fewest examples a property test runs however small the share asked for: below this
# hypothesis rarely reaches the edge cases its shrinker is there for.
MIN_EXAMPLES = 10


def scale_examples(test, share: float) -> None:
    """Run ``share`` of a hypothesis test's examples (at least ``MIN_EXAMPLES``), in place.

    The fast loop asks for a fifth (``--examples 0.2``); the full suite runs every example.
    Each test's own settings stay as declared: only the count of examples changes.
    """
    from hypothesis import settings

    test = getattr(test, "__func__", test)  # a test method: its function holds the settings
    declared = getattr(test, "_hypothesis_internal_use_settings", None)
    if declared is None or share >= 1 or getattr(test, "_examples_scaled", False):
        return
    wanted = max(MIN_EXAMPLES, round(declared.max_examples * share))
    test._hypothesis_internal_use_settings = settings(
        declared, max_examples=min(declared.max_examples, wanted))
    test._examples_scaled = True


# The engine's packages: a test folder named after one (tests/data for segmentation/data, ...)
# holds that package's tests, and each of its tests is marked `engine`. The fast loop is
# `-m "engine and not slow and not spark"`; the pages, the report, the charts, the
# architecture checks and the whole-pipeline shape tests run in the full suite.
ENGINE = Path(__file__).resolve().parents[2] / "segmentation"


def engine_folder(test_path: Path) -> bool:
    """Whether ``test_path`` lies in the test folder of one of the engine's packages."""
    tests = Path(__file__).resolve().parents[1]
    try:
        folder = Path(test_path).resolve().relative_to(tests).parts[0]
    except (ValueError, IndexError):
        return False
    return (ENGINE / folder / "__init__.py").is_file()
