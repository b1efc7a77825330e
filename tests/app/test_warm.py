"""Warming the server at start: what it fills is what a new session asks for."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui.cache
from tests.helpers import ROOT
from ui import state, warm

APP = str(ROOT / "app.py")


@pytest.fixture
def empty_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_warmed_run_is_the_one_a_new_session_opens_with():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    fp, data, name, config = state.new_session_run()
    session = at.session_state
    assert (fp, name) == (session[state.DATA_FINGERPRINT], session[state.DATA_NAME])
    assert data == session[state.DATA_BYTES]
    assert config == state.run_config(s=session)


def test_a_new_session_finds_the_sample_segmented(monkeypatch, empty_caches):
    made = []
    real = ui.cache.assemble
    monkeypatch.setattr(ui.cache, "assemble",
                        lambda *args, **kwargs: made.append(1) or real(*args, **kwargs))
    assert warm.warm()
    assert made == [1]
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert made == [1]  # the home page was served the warmed segmentation
    assert at.metric[0].label == "Customers segmented"


def test_a_failed_warm_up_is_logged_not_raised(monkeypatch, caplog, empty_caches):
    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(ui.cache, "result", broken)
    with caplog.at_level(logging.WARNING, logger="ui.warm"):
        assert warm.warm() is False
    assert "Warming the studio" in caplog.text and "disk gone" in caplog.text


def test_warming_runs_on_its_own_named_thread_and_quiets_only_it(monkeypatch):
    ran = []
    monkeypatch.setattr(warm, "warm", lambda: ran.append(1) or True)
    for _ in range(2):
        thread = warm.start_warming()
        thread.join(10)
    assert ran == [1, 1] and thread.daemon and thread.name == warm.THREAD_NAME
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    quiet = [f for f in logger.filters if isinstance(f, warm._NotFromWarmUp)]
    assert len(quiet) == 1  # once, however often warming starts
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "missing", (), None)
    record.threadName = warm.THREAD_NAME
    assert not quiet[0].filter(record)
    record.threadName = "ScriptRunner.scriptThread"
    assert quiet[0].filter(record)


def test_streamlit_serves_serve_py_as_the_studio_app():
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(Path(ROOT / "serve.py"))
    assert found.is_asgi_app
