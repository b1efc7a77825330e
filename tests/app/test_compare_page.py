"""The Compare runs page driven with AppTest, and the Sankey and drift chart builders.

Every figure the page shows is checked against the engine called directly:
``score`` for the saved segments, and ``run`` + ``carry_over`` +
``compare_assignments`` for the re-clustered quarter.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import charts
from segmentation import RunConfig, SegmentationError, run, score
from segmentation.describe.carry_names import carry_over
from segmentation.export.bundle import bundle_bytes, load_bundle
from segmentation.export.outputs import assignments_frame, model_dict
from segmentation.validate.migration import compare_assignments, drift
from tests.helpers import ROOT, assert_actionable
from ui.flow import md

COMPARE = "pages/compare.py"
SPEND = ["MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts",
         "MntGoldProds"]
EXPORT_NAME = "next_quarter.tsv"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def saved(sample_path):
    # K = 4 rather than the recommended 3: the fourth persona of the sample is
    # "Lapsed", so high-value customers have somewhere to lapse to.
    return run(sample_path, RunConfig(k=4))


@pytest.fixture(scope="module")
def bundle_data(saved) -> bytes:
    return bundle_bytes(saved, saved.personas)


@pytest.fixture(scope="module")
def bundle(bundle_data):
    return load_bundle(bundle_data)


def _sample_text(sample_path) -> pd.DataFrame:
    # Every cell as text, blanks kept blank: the file differs only where a test changes it.
    return pd.read_csv(sample_path, sep="\t", dtype=str, keep_default_na=False)


def _tsv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(sep="\t", index=False).encode("utf-8")


@pytest.fixture(scope="module")
def next_quarter(sample_path, bundle) -> bytes:
    """The sample a quarter later: a third of the high-value customers lapse, 40 leave,
    25 join, and two rows cannot be assigned (a repeated id and a missing one)."""
    frame = _sample_text(sample_path)
    persona = bundle.assignments.set_index("customer_id")["persona"]
    high = frame.index[frame["ID"].map(persona).str.contains("High Income")]
    lapse = np.random.default_rng(1).choice(high, size=len(high) // 3, replace=False)
    frame.loc[lapse, "Recency"] = "97"
    for column in SPEND:
        frame.loc[lapse, column] = (frame.loc[lapse, column].astype(int) // 20).astype(str)
    joined = frame.iloc[100:125].assign(ID=[str(990_000 + i) for i in range(25)])
    repeated = frame.iloc[[200]]
    no_id = frame.iloc[[300]].assign(ID="")
    return _tsv(pd.concat([frame.iloc[40:], joined, repeated, no_id], ignore_index=True))


@pytest.fixture(scope="module")
def expected(bundle, next_quarter):
    """What the engine says about the next quarter, computed without the app."""
    scores = score(next_quarter, bundle.model, name=EXPORT_NAME)
    result = run(next_quarter, bundle.config, name=EXPORT_NAME)
    carried = carry_over(result.personas, result.profiles.z, bundle.records)
    new = assignments_frame(replace(result, personas=carried.personas))
    return scores, result, carried, compare_assignments(bundle.assignments, new)


def ok(at: AppTest) -> AppTest:
    """Fail with the app's stack trace when the last run raised."""
    assert not at.exception, "\n".join(
        "\n".join(e.stack_trace) or e.message for e in at.exception)
    return at


def open_page() -> AppTest:
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run())
    return ok(at.switch_page(COMPARE).run())


def upload(at: AppTest, bundle: tuple[str, bytes], export: tuple[str, bytes]) -> AppTest:
    at.file_uploader(key="w.compare.bundle").upload(*bundle).run()
    return at.file_uploader(key="w.compare.export").upload(*export).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, f"{len(found)} tables with a {column!r} column"
    return found[0]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def traces(at: AppTest, kind: str) -> list[dict]:
    return [t for fig in figures(at) for t in fig["data"] if t["type"] == kind]


def array(value) -> np.ndarray:
    """A plotly JSON array, plain or typed (base64 ``bdata`` with a dtype and shape)."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value, dtype=float)


def sankey_links(at: AppTest) -> list[tuple[str, str, int]]:
    """(source label, target label, customers) of the one Sankey diagram on the page."""
    (sankey,) = traces(at, "sankey")
    labels, link = sankey["node"]["label"], sankey["link"]
    return [(labels[s], labels[t], v)
            for s, t, v in zip(link["source"], link["target"], link["value"], strict=True)]


# ---------------------------------------------------------------- the page

def test_without_uploads_the_page_asks_for_both_files():
    at = open_page()
    assert [i.value for i in at.info] == ["Upload the saved segmentation to compare.",
                                          "Upload the new export to compare."]
    assert not at.error and not at.metric and not at.get("plotly_chart")


def test_the_page_shows_the_engines_figures(bundle, bundle_data, next_quarter, expected):
    scores, result, carried, migration = expected
    # The planted changes must show up, or the checks below compare empty tables.
    assert scores.dropped and len(migration.movers) > 0 and migration.only_old == 40
    assert 0 < migration.rate < 1 and carried.match.pairs

    at = ok(upload(open_page(), ("bundle.json", bundle_data), (EXPORT_NAME, next_quarter)))
    assert not at.error
    shown = metrics(at)
    assert shown["Rows read"] == f"{scores.rows_read:,}"
    assert shown["Customers assigned"] == f"{len(scores.segmented):,}"
    assert shown["Rows not assigned"] == f"{sum(scores.dropped.values()):,}"
    captions = [c.value for c in at.caption]
    for why, n in scores.dropped.items():
        assert f"Not assigned: {n:,} × {why}" in captions

    counts = table_with(at, "now").set_index("persona")
    assert counts["now"].to_dict() == scores.segmented["persona"].value_counts().to_dict()
    assert counts["then"].to_dict() == bundle.assignments["persona"].value_counts().to_dict()

    assert shown["Migration rate"] == f"{migration.rate:.1%}"
    assert shown["Population stability index"] == f"{migration.psi:.3f}"
    assert shown["Customers in both runs"] == f"{migration.customers_both:,}"
    alerts = [a.value for a in [*at.success, *at.info, *at.warning]]
    assert any(migration.reading in a for a in alerts)
    assert any(migration.psi_reading in a for a in alerts)

    old_z = pd.DataFrame([r.signature for r in bundle.records])
    moved = drift(old_z, result.profiles.z, carried.match.pairs,
                  names={p.segment: p.name for p in carried.personas})
    labels = {v: var.label for v, var in result.profiles.variables.items()}
    want = {(html.escape(r.persona, quote=False), labels[r.variable]): r.change_in_sd
            for r in moved.itertuples(index=False)}
    (heatmap,) = traces(at, "heatmap")
    z = array(heatmap["z"])
    assert z.shape == (len(carried.match.pairs), 12)
    for i, persona in enumerate(heatmap["y"]):
        for j, variable in enumerate(heatmap["x"]):
            assert z[i, j] == pytest.approx(want[(persona, variable)])

    links = sankey_links(at)
    assert sum(v for _, _, v in links) == migration.customers_both
    assert sorted(links) == sorted(
        (html.escape(old, quote=False), html.escape(new, quote=False), int(n))
        for (old, new), n in migration.matrix.stack().items() if n)
    counts, percent = (d.value for d in at.dataframe if d.value.index.name == "Saved persona")
    for table, want in ((counts, migration.matrix), (percent, migration.row_percent)):
        pd.testing.assert_frame_equal(table, want, check_names=False, check_index_type=False,
                                      check_column_type=False)
    movers = table_with(at, "old_persona")
    pd.testing.assert_frame_equal(movers.reset_index(drop=True), migration.movers,
                                  check_dtype=False)
    assert not at.get("download_button")[0].proto.disabled

    # The files are kept outside the widgets, so they outlive a page switch.
    ok(at.switch_page("pages/home.py").run())
    ok(at.switch_page(COMPARE).run())
    assert metrics(at)["Migration rate"] == f"{migration.rate:.1%}"


def _engine_message(call, *args, **kwargs) -> str:
    with pytest.raises(SegmentationError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


BAD_BUNDLES = {
    "random bytes": lambda saved: np.random.default_rng(0).bytes(600),
    "a model.json": lambda saved: json.dumps(model_dict(saved)).encode("utf-8"),
    "damaged": lambda saved: b'{"format": "segmentation-bundle", "version": 1}',
}


@pytest.mark.parametrize("kind", BAD_BUNDLES)
def test_a_bad_bundle_shows_the_engines_message(kind, saved, next_quarter):
    content = BAD_BUNDLES[kind](saved)
    message = _engine_message(load_bundle, content)
    at = ok(upload(open_page(), ("bundle.json", content), (EXPORT_NAME, next_quarter)))
    assert [e.value for e in at.error] == [md(message)]
    assert_actionable(message)
    assert not at.metric and not at.get("plotly_chart")


BAD_EXPORTS = {
    "empty": lambda path: b"",
    "binary": lambda path: b"PK\x03\x04\x00\x00" + np.random.default_rng(0).bytes(600),
    "without the model's Income": lambda path: _tsv(_sample_text(path).drop(columns="Income")),
}


@pytest.mark.parametrize("kind", BAD_EXPORTS)
def test_a_bad_export_shows_the_engines_message(kind, sample_path, bundle, bundle_data):
    content = BAD_EXPORTS[kind](sample_path)
    message = _engine_message(score, content, bundle.model, name="next.csv")
    at = ok(upload(open_page(), ("bundle.json", bundle_data), ("next.csv", content)))
    assert [e.value for e in at.error] == [md(message)]
    assert_actionable(message)
    assert not at.metric and not at.get("plotly_chart")


def test_an_export_with_no_customer_in_common_says_so(sample_path, bundle, bundle_data):
    frame = _sample_text(sample_path)
    content = _tsv(frame.assign(ID="N" + frame["ID"]))
    at = ok(upload(open_page(), ("bundle.json", bundle_data), ("renumbered.tsv", content)))
    shown = metrics(at)
    assert shown["Customers in both runs"] == "0"
    assert shown["Only in the new export"] == f"{len(frame):,}"
    assert "Migration rate" not in shown and not traces(at, "sankey")
    assert any("no customer id in common" in i.value for i in at.info)


# ---------------------------------------------------------------- engine bugs

def _without_education(sample_path) -> bytes:
    # Education is not one of the model's clustering variables, but the
    # saved preparation derives every catalogued variable, education level too.
    return _tsv(_sample_text(sample_path).drop(columns="Education"))


def test_scoring_an_export_without_an_unused_column_assigns_or_explains(sample_path, bundle):
    try:
        scores = score(_without_education(sample_path), bundle.model)
    except SegmentationError as exc:
        assert_actionable(str(exc))
    else:
        assert len(scores.segmented) == 2240


def test_an_export_without_an_unused_column_shows_no_traceback(sample_path, bundle_data):
    at = upload(open_page(), ("bundle.json", bundle_data),
                ("next.tsv", _without_education(sample_path)))
    ok(at)
    assert at.metric or len(at.error) == 1  # assigned, or one sentence saying why not
    for error in at.error:
        assert_actionable(error.value)


# ---------------------------------------------------------------- chart builders

TRICKY = "<b>Premium</b> & co"


def test_sankey_links_are_the_matrix_counts():
    old = pd.DataFrame({"customer_id": list("abcdefgh"), "segment": [0, 0, 0, 1, 1, 1, 2, 2],
                        "persona": [TRICKY] * 3 + ["Families"] * 3 + ["Gone"] * 2})
    new = old.assign(persona=[TRICKY, "Lapsed", "Lapsed", "Families", "Families", TRICKY,
                              "Lapsed", "Families"])
    matrix = compare_assignments(old, new).matrix
    colors = {TRICKY: "#117733", "Families": "#88CCEE", "Lapsed": "#DDCC77"}
    fig = charts.sankey_chart(matrix, colors)
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    links = sorted(zip((labels[s] for s in sankey.link.source),
                       (labels[t] for t in sankey.link.target), sankey.link.value, strict=True))
    cells = sorted((html.escape(o, quote=False), html.escape(n, quote=False), int(v))
                   for (o, n), v in matrix.stack().items() if v)
    assert links == cells and sum(sankey.link.value) == len(old)
    assert labels[:len(matrix)] == [html.escape(p, quote=False) for p in matrix.index]
    # "Gone" is not in the new run, so it has no colour of its own.
    assert list(sankey.node.color) == [colors.get(p, charts.REFERENCE_COLOR)
                                       for p in [*matrix.index, *matrix.columns]]


def _drift_frame() -> pd.DataFrame:
    variables = [f"v{i}" for i in range(6)]
    rng = np.random.default_rng(3)
    old_z = pd.DataFrame(rng.normal(size=(2, 6)), columns=variables)
    new_z = pd.DataFrame(rng.normal(size=(3, 6)), columns=variables)
    means = pd.DataFrame(rng.uniform(0, 100, size=(3, 6)), columns=variables)
    frame = drift(old_z, new_z, {0: 1, 2: 0}, new_means=means, names={0: TRICKY, 2: "Families"})
    return frame.assign(label=frame["variable"].str.upper())


def test_drift_chart_draws_change_in_sd_per_persona_and_variable():
    frame = _drift_frame()
    heatmap = charts.drift_chart(frame, top=6).data[0]
    assert list(heatmap.y) == [html.escape(TRICKY, quote=False), "Families"]
    cells = {(y, x): heatmap.z[i][j] for i, y in enumerate(heatmap.y)
             for j, x in enumerate(heatmap.x)}
    for row in frame.itertuples(index=False):
        shown = html.escape(row.persona, quote=False)
        assert cells[(shown, row.label)] == pytest.approx(row.change_in_sd)
    assert len(cells) == len(frame)


def test_drift_chart_keeps_the_variables_that_moved_most():
    frame = _drift_frame()
    heatmap = charts.drift_chart(frame, top=2).data[0]
    largest = (frame.assign(size=frame["change_in_sd"].abs()).groupby("label")["size"].max()
               .nlargest(2).index.tolist())
    assert list(heatmap.x) == largest
