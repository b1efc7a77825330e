"""One assignments schema: every command writes every input line, with a status and a reason.

The damaged upload's lines are planted (duplicate ids, a blank id, a line with
an extra field), so the expected status of every line is known in advance.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import replace

import pandas as pd
import pytest

from segmentation import RunConfig, run
from segmentation.cli import main
from segmentation.data.customer_file import read_table
from segmentation.data.dataset import (
    REASON_DUPLICATE_ID,
    REASON_MALFORMED,
    REASON_MISSING_ID,
    load_dataset,
)
from segmentation.describe.contributions import TOP_DRIVER_COLUMNS
from segmentation.export.assignments import (
    ASSIGNMENT_COLUMNS,
    STATUS_EXCLUDED,
    STATUS_SEGMENTED,
    account,
    assignment_table,
)
from segmentation.export.bundle import bundle_bytes
from segmentation.plan.signup import _add_to_bundle, train
from segmentation.validate.migration import read_assignments
from tests.helpers import planted_customers

N = 120
DUPLICATE = {30: 3, 31: 4}  # row -> the row whose id it repeats
MISSING = (40,)
MALFORMED = (50,)


def damaged_tsv(seed: int) -> bytes:
    frame = planted_customers(N, seed=seed)
    frame.attrs = {}
    frame = frame.astype({"ID": object})
    for dst, src in DUPLICATE.items():
        frame.loc[dst, "ID"] = frame.loc[src, "ID"]
    for i in MISSING:
        frame.loc[i, "ID"] = ""
    header, *lines = frame.to_csv(sep="\t", index=False).splitlines()
    for i in MALFORMED:
        lines[i] += "\tstray"
    return ("\n".join([header, *lines]) + "\n").encode()


def expected_reasons() -> list[str | None]:
    out: list[str | None] = [None] * N
    for i in DUPLICATE:
        out[i] = REASON_DUPLICATE_ID
    for i in MISSING:
        out[i] = REASON_MISSING_ID
    for i in MALFORMED:
        out[i] = REASON_MALFORMED
    return out


def call(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def assert_every_line_accounted(table: pd.DataFrame, extra: list[str]) -> None:
    assert list(table.columns) == [*ASSIGNMENT_COLUMNS, *extra]
    assert len(table) == N
    assert table["line"].tolist() == [str(i + 2) for i in range(N)]
    reasons = [r or None for r in table["reason"]]
    assert reasons == expected_reasons()
    excluded = table["status"].eq(STATUS_EXCLUDED)
    assert excluded.tolist() == [r is not None for r in expected_reasons()]
    assert set(table["status"]) == {STATUS_SEGMENTED, STATUS_EXCLUDED}
    # a line without a segment has no persona and no drivers either
    empty = ["segment", "persona", *(c for c in TOP_DRIVER_COLUMNS if c in table)]
    assert (table.loc[excluded, empty] == "").all().all()
    assert (table.loc[~excluded, "segment"] != "").all()
    # a repeated id keeps its id; a blank or malformed line has none
    for i, src in DUPLICATE.items():
        assert table.loc[i, "customer_id"] == table.loc[src, "customer_id"] != ""
    assert table.loc[list(MISSING) + list(MALFORMED), "customer_id"].eq("").all()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """``run`` on a clean file, then ``run``, ``score`` and ``predict`` on a damaged one."""
    folder = tmp_path_factory.mktemp("schema")
    clean, damaged = folder / "clean.tsv", folder / "damaged.tsv"
    frame = planted_customers(N, seed=8)
    frame.attrs = {}
    clean.write_bytes(frame.to_csv(sep="\t", index=False).encode())
    damaged.write_bytes(damaged_tsv(seed=9))
    fast = ["--k", "3", "--n-init", "2"]
    rc, _, err = call(["run", clean, "--out", folder / "fit", *fast])
    assert rc == 0, err
    rc, _, err = call(["run", damaged, "--out", folder / "again", *fast])
    assert rc == 0, err
    rc, score_out, err = call(["score", damaged, "--model", folder / "fit" / "model.json",
                               "--out", folder / "scores.csv"])
    assert rc == 0, err
    result = run(clean.read_bytes(), RunConfig(k=3, k_min=2, k_max=3, n_init=2, stability=False))
    bundle = _add_to_bundle(json.loads(bundle_bytes(result, result.personas)), train(result))
    (folder / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    rc, predict_out, err = call(["predict", damaged, "--model", folder / "bundle.json",
                                 "--out", folder / "predicted.csv"])
    assert rc == 0, err
    return folder, score_out, predict_out


@pytest.mark.slow  # command-line runs (the outputs fixture)
def test_run_writes_every_line_with_status_and_reason(outputs):
    folder, _, _ = outputs
    assert_every_line_accounted(read(folder / "again" / "assignments.csv"),
                                ["distance", "silhouette", *TOP_DRIVER_COLUMNS])


@pytest.mark.slow  # command-line runs (the outputs fixture)
def test_score_writes_every_line_and_says_so(outputs):
    folder, score_out, _ = outputs
    table = read(folder / "scores.csv")
    assert_every_line_accounted(table, ["distance", *TOP_DRIVER_COLUMNS])
    assert score_out.startswith(f"{N} lines: {N - 4} segmented, 4 excluded (")
    assert f"2 {REASON_DUPLICATE_ID}" in score_out


@pytest.mark.slow  # command-line runs (the outputs fixture)
def test_predict_writes_every_line_and_says_so(outputs):
    folder, _, predict_out = outputs
    table = read(folder / "predicted.csv")
    assert_every_line_accounted(table, ["probability"])
    probability = pd.to_numeric(table["probability"].replace("", None))
    assert probability.notna().sum() == N - 4 and probability.dropna().between(0, 1).all()
    assert predict_out.startswith(f"{N} lines: {N - 4} segmented, 4 excluded (")


@pytest.mark.slow  # command-line runs (the outputs fixture)
def test_compare_reads_the_segmented_lines_of_any_commands_file(outputs):
    folder, _, _ = outputs
    for path in (folder / "again" / "assignments.csv", folder / "scores.csv",
                 folder / "predicted.csv"):
        back = read_assignments(path)
        assert len(back) == N - 4 and back["customer_id"].is_unique


def test_lines_the_dataset_cannot_match_are_still_counted():
    raw = read_table(damaged_tsv(seed=2))
    dataset = replace(load_dataset(raw), customer_lines=None)  # as if it kept no line record
    ids = dataset.frame.index.astype(str)
    table = assignment_table(dataset, ids, [0] * len(ids), {0: "All"},
                             dropped=dataset.dropped)
    assert table["status"].eq(STATUS_SEGMENTED).sum() == N - 4
    # without the raw lines, duplicates and malformed lines are listed from the dataset, and
    # the blank id is a summary row: together still every line
    counted = sum(int(r.split(" ", 1)[0]) if r and "more row(s) not listed" in r else 1
                  for r in table["reason"])
    assert counted == N
    assert table["line"].isna().sum() >= 1


def test_the_dataset_records_where_every_line_went():
    raw = read_table(damaged_tsv(seed=4))
    dataset = load_dataset(raw)
    assert len(dataset.customer_lines) == len(dataset.frame) == N - 4
    left = {line: (cid, why) for line, cid, why in dataset.excluded_lines}
    assert sorted(left) == sorted(i + 2 for i in [*DUPLICATE, *MISSING, *MALFORMED])
    assert {why for _, why in left.values()} == {REASON_DUPLICATE_ID, REASON_MISSING_ID,
                                                   REASON_MALFORMED}
    assert sorted([*dataset.customer_lines, *left]) == list(range(2, N + 2))
    table = assignment_table(dataset, dataset.frame.index, [0] * len(dataset.frame),
                             {0: "All"}, dropped=dataset.dropped)
    assert table["line"].tolist() == list(range(2, N + 2))
    assert [r if isinstance(r, str) else None for r in table["reason"]] == expected_reasons()


def test_account_names_every_reason():
    table = pd.DataFrame({"status": [STATUS_SEGMENTED, STATUS_EXCLUDED, STATUS_EXCLUDED],
                          "reason": [None, REASON_MALFORMED, REASON_MALFORMED]})
    assert account(table) == f"3 lines: 1 segmented, 2 excluded (2 {REASON_MALFORMED})."
