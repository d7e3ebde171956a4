"""Change domains and the indicator catalogue are a feature of their own (charter/catalogue):
its blueprint serves their pages, and it depends on nothing in charter/commitments
(commitments import the catalogue, never the reverse)."""

from __future__ import annotations

import ast
from pathlib import Path

import charter

CATALOGUE = Path(charter.__file__).parent / "catalogue"
CATALOGUE_PATHS = ("/admin/domains", "/admin/indicators", "/domains", "/indicators")


def _serves(rule: str, prefix: str) -> bool:
    return rule == prefix or rule.startswith(prefix + "/")


def test_no_commitments_endpoint_serves_admin_domains_or_indicators(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("commitments."):
            assert not _serves(rule.rule, "/admin"), rule
            assert not _serves(rule.rule, "/domains"), rule
            assert not _serves(rule.rule, "/indicators"), rule


def test_the_catalogue_blueprint_serves_the_domain_and_catalogue_pages(app):
    for rule in app.url_map.iter_rules():
        if any(_serves(rule.rule, prefix) for prefix in CATALOGUE_PATHS):
            assert rule.endpoint.startswith("catalogue."), rule
    served = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("catalogue.")}
    assert {"/domains", "/domains/<slug>", "/indicators", "/admin/domains",
            "/admin/indicators"} <= served


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = "charter.catalogue"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import: resolve it against the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_catalogue_imports_nothing_from_commitments():
    files = sorted(CATALOGUE.glob("*.py"))
    assert files
    for path in files:
        offending = {name for name in _imported_modules(path)
                     if name == "charter.commitments" or name.startswith("charter.commitments.")}
        assert not offending, f"{path.name} imports {sorted(offending)}"
