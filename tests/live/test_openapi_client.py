"""A client generated from the live server's /openapi.json (openapi-python-client) talks to that server:
/chat answers parse into the documented models, errors into `Problem`, and the bearer scheme works."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def client_pkg(live_server, tmp_path_factory):
    """The generated package, imported (a fresh name per run, so nothing stale is reused)."""
    out = tmp_path_factory.mktemp("generated")
    spec = out / "openapi.json"
    spec.write_bytes(httpx.get(live_server.url + "/openapi.json", timeout=30).content)
    config = out / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run on the generated code
    r = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(out / "finkraft_client"),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Warning" not in r.stdout + r.stderr, r.stdout + r.stderr  # every operation and model was generated
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("finkraft_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "finkraft_client" or m.startswith("finkraft_client.")]:
            del sys.modules[name]


def test_generated_client_runs_the_sample_scenario_over_chat(live_server, client_pkg):
    from finkraft_client.api.chat import chat_chat_post
    from finkraft_client.models import ChatRequest, ChatResponse

    with client_pkg.AuthenticatedClient(base_url=live_server.url, token="dev-maya", timeout=httpx.Timeout(60)) as maya:
        first = chat_chat_post.sync(
            client=maya,
            body=ChatRequest(
                message="Filter invoices for last month, vendor=IndiSky, status=failed", thread_id="gen-1"
            ),
        )
        assert isinstance(first, ChatResponse), first
        assert first.success is True and first.status == "success" and first.thread_id == "gen-1"
        assert first.tool_used == "filter_data" and first.tool_calls[0].tool == "filter_data"
        assert first.tool_calls[0].params["vendor"] == "IndiSky Airlines"
        assert first.data["filtered_records"] == 7 and len(first.data["results"]) == 7
        why = chat_chat_post.sync(client=maya, body=ChatRequest(message="why did these fail?", thread_id="gen-1"))
        assert why.tool_used == "explain_failures" and "7 of 7 failed: GSTIN missing" in why.agent_response


def test_generated_client_reads_errors_as_problems(live_server, client_pkg):
    from finkraft_client.api.chat import chat_chat_post
    from finkraft_client.models import ChatRequest, Problem, ValidationProblem

    with client_pkg.AuthenticatedClient(base_url=live_server.url, token="not-a-token") as stranger:
        r = chat_chat_post.sync_detailed(client=stranger, body=ChatRequest(message="hello"))
        assert r.status_code == 401 and isinstance(r.parsed, Problem)
        assert r.parsed.detail.startswith("That token is not valid")
    with client_pkg.AuthenticatedClient(base_url=live_server.url, token="dev-maya") as maya:
        r = chat_chat_post.sync_detailed(client=maya, body=ChatRequest(message="   "))
        assert r.status_code == 422 and isinstance(r.parsed, ValidationProblem)
        assert r.parsed.detail == (
            "Invalid request: message: the message is empty; type what you need, "
            "e.g. 'failed IndiSky invoices from last month'."
        )
        assert [(e.loc, e.type_) for e in r.parsed.errors] == [(["body", "message"], "value_error")]


def test_generated_client_reads_the_per_user_paths(live_server, client_pkg):
    from finkraft_client.api.memory import insights_memory_user_id_insights_get
    from finkraft_client.api.tickets import ticket_tickets_ticket_id_get
    from finkraft_client.models import MemoryInsights, Problem, UserTickets

    with client_pkg.AuthenticatedClient(base_url=live_server.url, token="dev-maya") as maya:
        found = insights_memory_user_id_insights_get.sync(client=maya, user_id="maya")
        assert isinstance(found, MemoryInsights) and found.user_id == "maya" and found.workspace_id == "acme"
        mine = ticket_tickets_ticket_id_get.sync(client=maya, ticket_id="maya")
        assert isinstance(mine, UserTickets) and mine.count == len(mine.tickets)
        denied = ticket_tickets_ticket_id_get.sync_detailed(client=maya, ticket_id="victor")
        assert denied.status_code == 403 and isinstance(denied.parsed, Problem)
