"""The markers that select the fast loop (`-m "engine and not slow and not spark"`) and the others."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

import pytest

from tests.helpers.markers import engine_folder, folder_left_out, module_markers, scale_examples

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


def test_every_browser_module_is_marked_browser():
    for path in sorted((ROOT / "tests" / "browser").glob("test_*.py")):
        module = importlib.import_module(f"tests.browser.{path.stem}")
        assert "browser" in module_markers(module), path.name


@pytest.mark.parametrize(("folder", "markexpr", "left_out"), [
    ("app", "not app and not browser and not spark and not slow", True),
    ("app", "not app", True),
    ("app", "", False),
    ("app", "app", False),
    ("app", "slow", False),  # a slow page test could match
    ("app", "not browser", False),
    ("browser", "not app and not browser", True),
    ("browser", "browser or app", False),
    ("cluster", "not app", False),
    # The fast loop: the engine's package folders only.
    ("report", "engine and not slow and not spark", True),
    ("test_golden.py", "engine and not slow and not spark", True),
    ("cluster", "engine and not slow and not spark", False),
    ("spark", "engine and not slow and not spark", False),  # a test there may not use Spark
    ("report", "not engine", False),
    ("cluster", "not engine", True),
])
def test_a_folder_is_skipped_only_when_the_expression_rejects_its_marker(folder, markexpr,
                                                                         left_out):
    assert folder_left_out(folder, markexpr) is left_out


def _counting_property(max_examples: int):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    calls = []

    @settings(max_examples=max_examples, deadline=None, database=None)
    @given(st.integers())
    def prop(x):
        calls.append(x)

    return prop, calls


@pytest.mark.parametrize(("declared", "share", "runs"), [
    (300, 0.2, 60), (50, 0.2, 10), (20, 0.2, 10), (5, 0.2, 5), (300, 1.0, 300)])
def test_the_fast_loop_runs_a_share_of_each_property_tests_examples(declared, share, runs):
    prop, calls = _counting_property(declared)
    scale_examples(prop, share)
    scale_examples(prop, share)  # a parametrized test is scaled once, not once per case
    prop()
    # Hypothesis stops early only when it has run out of distinct inputs, which integers never do.
    assert len(calls) == runs


def test_the_engine_folders_are_those_named_after_the_engines_packages():
    tests = ROOT / "tests"
    packages = {p.parent.name for p in (ROOT / "segmentation").glob("*/__init__.py")}
    marked = {p.name for p in tests.iterdir() if p.is_dir() and engine_folder(p / "test_x.py")}
    assert marked == packages & {p.name for p in tests.iterdir() if p.is_dir()}
    assert {"data", "prepare", "cluster", "describe", "validate", "plan", "export"} <= marked
    assert not engine_folder(tests / "report" / "test_report.py")
    assert not engine_folder(tests / "test_golden.py")
    assert not engine_folder(ROOT / "segmentation" / "data" / "dataset.py")
