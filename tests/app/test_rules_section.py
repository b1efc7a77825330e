"""The persona cards show each segment's rules as the engine words them, escaped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation import run
from segmentation.describe.rules import persona_rules
from tests.helpers import to_tsv_bytes
from ui.rules_section import HEADING

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PERSONAS = "pages/personas.py"
SCRIPT = "<script>alert(1)</script>"


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def _unescaped(text: str) -> str:
    """Markdown text as the reader sees it: every backslash escape taken off."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


def _rule_blocks(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.markdown if str(m.value).startswith(f"**{HEADING}:**")]


def test_the_cards_show_the_engines_rules_and_how_well_they_hold(sample_path):
    at = _ok(AppTest.from_file(APP, default_timeout=120).run())
    _ok(at.switch_page(PERSONAS).run())
    rules = persona_rules(run(sample_path))
    blocks = [_unescaped(b) for b in _rule_blocks(at)]
    expected = [s for s in rules.segments if s.shown]
    assert expected, "the sample's segments have simple rules"
    assert len(blocks) == len(expected)
    for block, s in zip(blocks, expected, strict=True):
        assert block.splitlines()[1:] == [f"- {r.text}" for r in s.shown]
    captions = [_unescaped(str(c.value)) for c in at.caption]
    for s in rules.segments:
        assert s.verdict in captions


@pytest.fixture(scope="module")
def hostile_upload() -> bytes:
    rng = np.random.default_rng(0)
    n, group = 300, np.arange(300) % 3
    return to_tsv_bytes(pd.DataFrame({
        "id": [f"C{i}" for i in range(n)],
        SCRIPT: np.round(np.array([10, 50, 90])[group] + rng.normal(0, 5, n), 1),
        "[x](https://evil.example)": np.round(np.array([5, 5, 60])[group]
                                              + rng.normal(0, 4, n), 1)}))


def test_rules_naming_hostile_columns_are_shown_as_text(hostile_upload):
    at = _ok(AppTest.from_file(APP, default_timeout=120).run())
    _ok(at.switch_page("pages/data.py").run())
    _ok(at.file_uploader(key="w.upload").upload("hostile.tsv", hostile_upload).run())
    _ok(at.switch_page(PERSONAS).run())
    blocks = _rule_blocks(at)
    assert blocks
    joined = "\n".join(blocks)
    assert SCRIPT not in joined and "](" not in joined  # escaped, so neither tag nor link
    assert SCRIPT in _unescaped(joined)
