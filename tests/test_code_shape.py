"""The shape of the code that issue 11 settled, kept by the build: one commit per request in
the request layer, short routes, features in their own packages, each idea written once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from charter import create_app

CHARTER = Path(__file__).resolve().parent.parent / "charter"
TEMPLATES = CHARTER.parent / "templates"
MODULES = sorted(p for p in CHARTER.rglob("*.py") if "demo" not in p.parts)
ROUTE_MODULES = [p for p in MODULES if p.name.endswith("routes.py")]

# Where the transaction may be rolled back: the request layer and what answers errors.
ROLLBACK_ALLOWED = {"transaction.py", "errors.py", "mail.py", "api/extension.py",
                    "views_support.py", "cli.py"}


def _relative(path: Path) -> str:
    return path.relative_to(CHARTER).as_posix()


def _calls(path: Path, attribute: str) -> list[int]:
    """Lines of `db.session.<attribute>(` calls in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == attribute and ast.unparse(node.func.value) == "db.session"]


def test_no_route_module_commits():
    found = {_relative(p): _calls(p, "commit") for p in ROUTE_MODULES}
    assert {k: v for k, v in found.items() if v} == {}


def test_only_the_request_layer_and_error_handlers_roll_back():
    found = {_relative(p): _calls(p, "rollback") for p in MODULES}
    assert {k: v for k, v in found.items() if v and k not in ROLLBACK_ALLOWED} == {}


def _route_bodies() -> dict[str, int]:
    """Lines in each view function's body (its docstring and decorators not counted)."""
    lengths = {}
    for path in ROUTE_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            if not any("route" in ast.unparse(d) or ".get(" in ast.unparse(d)
                       or ".post(" in ast.unparse(d) for d in node.decorator_list):
                continue
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            lengths[f"{_relative(path)}:{node.name}"] = body[-1].end_lineno - body[0].lineno + 1
    return lengths


def test_routes_are_short():
    lengths = _route_bodies()
    assert len(lengths) > 100  # the walk found the routes
    assert {k: n for k, n in lengths.items() if n > 30} == {}
    over_20 = {k: n for k, n in lengths.items() if n > 20}
    assert len(over_20) <= 10, over_20


def test_no_module_is_a_whole_feature_in_one_file():
    lengths = {_relative(p): len(p.read_text(encoding="utf-8").splitlines())
               for p in CHARTER.rglob("*.py")}
    assert {k: n for k, n in lengths.items() if n > 700} == {}
    spreadsheets = {k: n for k, n in lengths.items()
                    if k.startswith("commitments/spreadsheets/")}
    assert spreadsheets, "the spreadsheets package exists"
    assert {k: n for k, n in spreadsheets.items() if n > 400} == {}


def test_the_catalogue_has_its_own_blueprint():
    app = create_app("testing")
    catalogue_paths = ("/admin/", "/domains", "/indicators")
    misplaced = [(rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("commitments.")
                 and rule.rule.startswith(catalogue_paths)]
    assert misplaced == []
    assert any(rule.endpoint.startswith("catalogue.") for rule in app.url_map.iter_rules())


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_catalogue_imports_nothing_from_commitments():
    found = {_relative(p): sorted(n for n in _imports(p) if n.startswith("charter.commitments"))
             for p in (CHARTER / "catalogue").rglob("*.py")}
    assert {k: v for k, v in found.items() if v} == {}


def test_only_commitments_imports_the_spreadsheets_package():
    found = {_relative(p): sorted(n for n in _imports(p)
                                  if n.startswith("charter.commitments.spreadsheets"))
             for p in MODULES if "commitments" not in p.parts}
    assert {k: v for k, v in found.items() if v} == {}


def _grep(pattern: str, paths) -> list[str]:
    regex = re.compile(pattern)
    return [f"{_relative(p)}:{i}" for p in paths
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if regex.search(line)]


def test_one_table_toolkit():
    assert _grep(r"^\s*class Column\b", MODULES) == ["tabular.py:" + _grep(
        r"^\s*class Column\b", [CHARTER / "tabular.py"])[0].split(":")[1]]


def test_commitments_are_built_only_by_their_services():
    assert [hit for hit in _grep(r"\bCommitment\(", MODULES)
            if not hit.startswith(("commitments/services.py", "models/"))] == []


@pytest.mark.parametrize("pattern", [
    r"order_by\(ChangeDomain\.position",
])
def test_said_once(pattern):
    assert len(_grep(pattern, MODULES)) == 1


def test_wide_tables_scroll_through_one_macro():
    hits = [f"{p.relative_to(TEMPLATES)}" for p in TEMPLATES.rglob("*.html")
            if '<div class="table-responsive' in p.read_text(encoding="utf-8")]
    assert hits == ["macros/tables.html"]
