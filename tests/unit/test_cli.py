"""`finkraft --version` and `--help`: every option of every command says its default (subprocesses)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from ..conftest import ROOT

COMMANDS = [
    [],
    ["serve"],
    ["ui"],
    ["migrate"],
    ["seed"],
    ["model"],
    ["model", "check"],
    ["prune"],
    ["token"],
    ["watch"],
]


def finkraft(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_version_is_the_packages():
    r = finkraft("--version")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert (r.returncode, r.stdout.strip()) == (0, f"finkraft {version}")


def options(help_text: str) -> dict[str, str]:
    """Each option's flag -> its whole description, from the `options:` section of --help."""
    section = help_text.split("options:", 1)[1]
    blocks = re.split(r"\n(?=  -)", section)
    found = {}
    for block in blocks:
        flags = re.findall(r"--[a-z-]+", block.split("  ", 2)[1] if block.strip() else "")
        if flags:
            found[flags[0]] = " ".join(block.split())
    return found


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "finkraft")
def test_help_shows_every_options_default(command):
    r = finkraft(*command, "--help")
    assert r.returncode == 0, r.stderr
    found = options(r.stdout)
    assert found, r.stdout
    for flag, text in found.items():
        if flag in ("--help", "--version"):
            continue
        assert "(default" in text, f"finkraft {' '.join(command)} {flag}: {text}"


def test_serve_help_names_its_defaults():
    found = options(finkraft("serve", "--help").stdout)
    assert "(default: 127.0.0.1)" in found["--host"] and "(default: 8000)" in found["--port"]
    assert "(default: info)" in found["--log-level"] and "(default: json)" in found["--log-format"]
    assert "(default: 8501)" in found["--ui-port"] and "(default: 1)" in found["--workers"]


def test_a_bad_option_is_a_usage_error_not_a_traceback():
    r = finkraft("serve", "--log-format", "xml")
    assert r.returncode == 2 and "invalid choice: 'xml'" in r.stderr and "Traceback" not in r.stderr
