"""The speed markers a test earns: `app`, `browser` and `spark` (see tests/conftest.py)."""

from __future__ import annotations

import inspect
import itertools
import re
import sys

# What a test module holds at module level decides its speed class: the fast engine loop is
# `-m "not app and not browser and not spark"`. Judged from the objects themselves (where each imported
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
    """Whether ``-m markexpr`` deselects every test of a folder in ``FOLDER_MARKERS``."""
    from _pytest.mark.expression import Expression

    marker = FOLDER_MARKERS.get(folder)
    if marker is None or not markexpr:
        return False
    expression = Expression.compile(markexpr)
    # A test of the folder has the marker and may have any of the others named: left out
    # only if no such test could be selected.
    others = sorted(set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not", marker})
    for values in itertools.product((False, True), repeat=len(others)):
        held = {marker, *(name for name, on in zip(others, values, strict=True) if on)}
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
