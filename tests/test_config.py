"""segmentation.config is the one home of every default and threshold: each has its reason,
none is defined a second time, and the command line, the app and the pages read it."""

from __future__ import annotations

import ast
import io
import tokenize

import pytest

from segmentation import config
from segmentation.cli import build_parser
from segmentation.pipeline import RunConfig
from segmentation.prepare.features import PrepConfig
from tests.helpers import ROOT

CONFIG = ROOT / "segmentation" / "config.py"
PAGES_WITH_THRESHOLDS = ("pages/validate.py", "pages/personas.py", "report/html.py")


def _constants(tree: ast.Module) -> dict[str, ast.stmt]:
    """Module-level UPPER_CASE names assigned in ``tree``, with their statement."""
    found = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id.isupper():
                    found[name.id] = node
    return found


def uncommented(source: str) -> list[str]:
    """Constants with neither a comment on their own lines nor one on the line above."""
    lines = source.splitlines()
    comment_rows = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                    if tok.type == tokenize.COMMENT}
    missing = []
    for name, node in _constants(ast.parse(source)).items():
        own = any(row in comment_rows for row in range(node.lineno, node.end_lineno + 1))
        above = node.lineno > 1 and lines[node.lineno - 2].lstrip().startswith("#")
        if not (own or above):
            missing.append(name)
    return missing


def second_definitions(path, source: str, names: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}: {name}"
            for name in sorted(set(_constants(ast.parse(source))) & names)]


def literal_thresholds(source: str) -> list[tuple[int, float]]:
    """Float literals strictly between 0 and 1 compared against in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                for leaf in ast.walk(side):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, float) \
                            and 0 < leaf.value < 1:
                        found.append((leaf.lineno, leaf.value))
    return found


def _config_names() -> set[str]:
    return set(_constants(ast.parse(CONFIG.read_text(encoding="utf-8"))))


def test_every_constant_in_config_says_why():
    names = _config_names()
    assert len(names) >= 80  # the check ran over the real module, not an empty one
    assert uncommented(CONFIG.read_text(encoding="utf-8")) == []


def test_the_comment_check_catches_a_bare_constant():
    source = "# why A\nA = 1\nB = 2  # why B\nC = 3\n\nD = (\n    1,  # why D\n)\n"
    assert uncommented(source) == ["C"]


def test_no_engine_module_defines_a_config_value_a_second_time():
    names = _config_names()
    engine = sorted(p for p in (ROOT / "segmentation").rglob("*.py") if p != CONFIG)
    assert len(engine) >= 30
    found = [v for p in engine for v in second_definitions(p, p.read_text(encoding="utf-8"),
                                                          names)]
    assert found == []


def test_the_second_definition_check_catches_one():
    path = ROOT / "segmentation" / "cluster" / "kmeans.py"
    assert second_definitions(path, "from x import y\nMAX_K = 12\n_PRIVATE = 1\n", {"MAX_K"}) \
        == ["segmentation/cluster/kmeans.py: MAX_K"]


@pytest.mark.parametrize(("module", "name"), [
    ("segmentation.cluster.kmeans", "MAX_K"),
    ("segmentation.cluster.kmeans", "WEAK_SILHOUETTE"),
    ("segmentation.prepare.features", "FAR_FENCE"),
    ("segmentation.validate.stability", "DEFAULT_BOOTSTRAPS"),
    ("segmentation.describe.personas", "LEVEL_MIN_SHARE"),
    ("segmentation.plan.abtest", "RULE_OF_THUMB_PER_ARM"),
    ("segmentation.export.schemas", "MAX_CENTERS"),
    ("segmentation.pipeline", "MAX_N_INIT"),
])
def test_engine_modules_still_expose_the_config_values(module, name):
    import importlib

    assert getattr(importlib.import_module(module), name) is getattr(config, name)


def test_lifetime_minimum_keeps_its_name_in_the_lifetime_module():
    from segmentation.plan import lifetime

    assert lifetime.MIN_CUSTOMERS == config.MIN_LIFETIME_CUSTOMERS != config.MIN_CUSTOMERS


def _run_defaults() -> dict:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    run = sub.choices["run"]
    return {a.dest: a.default for a in run._actions}


def test_command_line_defaults_are_the_config_and_engine_defaults():
    cli = _run_defaults()
    engine, prep = RunConfig(), PrepConfig()
    expected = {
        "k_min": (config.DEFAULT_K_RANGE[0], engine.k_min),
        "k_max": (config.DEFAULT_K_RANGE[1], engine.k_max),
        "seed": (config.DEFAULT_SEED, engine.random_state),
        "n_init": (config.DEFAULT_N_INIT, engine.n_init),
        "input_kind": (config.DEFAULT_INPUT_KIND, engine.input_kind),
        "scaling": (config.DEFAULT_SCALING, prep.scaling),
        "outliers": (config.DEFAULT_OUTLIERS, prep.outliers),
        "missing": (config.DEFAULT_MISSING, prep.missing),
    }
    assert {dest: cli[dest] for dest in expected} == {d: c for d, (c, _) in expected.items()}
    assert {d: c for d, (c, _) in expected.items()} == {d: e for d, (_, e) in expected.items()}


def test_command_line_defaults_follow_a_changed_config(monkeypatch):
    # The parser reads the constants when it is built, so a new default reaches --help
    # and the run without a second edit.
    import segmentation.cli.parser as parser_module

    monkeypatch.setattr(parser_module, "DEFAULT_SEED", 7)
    monkeypatch.setattr(parser_module, "DEFAULT_K_RANGE", (3, 8))
    cli = _run_defaults()
    assert (cli["seed"], cli["k_min"], cli["k_max"]) == (7, 3, 8)


def test_app_defaults_are_the_engine_defaults():
    from ui import state

    engine = RunConfig()
    d = state._DEFAULTS
    assert (d[state.SEED], d[state.N_INIT], d[state.K_RANGE], d[state.K_CHOICE],
            d[state.STABILITY], d[state.INPUT_KIND], d[state.ID_COLUMN], d[state.SHEET],
            d[state.REFERENCE_DATE]) == (
        engine.random_state, engine.n_init, (engine.k_min, engine.k_max), engine.k,
        engine.stability, engine.input_kind, engine.id_column, engine.sheet,
        engine.reference_date)
    assert (d[state.SCALING], d[state.OUTLIERS], d[state.MISSING], d[state.FEATURES]) == (
        engine.prep.scaling, engine.prep.outliers, engine.prep.missing, engine.prep.features)


@pytest.mark.parametrize("path", PAGES_WITH_THRESHOLDS)
def test_pages_and_report_compare_against_no_literal_threshold(path):
    assert literal_thresholds((ROOT / path).read_text(encoding="utf-8")) == []


def test_the_literal_threshold_check_catches_the_old_badge_colours():
    old = ('color = ("green" if row["mean_jaccard"] >= 0.75 else\n'
           '         "orange" if row["mean_jaccard"] >= 0.6 else "red")\n'
           'bar = st.progress(0.0)\nok = n > 1.5\n')
    assert literal_thresholds(old) == [(1, 0.75), (2, 0.6)]
