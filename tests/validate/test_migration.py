"""Re-running on new data: migration matrix, rate, PSI, movers, drift and ``compare``."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation import RunConfig, run
from segmentation.cli import main
from segmentation.errors import SegmentationError
from segmentation.export.outputs import neutralise
from segmentation.validate.migration import (
    FILE_NAMES,
    _migration_reading,
    _psi,
    _psi_reading,
    compare_assignments,
    drift,
    read_assignments,
)
from segmentation.validate.stability import _signature, match_segments
from tests.helpers import ROOT, planted_customers, to_tsv_bytes

HIGH = "High-Income Big Spenders"
FAMILIES = "Budget Families"
LAPSED = "Lapsed Customers"
ODD_IDS = ["007", "0042", '=HYPERLINK("http://x","y")', "-5x", "+1-555", "@home", "-12"]
FAST = ["--k", "3", "--k-min", "3", "--k-max", "3", "--n-init", "2"]


def table(rows) -> pd.DataFrame:
    """An assignment table from (customer_id, persona) pairs; segment numbers are arbitrary."""
    ids, personas = zip(*rows, strict=True) if rows else ((), ())
    codes = {p: i for i, p in enumerate(sorted(set(personas)))}
    return pd.DataFrame({"customer_id": list(ids), "segment": [codes[p] for p in personas],
                         "persona": list(personas)})


def moved(n: int, changed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` customers in persona A, of whom ``changed`` are in B next quarter."""
    old = table([(f"c{i}", "A") for i in range(n)])
    new = table([(f"c{i}", "B" if i < changed else "A") for i in range(n)])
    return old, new


def call(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


# --- migration matrix and rate --------------------------------------------------------------------

@pytest.fixture
def small():
    """Ten customers last quarter; eight stay, two leave, two arrive; three of eight change."""
    old = table([("1", HIGH), ("2", HIGH), ("3", HIGH), ("4", HIGH), ("5", FAMILIES),
                 ("6", FAMILIES), ("7", FAMILIES), ("8", LAPSED), ("9", LAPSED), ("10", HIGH)])
    new = table([("1", HIGH), ("2", LAPSED), ("3", FAMILIES), ("4", HIGH), ("5", FAMILIES),
                 ("6", FAMILIES), ("7", HIGH), ("8", LAPSED), ("11", HIGH), ("12", LAPSED)])
    return old, new


def test_matrix_counts_by_hand(small):
    m = compare_assignments(*small)
    # common ids 1..8: HIGH 1,2,3,4 -> HIGH, LAPSED, FAMILIES, HIGH; FAMILIES 5,6,7 -> F, F, HIGH
    expected = {(HIGH, HIGH): 2, (HIGH, LAPSED): 1, (HIGH, FAMILIES): 1,
                (FAMILIES, FAMILIES): 2, (FAMILIES, HIGH): 1, (LAPSED, LAPSED): 1}
    for (a, b), n in expected.items():
        assert m.matrix.loc[a, b] == n, (a, b)
    assert int(m.matrix.to_numpy().sum()) == sum(expected.values()) == m.customers_both == 8
    assert (m.customers_old, m.customers_new, m.only_old, m.only_new) == (10, 10, 2, 2)
    assert m.matrix.index.name == "old_persona" and m.matrix.columns.name == "new_persona"


def test_rate_and_row_percent_by_hand(small):
    m = compare_assignments(*small)
    assert m.rate == pytest.approx(3 / 8)  # customers 2, 3 and 7 changed persona
    np.testing.assert_allclose(m.row_percent.sum(axis=1), 100.0)
    assert m.row_percent.loc[HIGH, HIGH] == pytest.approx(50.0)
    assert m.row_percent.loc[FAMILIES, HIGH] == pytest.approx(100 / 3)
    assert m.reading.startswith("high churn")  # 37.5% > 30%
    assert m.leaving()[HIGH] == pytest.approx(0.5)
    assert m.leaving().index[0] == HIGH  # the segment that loses the most comes first


def test_personas_are_compared_by_name_not_segment_number():
    old = table([("1", "A"), ("2", "B"), ("3", "C")])
    new = old.copy()
    new["segment"] = new["segment"].map({0: 2, 1: 0, 2: 1})  # a new run numbers them afresh
    m = compare_assignments(old, new)
    assert m.basis == "persona"
    assert m.rate == 0.0
    assert np.trace(m.matrix.to_numpy()) == 3


def test_without_persona_names_segment_numbers_are_compared_with_a_note():
    old = table([("1", "A"), ("2", "B"), ("3", "C"), ("4", "C")]).drop(columns="persona")
    new = old.copy()
    new.loc[0, "segment"] = 2
    m = compare_assignments(old, new)
    assert m.basis == "segment"
    assert m.rate == pytest.approx(1 / 4)
    assert "Segment 2" in m.matrix.columns
    assert any("segment numbers" in note for note in m.notes)


@pytest.mark.parametrize("n, changed, reading", [
    (100, 0, "stable personas"),
    (100, 9, "stable personas"),
    (100, 10, "moderate movement: watch the segments that lose the most"),
    (100, 30, "moderate movement: watch the segments that lose the most"),
    (100, 31, "high churn between segments: simplify the segments (fewer, broader)"),
    (10, 10, "high churn between segments: simplify the segments (fewer, broader)"),
])
def test_reading_thresholds_at_10_and_30_percent(n, changed, reading):
    m = compare_assignments(*moved(n, changed))
    assert m.rate == pytest.approx(changed / n)
    assert m.reading == reading
    assert _migration_reading(changed / n) == reading


def test_no_customer_in_common_gives_no_rate_but_still_shares():
    m = compare_assignments(table([("1", "A"), ("2", "B")]), table([("3", "A"), ("4", "A")]))
    assert m.customers_both == 0 and math.isnan(m.rate)
    assert m.matrix.empty
    assert m.psi > 0
    assert any("no customer id in common" in note for note in m.notes)


@pytest.mark.parametrize("which", ["old", "new"])
def test_duplicate_ids_are_refused(which):
    ok = table([("1", "A"), ("2", "B")])
    dup = table([("1", "A"), ("2", "B"), ("2", "A")])
    args = (dup, ok) if which == "old" else (ok, dup)
    with pytest.raises(SegmentationError, match=rf"(?i){which} assignments.*'2' \(2 times\)"):
        compare_assignments(*args)


def test_missing_column_is_named():
    frame = table([("1", "A")]).drop(columns="customer_id")
    with pytest.raises(SegmentationError, match="'customer_id'.*assignments.csv"):
        compare_assignments(frame, table([("1", "A")]))


# --- PSI ------------------------------------------------------------------------------------------

def test_psi_by_hand():
    # old shares A 0.5, B 0.3, C 0.2; new A 0.4, B 0.4, C 0.2:
    # (0.4 - 0.5) ln(0.4 / 0.5) + (0.4 - 0.3) ln(0.4 / 0.3) + 0 = 0.0223144 + 0.0287682
    old = table([(str(i), p) for i, p in enumerate("AAAAABBBCC")])
    new = table([(str(i), p) for i, p in enumerate("AAAABBBBCC")])
    m = compare_assignments(old, new)
    assert m.psi == pytest.approx(0.0510826, abs=1e-6)
    assert m.psi_reading == "no significant change"
    shares = m.shares.set_index("persona")
    assert shares.loc["A", "old_share"] == 0.5 and shares.loc["B", "new_share"] == 0.4
    assert shares.loc["B", "change"] == pytest.approx(0.1)


def test_psi_uses_epsilon_for_a_persona_that_appears():
    # old A 0.5, B 0.5, C 0 (-> 1e-4); new A 0.5, B 0.25, C 0.25
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.25 - 1e-4) * math.log(0.25 / 1e-4)
    assert _psi([0.5, 0.5, 0.0], [0.5, 0.25, 0.25]) == pytest.approx(expected)
    assert expected == pytest.approx(2.128516, abs=1e-6)
    old = table([("1", "A"), ("2", "A"), ("3", "B"), ("4", "B")])
    new = table([("1", "A"), ("2", "A"), ("3", "B"), ("4", "C")])
    m = compare_assignments(old, new)
    assert m.psi == pytest.approx(expected)
    assert m.psi_reading == "significant shift"


def test_psi_is_zero_for_identical_shares():
    assert _psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    old = table([(str(i), p) for i, p in enumerate("AABBC")])
    new = table([(str(i), p) for i, p in enumerate("BBCAA")])  # everyone moved, shares did not
    m = compare_assignments(old, new)
    assert m.psi == pytest.approx(0.0, abs=1e-15)
    assert m.rate == 1.0


@pytest.mark.parametrize("value, reading", [
    (0.0, "no significant change"), (0.0999, "no significant change"),
    (0.1, "moderate change"), (0.25, "moderate change"), (0.2501, "significant shift"),
])
def test_psi_reading_thresholds(value, reading):
    assert _psi_reading(value) == reading


shares = st.lists(st.floats(0, 1), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_psi_is_non_negative_and_symmetric(data):
    old = data.draw(shares)
    new = data.draw(st.lists(st.floats(0, 1), min_size=len(old), max_size=len(old)))
    value = _psi(old, new)
    assert value >= 0
    assert value == pytest.approx(_psi(new, old), rel=1e-9, abs=1e-12)
    if old == new:
        assert value == 0


# --- movers ---------------------------------------------------------------------------------------

def test_movers_from_high_value_to_lapsed_by_name():
    premium = "Premium Wine Lovers"
    lapsed_rich = "Lapsed High-Income Customers"
    old = table([("a", HIGH), ("b", HIGH), ("c", premium), ("d", FAMILIES), ("e", lapsed_rich),
                 ("f", "Big Spenders, Web"), ("g", HIGH)])
    new = table([("a", LAPSED), ("b", HIGH), ("c", lapsed_rich), ("d", LAPSED), ("e", HIGH),
                 ("f", "Lapsed Low Spenders"), ("h", LAPSED)])
    m = compare_assignments(old, new)
    assert m.movers["customer_id"].tolist() == ["a", "c", "f"]
    assert m.movers.set_index("customer_id").loc["c", "new_persona"] == lapsed_rich
    # a name that is both counts as lapsed only: "e" moved from lapsed to high-value
    assert lapsed_rich in m.lapsed and lapsed_rich not in m.high_value
    assert set(m.high_value) == {HIGH, premium, "Big Spenders, Web"}


def test_movers_with_given_persona_sets():
    old = table([("a", "Gold"), ("b", "Gold"), ("c", "Wine")])
    new = table([("a", "Quiet"), ("b", "Gold"), ("c", "Quiet")])
    m = compare_assignments(old, new, high_value={"Gold"}, lapsed={"Quiet", "Nowhere"})
    assert m.movers["customer_id"].tolist() == ["a"]
    assert any("'Nowhere'" in note for note in m.notes)
    assert compare_assignments(old, new).movers.empty  # no name says high-value or lapsed


# --- hypothesis: random pairs of tables -----------------------------------------------------------

@st.composite
def assignment_pair(draw):
    pool = [f"{i:03d}" for i in range(25)]
    personas = ["A", "B", "C", "D"]

    def one():
        ids = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=25, unique=True))
        return {i: draw(st.sampled_from(personas)) for i in ids}

    return one(), one()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assignment_pair())
def test_random_pairs(pair):
    old_map, new_map = pair
    m = compare_assignments(table(list(old_map.items())), table(list(new_map.items())))
    common = [i for i in old_map if i in new_map]
    assert int(m.matrix.to_numpy().sum()) == len(common) == m.customers_both
    assert m.only_old + m.customers_both == len(old_map)
    assert m.only_new + m.customers_both == len(new_map)
    assert m.psi >= 0
    if not common:
        assert math.isnan(m.rate)
        return
    assert 0 <= m.rate <= 1
    changed = sum(old_map[i] != new_map[i] for i in common)
    assert m.rate == pytest.approx(changed / len(common))
    stayed = sum(m.matrix.loc[p, p] for p in m.matrix.index if p in m.matrix.columns)
    assert m.rate == pytest.approx(1 - stayed / len(common))
    if set(m.matrix.index) == set(m.matrix.columns):  # names match up: the diagonal is "stayed"
        assert m.rate == pytest.approx(1 - np.trace(m.matrix.to_numpy()) / len(common))
    np.testing.assert_allclose(m.row_percent.sum(axis=1), 100.0)


# --- reading files --------------------------------------------------------------------------------

def test_read_assignments_undoes_the_export_apostrophe():
    data = (b"customer_id,segment,persona\n"
            b"007,0,A\n"
            b"\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1,B\n"
            b"'-5x,0,A\n"
            b"-12,1,'@odd\n"
            b"'plain,0,A\n"
            b"NA,1,B\n")
    frame = read_assignments(data)
    assert frame["customer_id"].tolist() == ["007", '=HYPERLINK("http://x","y")', "-5x", "-12",
                                             "'plain", "NA"]
    assert frame["persona"].tolist()[3] == "@odd"
    assert frame["segment"].tolist() == [0, 1, 0, 1, 0, 1]


def test_read_assignments_accepts_semicolons_and_a_byte_order_mark():
    frame = read_assignments("\ufeffcustomer_id;segment;persona\n01;0;A, B\n".encode())
    assert frame.loc[0, "customer_id"] == "01" and frame.loc[0, "persona"] == "A, B"


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"\n \n", "empty"),
    (bytes(range(256)) * 20, "not a CSV"),
    (b"customer_id,segment,persona\n", "no customer rows"),
    (b"customer_id,persona\n1,A\n", "'segment'"),
    (b"id,segment,persona\n1,0,A\n", "'customer_id'"),
    (b"customer_id,segment,persona\n1,0,A\n1,1,B\n", "more than once"),
    (b"customer_id,segment,persona\n1,zero,A\n", "whole number"),
    (b"customer_id,segment,persona\n,0,A\n", "without a customer_id"),
    (b'{"customer_id": 1, "segment": 2}\n', "'customer_id'"),
])
def test_read_assignments_refuses_bad_files(data, fragment):
    with pytest.raises(SegmentationError, match=fragment):
        read_assignments(data, name="old.csv")


# --- drift ----------------------------------------------------------------------------------------

def test_drift_by_hand():
    old_z = pd.DataFrame({"x": [1.0, -1.0], "y": [0.0, 0.5]}, index=[0, 1])
    new_z = pd.DataFrame({"y": [0.4, 2.0, 0.0], "x": [-0.8, 1.5, 0.0], "w": [9.0, 9.0, 9.0]})
    old_means = pd.DataFrame({"x": [10.0, 2.0], "y": [5.0, 6.0]})
    new_means = pd.DataFrame({"y": [6.5, 9.0, 1.0], "x": [3.0, 12.0, 1.0]})
    out = drift(old_z, new_z, {1: 0, 0: 1}, old_means, new_means, names={1: "Wine Lovers"})
    assert list(out.columns) == ["new_segment", "old_segment", "persona", "variable",
                                 "old_mean", "new_mean", "change", "change_in_sd"]
    assert set(out["variable"]) == {"x", "y"}  # w is only in the new run
    row = out.set_index(["new_segment", "variable"])
    # new 1 <- old 0: x 1.0 -> 1.5 (10 -> 12), y 0.0 -> 2.0 (5 -> 9)
    assert row.loc[(1, "y"), "change_in_sd"] == pytest.approx(2.0)
    assert row.loc[(1, "x"), "change"] == pytest.approx(2.0)
    assert row.loc[(1, "y"), "persona"] == "Wine Lovers"
    # new 0 <- old 1: x -1.0 -> -0.8 (2 -> 3), y 0.5 -> 0.4 (6 -> 6.5)
    assert row.loc[(0, "x"), "change_in_sd"] == pytest.approx(0.2)
    assert row.loc[(0, "y"), "change"] == pytest.approx(0.5)
    assert row.loc[(0, "x"), "persona"] == "Segment 0"
    first = out.groupby("new_segment")["variable"].first()
    assert first.to_dict() == {0: "x", 1: "y"}  # the largest move first
    no_means = drift(old_z, new_z, {0: 1})
    assert no_means["change"].isna().all() and no_means["change_in_sd"].notna().all()
    with pytest.raises(SegmentationError, match="Segment 5"):
        drift(old_z, new_z, {0: 5})


def test_drift_finds_the_variable_that_moved_after_reclustering():
    old = planted_customers(150, seed=4)
    new = old.copy()
    kind = old.attrs["planted"]
    new.loc[kind == 0, "Recency"] += 15  # the big spenders come back less often
    config = RunConfig(k=3, k_min=3, k_max=3, n_init=2)
    a, b = run(to_tsv_bytes(old), config), run(to_tsv_bytes(new), config)
    pairs = match_segments(_signature(a.profiles.z), _signature(b.profiles.z)).pairs
    assert len(pairs) == 3
    out = drift(a.profiles.z, b.profiles.z, pairs, a.profiles.means, b.profiles.means,
                {p.segment: p.name for p in b.personas})
    # the new segment holding the shifted customers
    shifted = int(pd.Series(b.segmentation.labels[kind == 0]).mode()[0])
    rows = out[out["new_segment"] == shifted].set_index("variable")
    assert rows.index[0] == "Recency"
    assert rows.loc["Recency", "change"] == pytest.approx(15, abs=0.5)
    assert rows.loc["Recency", "change_in_sd"] > 0.5
    assert rows["change"].drop("Recency").abs().max() < 1e-9  # nothing else about them moved


# --- end to end: two quarters through the command line --------------------------------------------

def quarters(n: int = 300, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Last quarter's planted customers, and this quarter's with a third turned into another type.

    A third of each type takes on the next type's look (0 -> 1 -> 2 -> 0), copied from
    a customer of that type, so the type shares hardly change while customers move.
    """
    old = planted_customers(n, seed=seed)
    old.loc[: len(ODD_IDS) - 1, "ID"] = ODD_IDS
    kind = old.attrs["planted"]
    new = old.copy()
    rng = np.random.default_rng(seed)
    changed = np.zeros(n, dtype=bool)
    for k in range(3):
        members = np.flatnonzero(kind == k)
        movers = rng.choice(members, size=len(members) // 3, replace=False)
        donors = rng.choice(np.flatnonzero(kind == (k + 1) % 3), size=len(movers))
        columns = [c for c in old.columns if c != "ID"]
        new.loc[movers, columns] = old.loc[donors, columns].to_numpy()
        changed[movers] = True
    return old, new, changed


@pytest.fixture(scope="module")
def two_quarters(tmp_path_factory):
    base = tmp_path_factory.mktemp("quarters")
    old, new, changed = quarters()
    runs = {}
    for name, frame in (("old", old), ("new", new)):
        source = base / f"{name}.tsv"
        source.write_bytes(to_tsv_bytes(frame))
        rc, _, err = call(["run", source, "--out", base / name, "--id-column", "ID", *FAST])
        assert rc == 0, err
        runs[name] = base / name / "assignments.csv"
    out = base / "compare"
    rc, stdout, err = call(["compare", runs["old"], runs["new"], "--out", out])
    assert rc == 0, err
    return {"base": base, "old": old, "new": new, "changed": changed, "runs": runs, "out": out,
            "stdout": stdout, "stderr": err,
            "json": json.loads((out / "migration.json").read_text(encoding="utf-8"))}


def test_compare_writes_the_four_files_and_a_short_summary(two_quarters):
    out = two_quarters["out"]
    for name in FILE_NAMES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    lines = two_quarters["stdout"].splitlines()
    assert 2 <= len(lines) <= 3
    assert lines[0].startswith("300 customers in both files (0 only in the old, 0 only in the new)")
    assert "PSI" in lines[1] and lines[-1].startswith("Wrote ")
    assert "Traceback" not in two_quarters["stderr"]


def test_compare_rate_is_close_to_the_share_changed(two_quarters):
    summary = two_quarters["json"]
    keys = {"customers_old", "customers_new", "customers_both", "only_old", "only_new",
            "migration_rate", "reading", "psi", "psi_reading", "shares",
            "movers_high_value_to_lapsed"}
    assert keys <= set(summary)
    share_changed = two_quarters["changed"].mean()
    assert share_changed == pytest.approx(1 / 3, abs=0.01)
    assert summary["migration_rate"] == pytest.approx(share_changed, abs=0.03)
    assert summary["reading"].startswith("high churn")
    assert summary["psi"] < 0.1  # customers moved, the shares did not
    assert summary["customers_both"] == 300 and summary["only_old"] == summary["only_new"] == 0
    old = read_assignments(two_quarters["runs"]["old"])
    new = read_assignments(two_quarters["runs"]["new"])
    assert set(old["persona"]) == set(new["persona"]), "the planted types should keep their names"
    both = old.merge(new, on="customer_id", suffixes=("_old", "_new"))
    by_hand = (both["persona_old"] != both["persona_new"]).mean()
    assert summary["migration_rate"] == pytest.approx(by_hand)


def test_compare_matrix_and_percent_files(two_quarters):
    out = two_quarters["out"]
    matrix = pd.read_csv(out / "migration_matrix.csv", index_col="old_persona")
    percent = pd.read_csv(out / "migration_percent.csv", index_col="old_persona")
    assert int(matrix.to_numpy().sum()) == 300
    assert list(matrix.index) == list(matrix.columns)  # the same personas, diagonal = stayed
    assert 1 - np.trace(matrix.to_numpy()) / 300 == pytest.approx(
        two_quarters["json"]["migration_rate"])
    np.testing.assert_allclose(percent.sum(axis=1), 100.0, atol=0.02)
    shares = pd.DataFrame(two_quarters["json"]["shares"])
    assert shares["old_share"].sum() == pytest.approx(1) and shares["new_share"].sum() == (
        pytest.approx(1))


def test_odd_ids_round_trip_through_run_and_read_assignments(two_quarters):
    raw = two_quarters["runs"]["old"].read_text(encoding="utf-8")
    assert "'=HYPERLINK" in raw and "\n'-5x," in raw  # neutralised on the way out ...
    frame = read_assignments(two_quarters["runs"]["old"])
    assert frame["customer_id"].tolist() == two_quarters["old"]["ID"].tolist()  # ... and back
    assert frame["customer_id"].tolist()[: len(ODD_IDS)] == ODD_IDS


def test_compare_movers_with_given_personas(two_quarters, tmp_path):
    old = read_assignments(two_quarters["runs"]["old"])
    kind = pd.Series(two_quarters["old"].attrs["planted"], index=old["customer_id"])
    name_of = {k: old.set_index("customer_id")["persona"][kind == k].mode()[0] for k in range(3)}
    out = tmp_path / "movers"
    rc, _, err = call(["compare", two_quarters["runs"]["old"], two_quarters["runs"]["new"],
                       "--out", out, "--high-value", name_of[0], "--lapsed", name_of[1]])
    assert rc == 0, err
    written = pd.read_csv(out / "movers.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == ["customer_id", "old_persona", "new_persona"]
    summary = json.loads((out / "migration.json").read_text(encoding="utf-8"))
    found = set(summary["movers_high_value_to_lapsed"])
    assert set(written["customer_id"]) == {neutralise(i) for i in found}  # safe to open
    expected = set(kind.index[(kind == 0).to_numpy() & two_quarters["changed"]])
    assert len(found ^ expected) <= 3, found ^ expected
    assert summary["high_value_personas"] == [name_of[0]]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad_compare")
    files = {
        "good.csv": b"customer_id,segment,persona\n1,0,A\n2,1,B\n",
        "empty.csv": b"",
        "binary.csv": bytes(range(256)) * 20,
        "no_segment.csv": b"customer_id,persona\n1,A\n",
        "duplicates.csv": b"customer_id,segment,persona\n1,0,A\n1,1,B\n",
        "header.csv": b"customer_id,segment,persona\n",
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize("old, new, fragment", [
    ("no_segment.csv", "good.csv", "no 'segment' column"),
    ("good.csv", "duplicates.csv", "more than once"),
    ("empty.csv", "good.csv", "empty"),
    ("good.csv", "binary.csv", "not a CSV"),
    ("header.csv", "good.csv", "no customer rows"),
    ("good.csv", "/no/such/file.csv", "cannot open"),
])
def test_compare_bad_input_exits_2_with_one_line(old, new, fragment, bad_files, tmp_path):
    def path(name):
        return bad_files.get(name, name)

    out = tmp_path / "out"
    rc, stdout, err = call(["compare", path(old), path(new), "--out", out])
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert fragment.lower() in err.lower(), err
    assert "Traceback" not in err + stdout
    assert not out.exists()


def test_compare_needs_out(bad_files):
    rc, _, err = call(["compare", bad_files["good.csv"], bad_files["good.csv"]])
    assert rc == 2 and err.startswith("error: ") and "--out" in err


@pytest.mark.slow  # a fresh interpreter
def test_module_entry_compare(two_quarters, tmp_path):
    runs = two_quarters["runs"]
    proc = subprocess.run([sys.executable, "-m", "segmentation", "compare", str(runs["old"]),
                           str(runs["new"]), "--out", str(tmp_path / "ok")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == two_quarters["stdout"].splitlines()[:2]
    assert json.loads((tmp_path / "ok" / "migration.json").read_text(encoding="utf-8")) == (
        two_quarters["json"])
