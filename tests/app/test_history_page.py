"""The History page and the Export page's save to the run history, driven with AppTest.

The history is made by the engine from the planted quarters of :mod:`tests.helpers.quarters`
(the regular segment grows, 120 premium customers lapse, an online segment appears); every
figure the page shows is checked against the engine or the planted truth.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmentation import run
from segmentation.history.store import load_history, record_run, run_record
from segmentation.history.trends import alerts
from tests.helpers import CHEAP, ROOT
from tests.helpers.quarters import PREMIUM_TO_LAPSED, quarter_types, quarterly_exports
from ui import state
from ui.flow import md

HISTORY = "pages/history.py"


@pytest.fixture(scope="module")
def history_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "segmentation_history.sqlite"
    for q, (frame, types) in enumerate(zip(quarterly_exports(), quarter_types(), strict=True)):
        data = frame.to_csv(index=False).encode("utf-8")
        result = run(data, replace(CHEAP, k=types.nunique(), k_min=3, k_max=4),
                     name=f"q{q + 1}.csv")
        record_run(path, run_record(result))
    return path


def ok(at: AppTest) -> AppTest:
    assert not at.exception, "\n".join(
        "\n".join(e.stack_trace) or e.message for e in at.exception)
    return at


def open_page(path, page: str = HISTORY) -> AppTest:
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run())
    at.session_state[state.HISTORY_PATH] = str(path)
    return ok(at.switch_page(page).run())


def values(array) -> list:
    """A plotly JSON array, plain or typed (base64 ``bdata`` with a dtype)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_the_page_shows_the_planted_trend_and_alerts(history_path):
    at = open_page(history_path)
    history = load_history(history_path)
    assert [w.value for w in at.warning] == [md(m) for m in alerts(history)["message"]]
    assert len(at.warning) == 5  # regular grows; premium and lapsed move; online appears; PSI
    share = next(f for f in figures(at) if "Share of customers" in f["layout"]["title"]["text"])
    traces = {t["name"]: values(t["y"]) for t in share["data"]}
    truth = quarter_types()
    regular = [t.value_counts(normalize=True)["regular"] for t in truth]
    assert any(y == pytest.approx(regular) for y in traces.values())
    assert len(traces) == 4  # premium, regular, lapsed, online: one line each


def test_the_share_threshold_is_the_users(history_path):
    at = open_page(history_path)
    ok(at.number_input(key="w.history.share_alert").set_value(10.0).run())
    # Only the Q3 moves (10.4 points each) pass 10 points; the appearance and PSI stay.
    assert len(at.warning) == 4
    assert not any("grew from 50.0%" in w.value for w in at.warning)


def test_the_migration_between_two_runs_is_the_planted_move(history_path):
    at = open_page(history_path)
    ok(at.selectbox(key="w.history.old").set_value(2).run())
    ok(at.selectbox(key="w.history.new").set_value(3).run())
    matrix = at.dataframe[-1].value
    counts = matrix.select_dtypes("number").to_numpy()
    assert counts.sum() - counts.trace() == PREMIUM_TO_LAPSED
    assert any(f["data"][0]["type"] == "sankey" for f in figures(at))
    ok(at.selectbox(key="w.history.new").set_value(2).run())
    assert at.info and "two different runs" in at.info[-1].value


def test_no_file_a_bad_file_and_a_newer_file(tmp_path):
    at = open_page(tmp_path / "none.sqlite")
    assert "No run is recorded" in at.info[0].value and not at.error
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00\x01 not a database " * 200)
    at = open_page(bad)
    assert len(at.error) == 1 and "not a run history" in at.error[0].value


def _save(path, results: list) -> None:
    at = open_page(path, "pages/export.py")
    ok(at.button[-1].click().run())
    results.append([s.value for s in at.success] + [e.value for e in at.error])


def test_saving_from_the_export_page_lands_in_the_history(tmp_path):
    path = tmp_path / "h.sqlite"
    results: list = []
    _save(path, results)
    assert results == [["Saved as run 1: see the History page."]]
    runs = load_history(path).runs
    assert runs["source"].tolist() == ["app"]


def test_two_sessions_saving_at_once_both_land(tmp_path):
    # Two app servers (processes), each with a session that saves into one history file at
    # the same moment. Not two threads of one process: AppTest's stand-in runtime is one per
    # process, and the first session to finish took it away from the other.
    path = tmp_path / "h.sqlite"
    code = ("import json, sys; from pathlib import Path; "
            "from tests.app.test_history_page import _save; "
            "results = []; _save(Path(sys.argv[1]), results); print(json.dumps(results[0]))")
    sessions = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [s.communicate(timeout=600) for s in sessions]
    assert all(s.returncode == 0 for s in sessions), [err[-2000:] for _, err in outputs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sorted(r[0] for r in results) == ["Saved as run 1: see the History page.",
                                             "Saved as run 2: see the History page."]
    history = load_history(path)
    assert len(history.runs) == 2
    # The same data and settings: the second run continues the first one's lines.
    assert pd.Series(history.personas.groupby("line").size()).eq(2).all()
