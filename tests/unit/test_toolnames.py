"""Tool names are declared once: tools/toolnames.py holds a constant per tool named outside tools/, and no module
outside tools/ and the template modules that call the tools writes a tool's name as a quoted string, apart
from at most three named exceptions."""

from __future__ import annotations

import ast
from pathlib import Path

from graph.templates import TEMPLATES
from tools import toolnames
from tools.registry import _load

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("business_data", "tools", "memory", "graph", "server", "ui")
# at most three modules outside tools/ and the templates may quote a tool's name; each says why
EXCEPTIONS: dict[str, str] = {}
# modules another branch is rewriting (the typed answer payload, the web app): remove each as it lands
PENDING: dict[str, str] = {}  # every module outside tools/ uses the constants (schema/toolnames.py)


def _quoting_modules() -> dict[str, set[str]]:
    names = set(_load())
    allowed = _template_files()
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("tools/") or rel in allowed or "/migrations/" in rel:
                continue
            quoted = {
                node.value
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.Constant) and node.value in names
            }
            if quoted:
                found[rel] = quoted
    return found


def _template_files() -> set[str]:
    """The template modules (graph/templates/<name>.py, one per template): they call the tools by name."""
    return {f"graph/templates/{name}.py" for name in TEMPLATES}


def test_every_constant_names_a_registered_tool():
    # a new tool needs a constant only once a module outside tools/ names it (the tool recipe stays 3 files)
    constants = {k: v for k, v in vars(toolnames).items() if k.isupper()}
    assert constants and all(v in _load() and k == v.upper() for k, v in constants.items()), constants


def test_no_quoted_tool_name_outside_tools_and_the_templates():
    found = _quoting_modules()
    unexpected = {m: sorted(n) for m, n in found.items() if m not in EXCEPTIONS and m not in PENDING}
    assert not unexpected, f"use tools.toolnames constants instead of quoted tool names: {unexpected}"
    assert len(EXCEPTIONS) <= 3
    stale = sorted(set(PENDING) - set(found))
    assert not stale, f"these modules no longer quote tool names: remove them from PENDING: {stale}"


def test_the_allowance_is_the_template_modules_not_their_package():
    assert all((ROOT / f).is_file() for f in _template_files())
    assert not any(m.startswith("graph/templates/") for m in _quoting_modules())  # common.py, plans.py ...


def test_every_tool_says_what_people_ask_it_for():
    """ "What I ask about" lists a user's most used tools in the words each ToolSpec declares (`topic`)."""
    missing = [name for name, declared in _load().items() if not declared.topic.strip()]
    assert not missing, f"tools without a topic: {missing}"
