"""A full disk degrades, it does not fail: the data dir is a small tmpfs (needs root to mount; skipped
otherwise), filled to the last byte. Read-only chat turns still answer and say that history could not
be saved; writes (tickets, exports) answer 507 with a plain sentence and leave nothing half-written;
/health/detailed reports the free space; all recovers once space is freed.

On PostgreSQL (FINKRAFT_TEST_DB=postgres) the databases live on the database server, so only the
files the server writes under the data dir (exports) meet the full disk."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from business_data.appdb import Export, MemoryTurn, Ticket, Trace
from business_data.db import dispose_engine, session_scope

from ..conftest import using_postgres
from .conftest import running_api
from .test_hardening import say

# mounts a tmpfs and fills it: `make test` runs it, the quick loop does not
pytestmark = pytest.mark.slow

NOT_SAVED = "I couldn't save this conversation's history: the server is out of disk space."


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "data"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {e}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> Path:
    """Write until the disk refuses (ENOSPC): not one more byte fits."""
    filler = path / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass
    return filler


def counts(api) -> dict[str, int]:
    with session_scope(api.services.app) as s:
        return {
            t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in (Ticket, Export, Trace, MemoryTurn)
        }


def test_a_full_data_dir_answers_reads_refuses_writes_with_507_and_recovers(small_disk):
    with running_api(small_disk) as api:
        assert api.maya.post("/chat", json={"message": "show my tickets", "thread_id": "disk"}).status_code == 200
        health = api.maya.get("/health/detailed").json()
        assert health["storage"]["status"] == "ok" and health["storage"]["path"] == str(small_disk)
        before = counts(api)
        filler = fill(small_disk)

        health = api.maya.get("/health/detailed").json()
        assert health["storage"]["status"] == "full" and health["storage"]["free_bytes"] < 2**20
        assert health["status"] == "degraded"

        # a read-only turn still answers, and says what it could not keep
        r = api.maya.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": "disk"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["data"]["filtered_records"] == 7
        assert (NOT_SAVED in body["agent_response"]) is not using_postgres()

        # an export: 507, a plain sentence, no file or row left behind
        r = api.maya.post("/execute_tool", json={"tool_name": "export_report", "params": {"format": "xlsx"}})
        assert r.status_code == 507, r.text
        assert r.json()["detail"] == (
            "The server is out of disk space, so I could not export reports just now. Nothing was "
            "changed; try again once an administrator has freed some space."
        )
        exports_dir = small_disk / "exports"
        assert not [p for p in exports_dir.rglob("*") if p.is_file()] if exports_dir.exists() else True
        r = api.maya.post(
            "/chat", json={"message": "export failed IndiSky invoices from last month as csv", "thread_id": "disk"}
        )
        assert r.status_code == 507 and "out of disk space" in r.json()["detail"], r.text
        # the same on LangServe: /agent/invoke answers 507 (a read there still answers 200)
        r = api.maya.post("/agent/invoke", json={"input": say("export failed IndiSky invoices from last month as csv")})
        assert r.status_code == 507, r.text
        assert r.json()["detail"].startswith("The server is out of disk space, so I could not export reports")
        assert "Traceback" not in r.text
        r = api.maya.post("/agent/invoke", json={"input": say("failed IndiSky invoices from last month")})
        assert r.status_code == 200 and r.json()["output"]["result"]["data"]["filtered_records"] == 7, r.text

        # a ticket: 507 on the embedded SQLite database (on PostgreSQL its disk is not this one)
        r = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "disk full"}})
        if using_postgres():
            assert r.status_code == 200, r.text
            before["tickets"] += 1
        else:
            assert r.status_code == 507 and "out of disk space" in r.json()["detail"], r.text
            assert counts(api) == before  # nothing half-written: no ticket, export, trace or memory row
        assert "Traceback" not in r.text

        # space comes back: everything works again, with no restart
        filler.unlink()
        r = api.maya.post("/chat", json={"message": "failed IndiSky invoices from last month", "thread_id": "disk"})
        assert r.status_code == 200 and NOT_SAVED not in r.json()["agent_response"], r.text
        r = api.maya.post("/execute_tool", json={"tool_name": "export_report", "params": {"format": "xlsx"}})
        assert r.status_code == 200, r.text
        assert api.maya.get(r.json()["data"]["url"]).status_code == 200
        r = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "disk freed"}})
        assert r.status_code == 200, r.text
        after = counts(api)
        assert after["tickets"] == before["tickets"] + 1 and after["exports"] == before["exports"] + 1
        assert api.maya.get("/health/detailed").json()["storage"]["status"] == "ok"
    if not using_postgres():
        for name in ("app.sqlite", "checkpoints.sqlite", "business.sqlite"):
            dispose_engine(f"sqlite:///{small_disk / name}")
            with sqlite3.connect(small_disk / name) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
