"""The fast loop (`-m "not app and not browser and not spark"`) leaves out every page test."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

from tests.helpers.markers import module_markers

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_that_drives_pages_is_marked_app():
    # Each test module under tests/app drives pages, directly with AppTest or through the
    # page helpers of another test module; none may run in the engine loop.
    unmarked = []
    for path in sorted((ROOT / "tests" / "app").glob("test_*.py")):
        module = importlib.import_module(f"tests.app.{path.stem}")
        if "app" not in module_markers(module):
            unmarked.append(path.name)
    assert not unmarked


def test_borrowing_a_page_helper_from_another_test_module_carries_its_marker(monkeypatch):
    import sys

    from streamlit.testing.v1 import AppTest

    pages = types.ModuleType("tests.fake_pages")
    pages.AppTest = AppTest

    def start():
        return None

    start.__module__ = "tests.fake_pages"
    pages.start = start
    borrower = types.ModuleType("tests.fake_borrower")
    borrower.start = start
    monkeypatch.setitem(sys.modules, "tests.fake_pages", pages)
    assert module_markers(pages) == ["app"]
    assert module_markers(borrower) == ["app"]
    # Borrowing from a module that drives nothing earns nothing.
    plain = types.ModuleType("tests.fake_plain")

    def helper():
        return None

    helper.__module__ = "tests.fake_plain"
    monkeypatch.setitem(sys.modules, "tests.fake_plain", plain)
    user = types.ModuleType("tests.fake_user")
    user.helper = helper
    assert module_markers(user) == []
