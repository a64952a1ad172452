"""The semantic index's background embedding worker: new turns are queued, embedded in batches on one
daemon thread per index (off the chat turn's critical path) and their vectors written to
memory_embeddings; `flush()` waits for the queue to drain."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import cast

import numpy as np
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from business_data.appdb import MemoryEmbedding, MemoryTurn, utcnow

from . import embedder

log = logging.getLogger(__name__)

BATCH = 64


class EmbeddingWorker:
    """Mixed into SemanticIndex, which sets these up in its __init__."""

    engine: Engine
    _queue: queue.Queue
    _pending: int
    _cv: threading.Condition
    _worker: threading.Thread | None

    def _queued_ids(self) -> set[int]:
        with self._queue.mutex:
            return {item[0] for item in list(self._queue.queue) if item}

    def _enqueue(self, items: list[tuple]) -> None:
        with self._cv:
            self._pending += len(items)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="memory-embedder", daemon=True)
                self._worker.start()
        for item in items:
            self._queue.put(item)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._embed_batch(batch)
            except Exception:
                log.exception("memory embedding batch of %d failed", len(batch))
            finally:
                with self._cv:
                    self._pending -= len(batch)
                    self._cv.notify_all()

    def _embed_batch(self, batch: list[tuple]) -> None:
        try:
            vecs = embedder.encode([b[3] for b in batch], background=True)
        except RuntimeError:
            return  # model unavailable: the turns stay, search falls back to keywords
        rows = [
            {
                "turn_id": b[0],
                "user_id": b[1],
                "workspace_id": b[2],
                "dim": int(v.shape[0]),
                "vector": v.astype(np.float32).tobytes(),
                "created_at": utcnow(),
            }
            for b, v in zip(batch, vecs)
        ]
        for attempt in range(3):
            try:
                self._insert_embeddings(rows)
                return
            except OperationalError:  # database busy: try again shortly
                time.sleep(0.2 * (attempt + 1))
            except IntegrityError:  # a turn was forgotten meanwhile (FK) or embedded already (unique)
                for r in rows:
                    try:
                        self._insert_embeddings([r])
                    except IntegrityError:
                        pass
                return
        log.warning("gave up writing %d memory embeddings (database busy); they will be backfilled", len(rows))

    def _insert_embeddings(self, rows: list[dict]) -> None:
        ids = [r["turn_id"] for r in rows]
        with self.engine.begin() as conn:  # one query: which turns still exist and have no embedding yet
            todo_ids = set(
                conn.execute(
                    select(MemoryTurn.id)
                    .outerjoin(MemoryEmbedding, MemoryEmbedding.turn_id == MemoryTurn.id)
                    .where(MemoryTurn.id.in_(ids), MemoryEmbedding.turn_id.is_(None))
                ).scalars()
            )
            todo = [r for r in rows if r["turn_id"] in todo_ids]
            if todo:
                conn.execute(cast(Table, MemoryEmbedding.__table__).insert(), todo)

    def flush(self, timeout: float = 30) -> bool:
        """Wait until every queued embedding is written (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True
