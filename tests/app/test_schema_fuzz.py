"""Every field of a valid model, bundle and sign-up model, damaged, through the CLI and the app.

The valid files come from one real run on part of the bundled sample. Each
example picks a field (any leaf of the JSON) and a damage: a wrong type, NaN,
infinity, a huge value, the field missing, or its list a different length.
The command line must then exit 2 with exactly one ``error:`` line (or, for a
missing optional field or a free-length list, still do its job), never exit 1.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from segmentation import RunConfig, run
from segmentation.cli import main
from segmentation.export.bundle import bundle_bytes
from segmentation.export.outputs import model_dict
from segmentation.plan import signup
from tests.helpers import ROOT, SAMPLE_PATH, assert_actionable

ROWS = 400  # customers of the run the valid files come from: small keeps each call cheap


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    frame = pd.read_csv(SAMPLE_PATH, sep="\t", dtype=str, keep_default_na=False)
    (folder / "customers.tsv").write_text(frame.head(ROWS).to_csv(sep="\t", index=False))
    (folder / "new.tsv").write_text(frame.tail(20).to_csv(sep="\t", index=False))
    result = run(folder / "customers.tsv", RunConfig(k=3, n_init=1, stability=False))
    bundle = signup._add_to_bundle(json.loads(bundle_bytes(result, result.personas)),
                                  signup.train(result, cv=2))
    return folder, json.loads(json.dumps(model_dict(result))), json.loads(json.dumps(bundle))


def leaves(data, path=()):
    """Every leaf's path; of a long list only the first and last item stand for the rest."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*path, key))
    elif isinstance(data, list) and data:
        for i in sorted({0, len(data) - 1}):
            yield from leaves(data[i], (*path, i))
    else:
        yield path


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def mutate(data, path, kind):
    """A copy of ``data`` with the leaf at ``path`` damaged; None when the damage does not apply."""
    data = copy.deepcopy(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    value = parent[key]
    if kind == "wrong type":
        parent[key] = [] if not isinstance(value, list) else {"x": 1}
    elif kind == "text for a number":
        if not is_number(value):
            return None
        parent[key] = "12"
    elif kind == "NaN":
        parent[key] = math.nan
    elif kind == "inf":
        parent[key] = -math.inf if is_number(value) and value < 0 else math.inf
    elif kind == "huge":
        parent[key] = ("x" * 20_000 if isinstance(value, str) else 10**30 if isinstance(
            value, bool | int) or value is None else 1e300)
    elif kind == "missing":
        if not isinstance(parent, dict):
            return None
        del parent[key]
    elif kind == "one more":
        if not isinstance(parent, list):
            return None
        parent.append(copy.deepcopy(parent[-1]))
    elif kind == "one fewer":
        if not isinstance(parent, list):
            return None
        parent.pop()
    return data


# Damage that no field of these files may take: every one must be refused.
ALWAYS_REFUSED = ("wrong type", "text for a number", "NaN", "inf", "huge")
# Damage that may leave a valid file (an optional field dropped, a free-length list).
MAYBE_VALID = ("missing", "one more", "one fewer")
MUTATIONS = ALWAYS_REFUSED + MAYBE_VALID


def call(argv) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, err.getvalue()


def check(rc: int, err: str, kind: str, path) -> None:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    if kind in ALWAYS_REFUSED or rc != 0:
        assert rc == 2, f"{kind} at {path}: exit {rc}: {err}"
        assert len(err.splitlines()) == 1 and len(lines) == 1, err
        assert_actionable(lines[0].removeprefix("error: "))



@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_damaged_model_field_exits_2_from_score(files, data):
    folder, model, _ = files
    path = data.draw(st.sampled_from(list(leaves(model))), label="path")
    kind = data.draw(st.sampled_from(MUTATIONS), label="damage")
    damaged = mutate(model, path, kind)
    if damaged is None:
        return
    target = folder / "model.json"
    target.write_text(json.dumps(damaged))
    rc, err = call(["score", folder / "new.tsv", "--model", target, "--out", folder / "s.csv"])
    check(rc, err, kind, path)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_damaged_bundle_field_exits_2_from_predict(files, data):
    # The sign-up model inside the bundle is fuzzed here too: its leaves are the bundle's.
    folder, _, bundle = files
    path = data.draw(st.sampled_from(list(leaves(bundle))), label="path")
    kind = data.draw(st.sampled_from(MUTATIONS), label="damage")
    damaged = mutate(bundle, path, kind)
    if damaged is None:
        return
    target = folder / "bundle.json"
    target.write_text(json.dumps(damaged))
    rc, err = call(["predict", folder / "new.tsv", "--model", target,
                    "--out", folder / "p.csv"])
    check(rc, err, kind, path)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_damaged_signup_field_is_one_sentence(files, data):
    # A sign-up model on its own, as signup.SignupModel.from_dict reads it.
    from segmentation import SegmentationError

    _, _, bundle = files
    model = bundle["signup"]
    path = data.draw(st.sampled_from(list(leaves(model))), label="path")
    kind = data.draw(st.sampled_from(ALWAYS_REFUSED), label="damage")
    damaged = mutate(model, path, kind)
    if damaged is None:
        return
    with pytest.raises(SegmentationError) as caught:
        signup.SignupModel.from_dict(json.loads(json.dumps(damaged)))
    assert_actionable(str(caught.value))


# --- the app: a handful per page (AppTest is slow) ----------------------------------------------

APP_DAMAGE = [
    (("settings", "k"), "wrong type"),
    (("model", "centers", 0, 0), "NaN"),
    (("model", "preparation", "scale", 0), "huge"),
    (("signup", "logistic", "intercept", 0), "one more"),
    (("assignments", "segment"), "missing"),
]


def app_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    return at.switch_page(page).run()


@pytest.mark.parametrize("page, key", [("pages/data.py", "w.bundle"),
                                       ("pages/compare.py", "w.compare.bundle")])
def test_a_damaged_bundle_is_one_error_on_each_page(files, page, key):
    folder, _, bundle = files
    at = app_page(page)
    for path, kind in APP_DAMAGE:
        damaged = json.dumps(mutate(bundle, path, kind)).encode("utf-8")
        at.file_uploader(key=key).upload("bundle.json", damaged).run()
        if page == "pages/compare.py":
            at.file_uploader(key="w.compare.export").upload(
                "new.tsv", (folder / "new.tsv").read_bytes()).run()
        assert not at.exception, [e.message for e in at.exception]
        errors = [e.value for e in at.error]
        assert len(errors) == 1, (path, kind, errors)
        assert "is damaged" in errors[0], errors[0]
