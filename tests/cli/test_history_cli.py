"""Quarterly runs recorded by the command line, and what ``history`` makes of them.

The exports come from :mod:`tests.helpers.quarters`, with planted changes: the regular
segment grows in Q2, 120 premium customers lapse in Q3, an online segment appears in Q4.
Every expectation is computed from that planted truth, not from the history.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sqlite3

import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.history.store import load_history
from segmentation.history.trends import alerts, migration_between, persona_trend
from tests.helpers import assert_actionable
from tests.helpers.quarters import PREMIUM_TO_LAPSED, quarter_types, quarterly_exports

pytestmark = pytest.mark.slow
HISTORY = "segmentation_history.sqlite"
QUICK = ["--k-min", "3", "--k-max", "4", "--n-init", "2"]


def call(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def _record_quarters(folder, changes: bool):
    """Write each quarter's export and segment it with 'run --out qN' (K by planted types)."""
    for q, (frame, types) in enumerate(zip(quarterly_exports(changes),
                                           quarter_types(changes), strict=True), 1):
        frame.to_csv(folder / f"q{q}.csv", index=False)
        extra = ["--report"] if q == 4 else []
        rc, _, err = call(["run", folder / f"q{q}.csv", "--out", folder / f"q{q}",
                           "--k", types.nunique(), *QUICK, *extra])
        assert rc == 0, err
    return folder / HISTORY


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return _record_quarters(tmp_path_factory.mktemp("planted"), changes=True)


def _line_of_type(history, run_id: int, types: pd.Series) -> dict[str, int]:
    """{planted type: line} from the customers of a run (each segment is one planted type)."""
    assigned = pd.read_csv(history_folder(history) / f"q{run_id}" / "assignments.csv",
                           dtype=str)
    assigned = assigned.assign(type=assigned["customer_id"].map(types))
    persona_rows = load_history(history).personas
    rows = persona_rows[persona_rows["run_id"] == run_id].set_index("segment")["line"]
    by_type = assigned.groupby("type")["segment"].agg(lambda s: s.astype(int).mode()[0])
    return {t: int(rows[s]) for t, s in by_type.items()}


def history_folder(path):
    return path.parent


def test_each_run_lands_beside_its_output_folder(planted):
    history = load_history(planted)
    assert history.runs["data_name"].tolist() == ["q1.csv", "q2.csv", "q3.csv", "q4.csv"]
    assert history.runs["k"].tolist() == [3, 3, 3, 4]
    for q in range(1, 5):  # nothing but the run's own files in its folder
        assert HISTORY not in {p.name for p in (planted.parent / f"q{q}").iterdir()}


def test_each_planted_type_keeps_one_line_and_its_planted_share(planted):
    history = load_history(planted)
    truth = quarter_types(True)
    lines = [_line_of_type(planted, q, truth[q - 1]) for q in range(1, 5)]
    for q in range(1, 4):  # the same persona line for each type in every quarter
        assert lines[q - 1] == {t: lines[0][t] for t in lines[q - 1]}
    assert lines[3]["online"] not in lines[0].values()  # the new segment is a new line
    trend = persona_trend(history)
    for q, types in enumerate(truth, 1):
        planted_shares = types.value_counts(normalize=True)
        shares = trend[trend["run_id"] == q].set_index("line")["share"]
        assert {t: shares[lines[q - 1][t]] for t in planted_shares.index} == pytest.approx(
            planted_shares.to_dict())


def test_history_trend_prints_the_planted_growth(planted):
    line = _line_of_type(planted, 1, quarter_types(True)[0])["regular"]
    rc, out, err = call(["history", "trend", line, "--history", planted])
    assert rc == 0, err
    table = pd.read_fwf(io.StringIO(out.split("\n", 1)[1]))
    # Regular: 500 of 1,000, then 650 of 1,150, 650 of 1,150 and 650 of 1,230 customers.
    assert table["size"].tolist() == [500, 650, 650, 650]
    assert table["share"].tolist() == pytest.approx(
        [0.5, 650 / 1150, 650 / 1150, 650 / 1230], abs=1e-4)
    name = load_history(planted).personas.query("run_id == 1 and line == @line")["name"].item()
    rc, by_name, _ = call(["history", "trend", name, "--history", planted])
    assert rc == 0 and by_name == out  # an earlier name of the persona finds the same line


def test_the_migration_between_quarters_is_the_planted_move(planted):
    history = load_history(planted)
    truth = quarter_types(True)
    migration = migration_between(history, 2, 3)
    names = history.lines
    line = _line_of_type(planted, 3, truth[2])
    premium, lapsed = names[line["premium"]], names[line["lapsed"]]
    expected = pd.crosstab(truth[1].rename("old"), truth[2].rename("new"))
    assert migration.matrix.loc[premium, lapsed] == PREMIUM_TO_LAPSED == expected.loc[
        "premium", "lapsed"]
    off_diagonal = migration.matrix.to_numpy().sum() - migration.matrix.to_numpy().trace()
    assert off_diagonal == PREMIUM_TO_LAPSED  # nobody else moved
    assert migration.customers_both == 1150


def test_alerts_fire_for_exactly_the_planted_changes(planted):
    history = load_history(planted)
    truth = quarter_types(True)
    lines = _line_of_type(planted, 4, truth[3])
    names = {t: history.lines[line] for t, line in lines.items()}
    found = alerts(history)
    assert sorted(zip(found["run_id"], found["kind"], found["persona"], strict=True)) == sorted([
        (2, "share", names["regular"]),  # 50.0% -> 56.5% (+6.5 points, over 5)
        (3, "share", names["premium"]),  # 26.1% -> 15.7%: 120 premium customers lapsed
        (3, "share", names["lapsed"]),  # 17.4% -> 27.8%
        (4, "appeared", names["online"]),  # the new segment
        (4, "psi", ""),  # ... whose 6.5% from nothing shifts the mix past 0.25
    ])
    # PSI of Q3 -> Q4 by hand from the planted counts, the new segment's 0 counted as 1e-4.
    old = [180 / 1150, 650 / 1150, 320 / 1150, 1e-4]
    new = [180 / 1230, 650 / 1230, 320 / 1230, 80 / 1230]
    by_hand = sum((n - o) * math.log(n / o) for o, n in zip(old, new, strict=True))
    assert found.loc[found["kind"] == "psi", "value"].item() == pytest.approx(by_hand)
    rc, out, _ = call(["history", "list", "--history", planted])
    assert rc == 0 and out.count("alert: ") == 5


def test_no_alert_on_a_sequence_without_changes(tmp_path):
    history = _record_quarters(tmp_path, changes=False)
    rc, out, err = call(["history", "list", "--history", history])
    assert rc == 0, err
    assert "4 run(s)" in out and "alert:" not in out
    assert alerts(load_history(history)).empty


def test_the_report_of_a_later_run_shows_the_trend(planted):
    report = (planted.parent / "q4" / "report.html").read_text(encoding="utf-8")
    assert "The personas over the recorded runs" in report
    assert "This run is run 4 of the history" in report


def test_show_and_export(planted, tmp_path):
    rc, out, _ = call(["history", "show", "3", "--history", planted])
    assert rc == 0 and "1,150 customers in K = 3 segments" in out
    rc, _, err = call(["history", "export", "--out", tmp_path / "h.csv", "--history", planted])
    assert rc == 0, err
    exported = pd.read_csv(tmp_path / "h.csv")
    assert len(exported) == 3 + 3 + 3 + 4
    assert exported.groupby("run_id")["share"].sum().tolist() == pytest.approx([1.0] * 4)
    rc, _, err = call(["history", "export", "--out", tmp_path / "h.json", "--history", planted])
    data = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))
    assert rc == 0 and len(data["runs"]) == 4 and len(data["alerts"]) == 5


def _one_error(rc: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert_actionable(lines[0][len("error: "):])
    return lines[0]


def test_a_bad_history_stops_the_run_before_anything_is_written(tmp_path, sample_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database, just notes\n" * 100, encoding="utf-8")
    rc, _, err = call(["run", sample_path, "--out", tmp_path / "out", "--history", bad,
                       "--k", "3"])
    assert "is not a run history" in _one_error(rc, err)
    assert not (tmp_path / "out").exists()


def test_history_errors_are_one_line(tmp_path, planted):
    rc, _, err = call(["history", "list", "--history", tmp_path / "none.sqlite"])
    _one_error(rc, err)
    with sqlite3.connect(tmp_path / "h.sqlite") as con:
        con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        con.execute("INSERT INTO schema_version VALUES (99)")
    rc, _, err = call(["history", "list", "--history", tmp_path / "h.sqlite"])
    assert "newer version" in _one_error(rc, err)
    for argv in (["history", "show", "7"], ["history", "show", "x"],
                 ["history", "trend", "Nobody"], ["history", "show"],
                 ["history", "export", "--out", tmp_path / "h.xlsx"]):
        rc, _, err = call([*argv, "--history", planted])
        _one_error(rc, err)


def test_no_history_records_nothing(tmp_path, sample_path):
    rc, _, err = call(["run", sample_path, "--out", tmp_path / "out", "--k", "3",
                       "--n-init", "1", "--no-history"])
    assert rc == 0, err
    assert not (tmp_path / HISTORY).exists()
