"""Every command's outputs equal the committed reference outputs (``tools/golden.py``).

The reference was written before the engine was split into subpackages; this test keeps
any later restructuring honest. Numbers are compared within a relative 1e-9 (the order
of floating-point sums may differ between BLAS builds), everything else exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tools import golden

pytestmark = pytest.mark.slow  # whole command-line runs, about 12 s

REFERENCE = Path(__file__).parent / "golden"
RTOL = 1e-9


def _close(a, b, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), f"{where}: keys differ: {sorted(set(a) ^ set(b))}"
        for key in a:
            _close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} items, reference {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{where}: {a!r} vs {b!r}"
        assert math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12), f"{where}: {a!r} vs reference {b!r}"
    else:
        assert a == b, f"{where}: {a!r} vs reference {b!r}"


def _compare(new: Path, ref: Path) -> None:
    where = str(ref.relative_to(REFERENCE))
    if ref.suffix == ".json":
        _close(json.loads(new.read_text(encoding="utf-8")),
               json.loads(ref.read_text(encoding="utf-8")), where)
    elif ref.suffix == ".csv":
        got = pd.read_csv(new, dtype=object, keep_default_na=False)
        want = pd.read_csv(ref, dtype=object, keep_default_na=False)
        assert list(got.columns) == list(want.columns), where
        assert len(got) == len(want), where
        for column in want.columns:
            a = pd.to_numeric(got[column], errors="coerce")
            b = pd.to_numeric(want[column], errors="coerce")
            numeric = b.notna() & want[column].ne("")
            assert (got[column][~numeric] == want[column][~numeric]).all(), f"{where}:{column}"
            assert (a[numeric].notna()).all(), f"{where}:{column} lost numbers"
            pd.testing.assert_series_equal(a[numeric], b[numeric], check_exact=False, rtol=RTOL,
                                           obj=f"{where}:{column}")
    else:
        assert new.read_text(encoding="utf-8") == ref.read_text(encoding="utf-8"), where


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden") / "out"
    return out, golden.produce(out)


@pytest.mark.parametrize("case", ["sample", "orders", "real"])
def test_outputs_equal_the_reference(produced, case):
    out, cases = produced
    if case not in cases:
        pytest.skip(f"{golden.REAL} is absent, so the real export's outputs cannot be produced")
    reference = sorted(p.relative_to(REFERENCE / case)
                       for p in (REFERENCE / case).rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(out / case) for p in (out / case).rglob("*") if p.is_file())
    assert fresh == reference
    for name in reference:
        _compare(out / case / name, REFERENCE / case / name)


def test_the_comparison_catches_a_changed_number(produced, tmp_path):
    out, _ = produced
    ref = REFERENCE / "sample" / "run" / "profiles.csv"
    frame = pd.read_csv(ref, dtype=object, keep_default_na=False)
    numeric = next(c for c in frame.columns if pd.to_numeric(frame[c], errors="coerce").notna().all())
    frame.loc[0, numeric] = str(float(frame.loc[0, numeric]) * (1 + 1e-6) + 1e-6)
    changed = tmp_path / "profiles.csv"
    frame.to_csv(changed, index=False)
    with pytest.raises(AssertionError):
        _compare(changed, ref)
