"""The derived vector index: one FAISS index per (user_id, workspace_id) partition.

Partitioning by construction means no query can reach another user's or another workspace's vectors
(the store re-checks ownership on the rows it returns as well). A partition starts as an exact
IndexFlatIP (wrapped in IndexIDMap2, ids = memory turn ids) and becomes an IndexIVFFlat once it holds
IVF_THRESHOLD vectors (benchmarks/memory_search.py: one exact query over 50k x 384 costs ~3-4 ms on
this 2-core machine, ~8 ms at 100k, ~80 ms at 1M; IVF keeps a 1M partition well under 10 ms). Nothing
here is a source of truth:
every partition can be rebuilt from memory_embeddings.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any
from dataclasses import dataclass, field

import faiss
import numpy as np

IVF_THRESHOLD = 50_000  # vectors in one partition before switching to IVF (flat: ~3-4 ms at 50k, ~8 ms at 100k)
IVF_RETRAIN_FACTOR = 4  # retrain the coarse quantiser when a partition has grown this much since training
IVF_TRAIN_PER_LIST = 64  # training sample: nlist * this (k-means needs >= 39 per centroid)


def ivf_nlist(n: int) -> int:
    return int(min(4096, max(64, round(math.sqrt(n)))))


def ivf_nprobe(nlist: int) -> int:
    # ~3% of the lists: 1M vectors / 1000 lists -> 31 probes, ~2.5 ms (benchmarks/memory_search.py)
    return int(min(nlist, max(16, nlist // 32)))


PartitionKey = tuple[str, str]  # (user_id, workspace_id)


@dataclass
class Partition:
    dim: int
    index: Any = None  # a faiss index (SWIG bindings: untyped)
    kind: str = "flat"
    ids: set[int] = field(default_factory=set)  # turn ids present (no double adds, fast membership)
    max_row_id: int = 0  # highest memory_embeddings.id indexed (catch-up watermark)
    trained_on: int = 0
    cap: int = 0  # keep at most this many of the newest vectors in memory (0: all); older turns stay in the database

    def __post_init__(self):
        if self.index is None:
            self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids, vecs: np.ndarray) -> int:
        ids = np.asarray(ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, self.dim)
        if len(ids) == 0:
            return 0
        if self.ids:
            keep = np.fromiter((i not in self.ids for i in ids.tolist()), dtype=bool, count=len(ids))
            ids, vecs = ids[keep], vecs[keep]
            if len(ids) == 0:
                return 0
        self.index.add_with_ids(vecs, ids)
        self.ids.update(ids.tolist())
        if self.cap and self.size > self.cap + max(64, self.cap // 20):  # trimmed in batches, back to the cap
            self.remove(sorted(self.ids)[: self.size - self.cap])  # turn ids grow: the smallest are the oldest
        if self.kind == "flat" and self.size >= IVF_THRESHOLD:
            self._rebuild_ivf()
        elif self.kind == "ivf" and self.size >= IVF_RETRAIN_FACTOR * self.trained_on:
            self._rebuild_ivf()
        return len(ids)

    def remove(self, ids) -> int:
        ids = [int(i) for i in ids if int(i) in self.ids]
        if not ids:
            return 0
        removed = int(self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))))
        self.ids.difference_update(ids)
        return removed

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, turn ids) for one query vector; fewer when the partition is small."""
        n = self.size
        if n == 0 or k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        k = min(k, n)
        q = np.ascontiguousarray(q, dtype=np.float32).reshape(1, self.dim)
        # One query gains nothing from OpenMP, and on a busy 2-core host a 2-thread team spin-waiting
        # against other processes made p95 ~70x worse (33 ms vs 0.5 ms at 10k). The setting is per thread.
        faiss.omp_set_num_threads(1)
        scores, ids = self.index.search(q, k)
        ok = ids[0] >= 0
        return scores[0][ok], ids[0][ok]

    # -- IVF ------------------------------------------------------------------------------------
    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "flat":
            n = self.size
            flat: Any = faiss.downcast_index(self.index.index)
            vecs = (
                faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim).copy()
                if n
                else np.empty((0, self.dim), np.float32)
            )
            return faiss.vector_to_array(self.index.id_map).astype(np.int64), vecs
        inv = self.index.invlists
        all_ids, all_vecs = [], []
        for lst in range(inv.nlist):
            ls = inv.list_size(lst)
            if not ls:
                continue
            all_ids.append(faiss.rev_swig_ptr(inv.get_ids(lst), ls).copy())
            codes = faiss.rev_swig_ptr(inv.get_codes(lst), ls * inv.code_size).copy()
            all_vecs.append(codes.view(np.float32).reshape(ls, self.dim))
        if not all_ids:
            return np.empty(0, np.int64), np.empty((0, self.dim), np.float32)
        return np.concatenate(all_ids).astype(np.int64), np.concatenate(all_vecs)

    def _rebuild_ivf(self) -> None:
        ids, vecs = self.all_vectors()
        n = len(ids)
        nlist = ivf_nlist(n)
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = (
            vecs if n <= nlist * IVF_TRAIN_PER_LIST else vecs[rng.choice(n, nlist * IVF_TRAIN_PER_LIST, replace=False)]
        )
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # training and assignment do use every core
        try:
            ivf.train(sample)
            ivf.add_with_ids(vecs, ids)
        finally:
            faiss.omp_set_num_threads(1)
        ivf.nprobe = ivf_nprobe(nlist)
        self.index, self.kind, self.trained_on = ivf, "ivf", n


class PartitionedIndex:
    """Per-(user, workspace) partitions; thread-safe (one lock: searches are milliseconds)."""

    def __init__(self, dim: int, cap: int = 0):
        self.dim = dim
        self.cap = cap  # per partition: the newest `cap` vectors (memory stays bounded per user)
        self.parts: dict[PartitionKey, Partition] = {}
        self.lock = threading.RLock()

    def get(self, key: PartitionKey) -> Partition | None:
        return self.parts.get(key)

    def ensure(self, key: PartitionKey) -> Partition:
        with self.lock:
            part = self.parts.get(key)
            if part is None:
                part = self.parts[key] = Partition(self.dim, cap=self.cap)
            return part

    def add(self, key: PartitionKey, ids, vecs) -> int:
        with self.lock:
            return self.ensure(key).add(ids, vecs)

    def search(self, key: PartitionKey, q: np.ndarray, k: int):
        with self.lock:
            part = self.parts.get(key)
            if part is None:
                return np.empty(0, np.float32), np.empty(0, np.int64)
            return part.search(q, k)

    def drop_user(self, user_id: str) -> int:
        """Remove every partition of a user (all workspaces); returns how many vectors went."""
        with self.lock:
            keys = [k for k in self.parts if k[0] == user_id]
            return sum(self.parts.pop(k).size for k in keys)

    def total(self) -> int:
        with self.lock:
            return sum(p.size for p in self.parts.values())
