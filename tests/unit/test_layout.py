"""Imports run one way (routes -> flows -> rules and adapters; pages -> forms), read from the
source with ``ast`` so a cycle or a route reaching the Lambda entry module fails here, not
as a puzzling ImportError at start on Lambda."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, as dotted names
    (``from webapp import events`` counts as ``webapp.events``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules(pattern: str) -> list[Path]:
    found = sorted(WEBAPP.glob(pattern))
    assert found, pattern  # a rename must not make this test pass by finding nothing
    return found


def test_the_scanner_sees_a_function_level_import(tmp_path):
    source = tmp_path / "routes.py"
    source.write_text("def view():\n    from webapp import events\n    return events\n")
    assert "webapp.events" in imported(source)


@pytest.mark.parametrize("path", modules("*/routes.py"), ids=lambda p: str(p.relative_to(WEBAPP)))
def test_no_route_imports_the_lambda_entry_module(path):
    assert "webapp.events" not in imported(path)


def test_nothing_in_the_app_imports_the_lambda_entry_module():
    """``webapp.events`` imports ``wsgi`` to find the running app: it is an entry point only."""
    importers = [str(path.relative_to(WEBAPP)) for path in modules("**/*.py")
                 if path.name != "events.py" and "webapp.events" in imported(path)]
    assert importers == []


@pytest.mark.parametrize("path", [*modules("*/forms.py"), WEBAPP / "forms.py"], ids=lambda p: str(p.relative_to(WEBAPP)))
def test_no_forms_module_imports_the_page_helpers(path):
    assert not {name for name in imported(path) if name == "webapp.pages" or name.startswith("webapp.pages.")}
    assert not {name for name in imported(path) if name.endswith(".routes") or ".routes." in name}
