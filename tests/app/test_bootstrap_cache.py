"""AppTest: the bootstrap is computed once per server and a session keeps no results."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from segmentation.validate import stability
from segmentation.validate.stability import DEFAULT_BOOTSTRAPS, Bootstrap
from tests.app.waiting import settled
from tests.helpers import ROOT
from ui import cache, flow

APP_TIMEOUT = 180
KNOWN = "validate.bootstraps"


def validate_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT).run()
    at.switch_page("pages/validate.py").run()
    return settled(at)


def count_bootstraps(monkeypatch, n_boot: int | None = None) -> list[int]:
    """Record each resample count the engine is asked for (and use ``n_boot`` if given)."""
    real, calls = stability.bootstrap_stability, []

    def counted(fm, seg, asked, *args, **kwargs):
        calls.append(asked)
        return real(fm, seg, n_boot or asked, *args, **kwargs)

    # Patched wherever the app may hold the function, so the count holds whichever calls it.
    for owner in (stability, flow, cache):
        if hasattr(owner, "bootstrap_stability"):
            monkeypatch.setattr(owner, "bootstrap_stability", counted)
    return calls


@pytest.fixture(autouse=True)
def _fresh_bootstrap_cache():
    # The cache is the server's, so it outlives a test: an earlier test's result must not
    # count as this one's, and this module's stand-in results (3 resamples for any count
    # asked) must not reach a later test that reads the real figures.
    cache._bootstrap_slot.clear()
    yield
    cache._bootstrap_slot.clear()


def test_two_sessions_with_the_same_data_share_one_bootstrap(monkeypatch):
    calls = count_bootstraps(monkeypatch)
    first, second = validate_page(), validate_page()
    assert calls == [DEFAULT_BOOTSTRAPS]
    tables = [next(d.value for d in at.dataframe if "mean_jaccard" in d.value.columns)
              for at in (first, second)]
    assert tables[0].equals(tables[1])


def reachable_bootstraps(value) -> int:
    if isinstance(value, Bootstrap):
        return 1
    if isinstance(value, dict):
        return sum(reachable_bootstraps(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return sum(reachable_bootstraps(v) for v in value)
    return 0


def test_a_session_records_which_bootstraps_ran_not_their_results(monkeypatch):
    count_bootstraps(monkeypatch, n_boot=3)  # three resamples stand in for each count asked
    at = validate_page()
    settings = [(None, 20), (None, 100), (None, 200), (3, 20), (3, 100), (5, 50)]
    sizes = []
    for k, n_boot in settings:
        at.session_state["k.choice"] = k
        settled(at.select_slider(key="w.validate.n_boot").set_value(n_boot).run())
        sizes.append(len(list(at.session_state)))
        state = {key: at.session_state[key] for key in at.session_state}
        assert reachable_bootstraps(state) == 0
    assert len(set(sizes)) == 1, sizes  # no key added per setting
    known = at.session_state[KNOWN]
    # One small record per segmentation (K 3, K 5 and the recommended K), not per setting.
    assert 2 <= len(known) <= 3 and all(isinstance(n, int) for n in known.values())
    assert list(known.values())[-1] == 50

    at.switch_page("pages/personas.py").run()
    assert not at.exception, [e.message for e in at.exception]
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) == 5  # the badges of the last segmentation, K = 5


def test_the_record_keeps_the_latest_few_segmentations():
    known: dict[str, int] = {}
    for step in range(flow.KNOWN_BOOTSTRAPS + 3):
        flow.remember_bootstrap(known, f"run {step}", 20)
    flow.remember_bootstrap(known, "run 4", 200)  # asked again: now the most recent
    flow.remember_bootstrap(known, "run 99", 50)
    assert len(known) == flow.KNOWN_BOOTSTRAPS
    assert list(known)[-2:] == ["run 4", "run 99"] and known["run 4"] == 200
    assert "run 3" not in known and "run 5" in known  # the oldest not asked again went
