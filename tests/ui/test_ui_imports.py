"""The web app is an HTTP client: of the project, ui/ imports only the schema package (the models and
formats the API and the web app share), never the server's layers."""

from __future__ import annotations

import ast

from ..conftest import ROOT

SERVER_LAYERS = {"business_data", "tools", "memory", "graph", "server"}


def imported(path) -> set[str]:
    """The top-level packages a module imports (absolute imports only; relative ones stay inside ui/)."""
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_ui_imports_nothing_of_the_project_but_the_schema_package():
    modules = sorted((ROOT / "ui").glob("*.py"))
    assert len(modules) > 10
    used = {p.name: imported(p) & (SERVER_LAYERS | {"schema"}) for p in modules}
    assert not {name: found & SERVER_LAYERS for name, found in used.items() if found & SERVER_LAYERS}
    assert {name for name, found in used.items() if "schema" in found} >= {
        "answers.py",
        "api.py",
        "chat.py",
        "plots.py",
    }


def test_the_schema_package_imports_nothing_of_the_project():
    for path in sorted((ROOT / "schema").glob("*.py")):
        assert not imported(path) & SERVER_LAYERS, path.name
