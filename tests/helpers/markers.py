"""The speed markers a test earns: `app`, `browser` and `spark` (see tests/conftest.py)."""

from __future__ import annotations

import inspect
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
