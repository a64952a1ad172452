"""LangGraph Studio's local server (`langgraph dev`) serves the graph; the quickstart notebook runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ..conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def test_langgraph_dev_serves_the_graph(tmp_path):
    from langgraph_sdk import get_sync_client

    port = free_port()
    env = {
        **os.environ,
        "FINKRAFT_DATA_DIR": str(tmp_path),
        "FINKRAFT_SEMANTIC_MEMORY": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
    }
    langgraph = Path(sys.executable).with_name("langgraph")
    log = open(tmp_path / "langgraph-dev.log", "wb")
    proc = subprocess.Popen(
        [str(langgraph), "dev", "--no-browser", "--no-reload", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            assert proc.poll() is None, (tmp_path / "langgraph-dev.log").read_text()[-3000:]
            try:
                if httpx.get(url + "/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        client = get_sync_client(url=url)
        assert [a["graph_id"] for a in client.assistants.search()] == ["finkraft"]
        thread = client.threads.create()
        out = client.runs.wait(
            thread["thread_id"],
            "finkraft",
            input={"messages": [{"role": "user", "content": "failed IndiSky invoices from last month"}]},
            config={"configurable": {"user_id": "maya"}},
        )
        assert out["result"]["data"]["filtered_records"] == 7
        out = client.runs.wait(
            thread["thread_id"],
            "finkraft",
            input={"messages": [{"role": "user", "content": "why did these fail?"}]},
            config={"configurable": {"user_id": "maya"}},
        )
        assert out["response"].startswith("7 of 7 failed")  # Studio's own checkpointer keeps the thread
        graph = client.assistants.get_graph(client.assistants.search()[0]["assistant_id"], xray=True)
        node_ids = {n["id"] for n in graph["nodes"]}
        assert {"context", "route", "plan", "gate", "act", "respond"} <= node_ids
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FINKRAFT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FINKRAFT_SEMANTIC_MEMORY", "false")
    import nbformat  # here, not at the top: jsonschema's import costs the quick loop's collection ~5 s
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "7 of 7 failed" in outputs and "graph TD" in outputs
    assert "ticket" in outputs.lower()
