"""The engine's shape: what it may import, and that its modules form no import cycle.

tests/architecture/test_import_boundary.py records what the engine and the report load while
they import and run; these checks read every import statement (including ones a run never reaches,
inside functions or TYPE_CHECKING blocks), allow exactly one lazy report import, and keep
the module graph acyclic so any module imports first.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "segmentation"
APP_FOLDERS = ("ui", "pages", "report", "charts")
UI_LIBRARIES = ("streamlit", "plotly", "altair")
FORBIDDEN = APP_FOLDERS + UI_LIBRARIES

# The command line is a package of its own inside segmentation/ (so `python -m segmentation`
# works); it depends on the engine and the report, and nothing in the engine imports it.
CLI = PACKAGE / "cli"
OUTSIDE_ENGINE = (CLI, PACKAGE / "__main__.py")
APP_SIDE = ("app.py", "serve.py", "ui", "pages", "report", "charts", "segmentation/cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_statements(tree: ast.AST):
    """Yield ``(node, at_module_level)`` for every import; ``if TYPE_CHECKING:`` counts as lazy.

    Module level means executed when the module is imported: class bodies, ``try`` and
    ordinary ``if`` blocks are, function bodies and type-checking blocks are not.
    """

    def walk(node: ast.AST, eager: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, eager
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), eager)
            else:
                yield from walk(child, eager)

    yield from walk(tree, True)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from`` import names (relative levels resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
                     known: set[str]) -> set[str]:
    """The ``known`` modules an import statement executes, seen from ``module``.

    ``from . import io`` loads the submodule, not the package's ``__init__`` again, while
    ``from . import run`` needs the package itself. Packages on the way to a target run
    first, unless ``module`` sits inside them (then they are already being imported).
    """
    if isinstance(node, ast.Import):
        targets = {alias.name for alias in node.names}
    else:
        base = _resolve(node, module, is_package)
        targets = {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                   for a in node.names}
    ancestors = {module.rsplit(".", i)[0] for i in range(module.count(".") + 1)}
    loaded = set()
    for target in targets:
        parts = target.split(".")
        loaded |= {".".join(parts[:i]) for i in range(1, len(parts))} - ancestors
        loaded.add(target)
    return (loaded & known) - {module}


def boundary_violations(path: Path, source: str) -> list[str]:
    """Imports in one engine file that name the app's folders or its UI libraries."""
    rel = path.relative_to(ROOT).as_posix()
    module, is_package = _module_name(path), path.name == "__init__.py"
    found = []
    for node, _ in import_statements(ast.parse(source, filename=rel)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [_resolve(node, module, is_package)])
        for name in names:
            if name.split(".")[0] not in FORBIDDEN and not (
                    name == "segmentation.cli" or name.startswith("segmentation.cli.")):
                continue
            found.append(f"{rel}:{node.lineno} imports {name}")
    return found


def engine_files() -> list[Path]:
    """Every source file of the engine: the package without its command line."""
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if not any(p == o or o in p.parents for o in OUTSIDE_ENGINE))


def private_engine_imports(path: Path, source: str) -> list[str]:
    """Imports in an app-side file of an engine module or name that starts with ``_``."""
    rel = path.relative_to(ROOT).as_posix()
    found = []
    for node, _ in import_statements(ast.parse(source, filename=rel)):
        if isinstance(node, ast.Import):
            pairs = [(a.name, "") for a in node.names]
        elif node.level == 0:
            pairs = [(node.module or "", a.name) for a in node.names]
        else:
            continue
        for module, name in pairs:
            if module.split(".")[0] != "segmentation":
                continue
            private = [part for part in module.split(".") + [name]
                       if part.startswith("_") and part != "__version__"]
            if private:
                found.append(f"{rel}:{node.lineno} imports {module}{'.' + name if name else ''}")
    return found


def app_side_files() -> list[Path]:
    files = []
    for entry in APP_SIDE:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def import_graph() -> dict[str, set[str]]:
    """Engine module -> engine modules it imports when it is itself imported."""
    files = engine_files()
    modules = {_module_name(p) for p in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in files:
        module, is_package = _module_name(path), path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, eager in import_statements(tree):
            if eager:
                graph[module] |= imported_modules(node, module, is_package, modules)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None when the graph is acyclic."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


# --- read from the source ---


def test_no_engine_file_names_the_app_or_its_ui_libraries():
    files = engine_files()
    assert len(files) >= 10
    found = [v for p in files for v in boundary_violations(p, p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_command_line_imports_the_report_only_when_asked_for_it():
    # `run --report` draws with plotly; every other command starts without loading it.
    tree = ast.parse((CLI / "commands.py").read_text(encoding="utf-8"))
    report_imports = [(eager, _resolve(n, "segmentation.cli.commands", False))
                      for n, eager in import_statements(tree)
                      if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("report")]
    assert report_imports == [(False, "report.html")]


def test_the_app_side_imports_only_public_engine_names():
    files = app_side_files()
    assert len(files) >= 15
    found = [v for p in files for v in private_engine_imports(p, p.read_text(encoding="utf-8"))]
    assert found == []


def test_private_import_check_catches_what_it_is_meant_to():
    page = ROOT / "pages" / "plan.py"
    assert private_engine_imports(page, "from segmentation.cluster.kmeans import _fit\n") == [
        "pages/plan.py:1 imports segmentation.cluster.kmeans._fit"]
    assert private_engine_imports(page, "def f():\n    import segmentation.data._bounded_json\n") == [
        "pages/plan.py:2 imports segmentation.data._bounded_json"]
    assert private_engine_imports(page, "from segmentation import __version__, run\n") == []
    assert private_engine_imports(page, "from ._x import y\nfrom pandas import _libs\n") == []


def test_boundary_check_catches_what_it_is_meant_to():
    features = PACKAGE / "prepare" / "features.py"
    eager_report = "from report.html import write_report\n"
    lazy_ui = "def f():\n    from ui.state import bind\n"
    guarded = "try:\n    import plotly.express as px\nexcept ImportError:\n    px = None\n"
    hinted = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import streamlit\n"
    where = "segmentation/prepare/features.py"
    assert boundary_violations(features, eager_report) == [f"{where}:1 imports report.html"]
    assert boundary_violations(features, "def f():\n    " + eager_report) == [
        f"{where}:2 imports report.html"]
    assert boundary_violations(features, lazy_ui) == [f"{where}:2 imports ui.state"]
    assert boundary_violations(features, guarded) == [f"{where}:2 imports plotly.express"]
    assert boundary_violations(features, hinted) == [f"{where}:3 imports streamlit"]
    assert boundary_violations(features, "def f():\n    from segmentation.cli import main\n") == [
        f"{where}:2 imports segmentation.cli"]
    assert boundary_violations(features, "from .reporting import x\nimport uid\n") == []
    assert PACKAGE / "cli" / "__init__.py" not in engine_files()
    assert features in engine_files()


def test_engine_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    # The graph holds real edges (the package itself imports its stages lazily, on first use).
    assert graph["segmentation"] == {"segmentation._version"}
    assert graph["segmentation.pipeline"] >= {"segmentation.cluster.kmeans",
                                              "segmentation.data.dataset"}
    assert find_cycle(graph) is None


def test_cycle_finder_on_small_graphs():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"b"}}) == ["b", "b"]


def test_graph_reads_relative_absolute_lazy_and_type_checking_imports():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from . import customer_file\n"
        "from ..prepare.features import prepare\n"
        "import segmentation.data.roles\n"
        "from segmentation.errors import SegmentationError\n"
        "if TYPE_CHECKING:\n    from .pipeline import RunConfig\n"
        "def f():\n    from ..cluster.kmeans import segment\n")
    known = {"segmentation", "segmentation.data", "segmentation.data.customer_file",
             "segmentation.prepare", "segmentation.prepare.features", "segmentation.data.roles",
             "segmentation.errors", "segmentation.pipeline", "segmentation.cluster",
             "segmentation.cluster.kmeans"}
    eager = set()
    for node, at_module_level in import_statements(tree):
        if at_module_level:
            eager |= imported_modules(node, "segmentation.data.dataset", False, known)
    assert eager == {"segmentation.data.customer_file", "segmentation.prepare",
                     "segmentation.prepare.features", "segmentation.data.roles",
                     "segmentation.errors"}
    needs_package = ast.parse("from .. import run\n").body[0]
    assert imported_modules(needs_package, "segmentation.data.dataset", False, known) == {
        "segmentation"}


# Pages lay out widgets and call the engine: JSON and statistics belong to the engine.
PAGE_FORBIDDEN_LIBRARIES = ("json", "numpy", "scipy", "statsmodels", "sklearn")


def page_violations(source: str) -> list[str]:
    """Imports of JSON or statistics libraries, and ``json.`` uses, in a page's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "json"):
            names = ["json"]
        else:
            continue
        found += [f"line {node.lineno}: {name}" for name in names
                  if name.split(".")[0] in PAGE_FORBIDDEN_LIBRARIES]
    return found


def test_pages_hold_no_json_and_no_statistics():
    offending = {path.name: page_violations(path.read_text(encoding="utf-8"))
                 for path in sorted((ROOT / "pages").glob("*.py"))}
    assert {name: found for name, found in offending.items() if found} == {}


def test_page_check_catches_what_it_is_meant_to():
    assert page_violations(
        "import json\nimport numpy as np\nfrom scipy import stats\n"
        "from statsmodels.stats.proportion import proportion_confint\n"
        "import sklearn.tree\nx = json.dumps({})\n") == [
        "line 1: json", "line 2: numpy", "line 3: scipy", "line 4: statsmodels.stats.proportion",
        "line 5: sklearn.tree", "line 6: json"]
    assert page_violations(
        "import pandas as pd\nfrom ui import flow\nname = 'bundle.json'\n"
        "st.download_button(mime='application/json')\n") == []


def test_tests_import_shared_code_from_the_helpers_package_not_conftest():
    # pytest loads conftest.py itself, under a name that depends on the import mode; a test
    # importing it by name gets a second copy, or nothing once the folders change.
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, _ in import_statements(tree):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names])
            if any(name.split(".")[0] == "conftest" for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"import from tests.helpers instead: {offenders}"


# --- every public engine name has a user ---

# Users of the engine besides the app side and the engine itself; tests are not among them, so a function only its own tests
# call is an implementation detail and carries a leading underscore.
SCRIPTS = ("benchmarks", "tools", "sample_data")
# Public names no other file takes, kept public on purpose, each with its reason.
RESULT_TYPE = "the type of a field of a public result, which users read and may annotate with"
FILE_FORMAT = "part of a declared file format, nested in a schema the engine validates against"
LAZY_MODULE = "called by pages/export.py through the module it imports on first download"
UNUSED_BUT_PUBLIC: dict[tuple[str, str], str] = {
    ("segmentation.data.roles", "detect_roles"):
        "the module docstring offers it to callers who edit roles and pass them back",
    ("segmentation.describe.personas", "Claim"): RESULT_TYPE,
    ("segmentation.describe.profiles", "Trait"): RESULT_TYPE,
    ("segmentation.plan.campaign_results", "Analysis"): RESULT_TYPE,
    ("segmentation.prepare.features", "OutlierRule"): RESULT_TYPE,
    ("segmentation.prepare.features", "CompositeSuggestion"): RESULT_TYPE,
    ("segmentation.prepare.features", "PrepReport"): RESULT_TYPE,
    ("segmentation.validate.migration", "Migration"): RESULT_TYPE,
    **{("segmentation.export.schemas", name): FILE_FORMAT for name in (
        "OutlierRuleSchema", "PreparationSchema", "PersonaNameSchema", "TreeSchema",
        "LogisticSchema", "AccuracySchema", "EvaluationSchema", "PrepConfigSchema",
        "RunConfigSchema", "DataSchema", "PersonaRecordSchema", "AssignmentsSchema")},
    **{("segmentation.export.strategy", name): LAZY_MODULE for name in (
        "strategy_sheet_xlsx", "strategy_sheet_html")},
}


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for an attribute chain rooted at a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def names_taken(path: Path, source: str, modules: set[str]) -> set[tuple[str, str]]:
    """``(module, name)`` for every name one file takes from the ``modules`` given.

    Both ``from m import name`` and ``alias.name`` where ``alias`` is bound to a module
    (``import a.b as alias``, ``from a import b``, plain ``import a.b``) count.
    """
    module, is_package = _module_name(path), path.name == "__init__.py"
    tree = ast.parse(source, filename=str(path))
    aliases: dict[str, str] = {}
    taken = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    aliases[a.asname or a.name] = f"{base}.{a.name}"
                elif base in modules:
                    taken.add((base, a.name))
        elif isinstance(node, ast.Import):
            for a in node.names:
                root = a.name.split(".")[0]
                aliases[a.asname or root] = a.name if a.asname else root
    for node in ast.walk(tree):
        dotted = _dotted(node) if isinstance(node, ast.Attribute) else None
        if dotted is None or dotted.split(".")[0] not in aliases:
            continue
        head, _, rest = dotted.partition(".")
        owner, _, name = f"{aliases[head]}.{rest}".rpartition(".")
        if owner in modules:
            taken.add((owner, name))
    return taken


def public_definitions(source: str) -> tuple[list[str], list[str] | None]:
    """A module's public top-level functions and classes, and its ``__all__`` if it has one."""
    tree = ast.parse(source)
    names = [n.name for n in tree.body
             if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
             and not n.name.startswith("_")]
    declared = None
    for n in tree.body:
        if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets):
            declared = list(ast.literal_eval(n.value))
    return names, declared


def user_files() -> list[Path]:
    """Every file that may use the engine, tests aside."""
    scripts = [p for folder in SCRIPTS for p in sorted((ROOT / folder).rglob("*.py"))]
    return app_side_files() + engine_files() + [PACKAGE / "__main__.py"] + scripts


def unused_public_names() -> list[str]:
    """Public engine functions and classes that no file but their own takes, and that the
    module does not declare in ``__all__``."""
    engine = engine_files()
    modules = {_module_name(p) for p in engine}
    taken: set[tuple[str, str]] = set()
    for path in user_files():
        taken |= {(m, n) for m, n in names_taken(path, path.read_text(encoding="utf-8"), modules)
                  if m != _module_name(path)}
    found = []
    for path in engine:
        module = _module_name(path)
        names, declared = public_definitions(path.read_text(encoding="utf-8"))
        found += [f"{module}.{name}" for name in names
                  if (module, name) not in taken and name not in (declared or ())
                  and (module, name) not in UNUSED_BUT_PUBLIC]
    return found


def test_every_public_engine_name_has_a_user_outside_its_module():
    # A helper only its own module (or its tests) calls is an implementation detail: give it a
    # leading underscore, or declare it in the module's __all__, or list it above with why.
    assert unused_public_names() == []


def test_allowed_unused_names_still_exist_and_are_still_unused():
    # An allowance outlives its reason once the name is gone or has found a user.
    engine = {_module_name(p): p for p in engine_files()}
    modules = set(engine)
    taken = {pair for path in user_files()
             for pair in names_taken(path, path.read_text(encoding="utf-8"), modules)}
    for module, name in UNUSED_BUT_PUBLIC:
        names, _ = public_definitions(engine[module].read_text(encoding="utf-8"))
        assert name in names, f"{module}.{name}"
        assert (module, name) not in taken, f"{module}.{name} has a user now: drop its allowance"


def test_name_use_check_reads_every_way_of_taking_a_name():
    page = ROOT / "pages" / "plan.py"
    modules = {"segmentation.plan.abtest", "segmentation.plan", "segmentation"}
    source = ("from segmentation.plan.abtest import plan_tests\n"
              "from segmentation.plan import abtest\n"
              "import segmentation.plan.abtest as ab\n"
              "def f():\n    return abtest.assign_arms, ab.balance_table, abtest.x.y\n")
    assert names_taken(page, source, modules) == {
        ("segmentation.plan.abtest", "plan_tests"), ("segmentation.plan.abtest", "assign_arms"),
        ("segmentation.plan.abtest", "balance_table"), ("segmentation.plan.abtest", "x")}
    engine = PACKAGE / "plan" / "value.py"
    relative = "from .abtest import plan_tests\nfrom ..plan import abtest\nabtest.assign_arms()\n"
    assert names_taken(engine, relative, modules) == {
        ("segmentation.plan.abtest", "plan_tests"), ("segmentation.plan.abtest", "assign_arms")}
    assert public_definitions("def f(): ...\nclass C: ...\ndef _g(): ...\n__all__ = ['f']\n") == (
        ["f", "C"], ["f"])
