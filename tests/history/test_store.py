"""The run history file: records, persona lines, layout versions, bad files, two writers."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation import run
from segmentation.errors import SegmentationError
from segmentation.history.store import (
    _MIGRATIONS,
    SCHEMA_VERSION,
    check_history,
    default_history_path,
    history_for_report,
    load_history,
    record_run,
    run_assignments,
    run_record,
    with_run,
)
from segmentation.history.trends import find_line
from tests.helpers import CHEAP, ROOT, assert_actionable, planted_customers, to_tsv_bytes


@pytest.fixture(scope="module")
def result():
    return run(to_tsv_bytes(planted_customers(300)), CHEAP, name="planted.tsv")


@pytest.fixture(scope="module")
def record(result):
    return run_record(result)


def test_a_record_holds_the_run_and_reads_back(tmp_path, result, record):
    path = tmp_path / "h.sqlite"
    assert record_run(path, record) == 1
    history = load_history(path)
    row = history.runs.iloc[0]
    assert (row["k"], row["customers"], row["fingerprint"]) == (
        3, 300, result.raw.fingerprint)
    assert row["silhouette"] == pytest.approx(result.segmentation.silhouette)
    assert json.loads(row["settings"])["k"] == 3
    personas = history.personas.sort_values("segment")
    assert personas["name"].tolist() == [p.name for p in result.personas]
    assert personas["size"].tolist() == list(result.segmentation.sizes)
    assert personas["share"].sum() == pytest.approx(1.0)
    assert personas["stability"].isna().all()  # no bootstrap was computed
    income = history.means[(history.means["variable"] == "Income")].sort_values("segment")
    assert income["mean"].tolist() == pytest.approx(
        result.profiles.means["Income"].tolist())
    assigned = run_assignments(path, 1)
    assert assigned["customer_id"].tolist() == result.segmentation.customer_ids.astype(
        str).tolist()
    assert assigned["segment"].tolist() == result.segmentation.labels.tolist()


def test_the_same_profiles_continue_their_lines_and_a_rename_is_carried(tmp_path, result):
    path = tmp_path / "h.sqlite"
    record_run(path, run_record(result))
    renamed = tuple(replace(p, name="Connoisseurs") if p.segment == 0 else p
                    for p in result.personas)
    record_run(path, run_record(result, renamed))
    history = load_history(path)
    assert sorted(history.lines) == [1, 2, 3]  # three lines, not six
    line = int(history.personas.loc[(history.personas["run_id"] == 1)
                                    & (history.personas["segment"] == 0), "line"].iloc[0])
    assert history.lines[line] == "Connoisseurs"
    assert find_line(history, result.personas[0].name) == line  # the old name finds it too
    assert find_line(history, "connoisseurs") == line


def test_segment_numbers_do_not_decide_the_line(tmp_path, result):
    # The same segments numbered the other way round (k-means numbers them arbitrarily).
    path = tmp_path / "h.sqlite"
    first = run_record(result)
    record_run(path, first)
    order = {0: 2, 1: 0, 2: 1}
    permuted = replace(
        first,
        personas=first.personas.assign(segment=first.personas["segment"].map(order)),
        signatures=first.signatures.rename(index=order),
        means=first.means.assign(segment=first.means["segment"].map(order)),
        assignments=first.assignments.assign(
            segment=first.assignments["segment"].map(order)))
    record_run(path, permuted)
    personas = load_history(path).personas
    lines = personas.pivot(index="name", columns="run_id", values="line")
    assert (lines[1] == lines[2]).all()


def test_with_run_adds_the_run_as_record_run_would(tmp_path, record):
    path = tmp_path / "h.sqlite"
    record_run(path, record)
    preview = with_run(load_history(path), record)
    record_run(path, record)
    stored = load_history(path)
    columns = ["run_id", "segment", "line", "name", "size"]
    assert preview.personas[columns].equals(stored.personas[columns])


def test_default_location_is_beside_the_output_folder(tmp_path):
    assert default_history_path(tmp_path / "q1") == tmp_path / "segmentation_history.sqlite"


def test_a_version_1_file_is_migrated(tmp_path, record):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    for statement in _MIGRATIONS[0]:
        con.execute(statement)
    con.execute("INSERT INTO runs VALUES (1, '2026-03-31T00:00:00+00:00', 'q1.csv', 'abc', "
                "'{}', 2, 10, 0.5, 100.0, 0.8, 0.9, 'cli')")
    con.execute("INSERT INTO personas VALUES (1, 0, 1, 'Old A', 6, 0.6, '{\"x\": 1.0}')")
    con.execute("INSERT INTO personas VALUES (1, 1, 2, 'Old B', 4, 0.4, '{\"x\": -1.0}')")
    con.commit()
    con.close()
    history = load_history(path)
    assert history.personas["name"].tolist() == ["Old A", "Old B"]
    assert history.personas["stability"].isna().all()  # a version-2 column, empty for old runs
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
        assert con.execute("SELECT count(*) FROM persona_means").fetchone() == (0,)
    record_run(path, record)  # and it takes new runs
    assert load_history(path).runs["run_id"].tolist() == [1, 2]


def test_a_file_from_a_newer_version_gives_one_sentence(tmp_path):
    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        con.execute(f"INSERT INTO schema_version VALUES ({SCHEMA_VERSION + 1})")
    with pytest.raises(SegmentationError, match="newer version") as caught:
        load_history(path)
    assert_actionable(str(caught.value))


@pytest.mark.parametrize("content", [b"customer_id,segment\n1,0\n", bytes(range(256)) * 40,
                                     b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_file_that_is_not_a_history_gives_one_sentence(tmp_path, record, content):
    path = tmp_path / "h.sqlite"
    path.write_bytes(content)
    for call in (lambda: load_history(path), lambda: record_run(path, record),
                 lambda: check_history(path)):
        with pytest.raises(SegmentationError) as caught:
            call()
        assert_actionable(str(caught.value))
    assert path.read_bytes() == content  # never overwritten


def test_another_database_and_a_folder_are_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE customers (id TEXT)")
    for path in (other, tmp_path):
        with pytest.raises(SegmentationError) as caught:
            check_history(path)
        assert_actionable(str(caught.value))


def test_reading_a_missing_history_says_how_to_make_one(tmp_path):
    with pytest.raises(SegmentationError, match="no run history") as caught:
        load_history(tmp_path / "none.sqlite")
    assert_actionable(str(caught.value))
    assert not (tmp_path / "none.sqlite").exists()


ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=30, unique=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=ids, data=st.data())
def test_assignments_come_back_exactly(tmp_path_factory, record, ids, data):
    segments = data.draw(st.lists(st.integers(0, 2), min_size=len(ids), max_size=len(ids)))
    path = tmp_path_factory.mktemp("h") / "h.sqlite"
    assigned = pd.DataFrame({"customer_id": ids, "segment": segments})
    record_run(path, replace(record, assignments=assigned))
    back = run_assignments(path, 1)
    assert back["customer_id"].tolist() == ids
    assert back["segment"].tolist() == segments


WRITER = textwrap.dedent("""
    import sys
    from segmentation import run
    from segmentation.history.store import record_run, run_record
    from tests.helpers import CHEAP, planted_customers, to_tsv_bytes

    table = to_tsv_bytes(planted_customers(300, seed=int(sys.argv[2])))
    record = run_record(run(table, CHEAP, name="planted.tsv"))
    print("ready", flush=True)
    sys.stdin.readline()  # both start writing together
    for _ in range(20):
        record_run(sys.argv[1], record)
""")


@pytest.mark.slow  # two fresh interpreters racing
def test_two_processes_writing_at_once_both_land(tmp_path):
    path = tmp_path / "h.sqlite"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(seed)],
                                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    for w in writers:
        assert w.stdout.readline().strip() == "ready", w.stderr.read()
    for w in writers:
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in writers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    history = load_history(path)
    assert len(history.runs) == 40
    assert history.runs["run_id"].tolist() == list(range(1, 41))
    assert (history.personas.groupby("run_id").size() == 3).all()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT count(*) FROM assignments").fetchone() == (40,)


def test_a_report_gets_the_history_with_its_run_only_when_earlier_runs_exist(tmp_path, result,
                                                                              record):
    path = tmp_path / "h.sqlite"
    assert history_for_report(None, result) is None
    assert history_for_report(path, result) is None  # no file: no trend to draw
    record_run(path, record)
    history = history_for_report(path, result)
    assert len(history.runs) == 2 and len(load_history(path).runs) == 1  # previewed, not saved
    latest = history.personas[history.personas["run_id"] == history.runs["run_id"].max()]
    assert sorted(latest["size"]) == sorted(result.profiles.sizes["size"])
