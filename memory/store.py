"""MemoryStore: the one object the graph and the server hold; it wires the parts of memory together.

- episodic.py: turns, result references, threads, forgetting (memory_turns);
- semantic.py: embeddings, the derived FAISS index, search (the background embedding worker: embedding_worker.py);
- context.py: the working context of a turn (and the welcome-back line);
- references.py: "these", "that ticket", "the fixed report" -> ids, with the tools' visibility rules.

Sources of truth live in the application database (memory_turns, memory_embeddings, tickets,
notifications, exports); the FAISS index is derived from it.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy.engine import Engine

from tools.rbac import Identity

from . import context, embedder, insights
from .episodic import EpisodicMemory, ResultRef
from .index import PartitionedIndex
from business_data.appdb import MEMORY_TABLES
from .references import ReferenceResolver, Resolution
from .semantic import SemanticIndex


class MemoryStore:
    def __init__(self, app_engine: Engine, *, semantic: bool | None = None, dim: int = embedder.DIM):
        """Cheap: no model load, no database access. semantic=None follows settings.semantic_memory."""
        if semantic is None:
            from business_data.settings import get_settings

            semantic = get_settings().semantic_memory
        self.engine = app_engine
        self.semantic = bool(semantic)
        self.dim = dim
        self.episodic = EpisodicMemory(app_engine)
        self.semantic_index = SemanticIndex(self.episodic, enabled=self.semantic, dim=dim)
        self.references = ReferenceResolver(self.episodic)

    @property
    def index(self) -> PartitionedIndex:
        return self.semantic_index.index

    def init_schema(self) -> None:
        from business_data.appdb import AppBase

        AppBase.metadata.create_all(self.engine, tables=MEMORY_TABLES)

    # -- episodic ---------------------------------------------------------------------------------
    def record_turn(
        self,
        *,
        identity: Identity,
        thread_id: str,
        speaker: str,
        text: str,
        tool: str | None = None,
        params: dict | None = None,
        result_ref: dict | None = None,
        importance: float = 0.5,
        answer: dict | None = None,
    ) -> int:
        """Write the turn now (synchronously); its embedding is queued for the background worker."""
        turn_id = self.episodic.record(
            identity=identity,
            thread_id=thread_id,
            speaker=speaker,
            text=text,
            tool=tool,
            params=params,
            result_ref=result_ref,
            importance=importance,
            answer=answer,
        )
        self.semantic_index.add_turn(turn_id, identity, text, tool, params, answer)
        return turn_id

    def record_turn_in(
        self,
        session,
        *,
        identity: Identity,
        thread_id: str,
        speaker: str,
        text: str,
        tool: str | None = None,
        params: dict | None = None,
        result_ref: dict | None = None,
        importance: float = 0.5,
        answer: dict | None = None,
    ):
        """Add the turn to `session`'s transaction (a run's other writes commit with it, or none do).
        Returns what to do once that transaction has committed: queue the turn's embedding."""
        turn_id = self.episodic.record(
            identity=identity,
            thread_id=thread_id,
            speaker=speaker,
            text=text,
            tool=tool,
            params=params,
            result_ref=result_ref,
            importance=importance,
            session=session,
            answer=answer,
        )
        return lambda: self.semantic_index.add_turn(turn_id, identity, text, tool, params, answer)

    def recent_turns(self, identity: Identity, thread_id: str, limit: int = 10) -> list[dict]:
        return self.episodic.recent_turns(identity, thread_id, limit)

    def thread_turns(self, identity: Identity, thread_id: str, limit: int = 50) -> list[dict]:
        """The thread's last turns with their typed answers (GET /threads/{thread_id})."""
        return self.episodic.thread_turns(identity, thread_id, limit)

    def list_threads(
        self, identity: Identity, limit: int = 100, offset: int = 0, *, text: str | None = None, also=None
    ) -> list[dict]:
        return self.episodic.list_threads(identity, limit, offset, text=text, also=also)

    def count_threads(self, identity: Identity, *, text: str | None = None, also=None) -> int:
        return self.episodic.count_threads(identity, text=text, also=also)

    def forget_thread(self, identity: Identity, thread_id: str) -> dict:
        """Forget one conversation: its turns, result references, embeddings and index entries. The
        caller deletes its checkpoint thread and its title."""
        out = self.episodic.forget_thread(identity, thread_id)
        n_index = self.semantic_index.forget_turns(identity, out["turn_ids"])
        return {"turns": out["turns"], "embeddings": out["embeddings"], "index_entries": n_index}

    def last_result_sets(
        self, identity: Identity, limit: int = 5, thread_id: str | None = None, *, with_keys: bool = True
    ) -> list[ResultRef]:
        return self.episodic.last_result_sets(identity, limit, thread_id, with_keys=with_keys)

    def forget(self, identity: Identity) -> dict:
        """Delete all of the user's turns and embeddings (every workspace) and drop their index partitions.
        The caller deletes the checkpoint threads listed under "thread_ids"."""
        out = self.episodic.forget(identity.user_id)
        n_index = self.semantic_index.forget_user(identity.user_id)
        return {
            "turns": out["turns"],
            "embeddings": out["embeddings"],
            "index_entries": n_index,
            "thread_ids": out["thread_ids"],
        }

    def count(self, identity: Identity) -> dict:
        """How much the store holds for this user (all workspaces): turns, embeddings, index entries."""
        return {**self.episodic.count(identity.user_id), "index_entries": self.semantic_index.indexed(identity.user_id)}

    # -- semantic ---------------------------------------------------------------------------------
    def search(
        self,
        identity: Identity,
        query: str,
        k: int = 5,
        exclude_thread: str | None = None,
        *,
        min_score: float | None = None,
        wait_for_model: bool = True,
    ) -> list[dict]:
        return self.semantic_index.search(
            identity, query, k, exclude_thread, min_score=min_score, wait_for_model=wait_for_model
        )

    def search_vector(
        self,
        identity: Identity,
        vector: np.ndarray,
        k: int = 5,
        exclude_thread: str | None = None,
        *,
        min_score: float | None = None,
    ) -> list[dict]:
        return self.semantic_index.search_vector(identity, vector, k, exclude_thread, min_score=min_score)

    def flush(self, timeout: float = 30) -> bool:
        return self.semantic_index.flush(timeout)

    def warm(self) -> None:
        self.semantic_index.warm()

    def stats(self) -> dict:
        return self.semantic_index.stats()

    # -- working context and references -----------------------------------------------------------
    def working_context(
        self,
        identity: Identity,
        thread_id: str,
        text: str = "",
        *,
        is_new_thread: bool = False,
        now: datetime | None = None,
        light: bool = False,
    ) -> context.WorkingContext:
        return context.working_context(
            self.episodic,
            self.semantic_index,
            identity,
            thread_id,
            text,
            is_new_thread=is_new_thread,
            now=now,
            light=light,
        )

    def insights(self, identity: Identity) -> dict:
        """Usage patterns, frequent requests and open items (memory/insights.py)."""
        return insights.insights(self.episodic, identity)

    def resolve(
        self, identity: Identity, thread_id: str, refs: dict, *, thread_state: dict | None = None
    ) -> Resolution:
        return self.references.resolve(identity, thread_id, refs, thread_state=thread_state)
