"""memory/index.py: a partition keeps at most its cap of the newest vectors, so a worker's memory stays
bounded however long people talk (the soak of issue 24 grew ~5 MB a minute with every turn indexed)."""

from __future__ import annotations

import numpy as np

from memory.index import Partition, PartitionedIndex

DIM = 8


def vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_a_partition_keeps_only_its_newest_vectors_up_to_the_cap():
    part = Partition(DIM, cap=100)
    vecs = vectors(1000)
    for start in range(0, 1000, 10):  # turns arrive a few at a time
        part.add(list(range(start + 1, start + 11)), vecs[start : start + 10])
        assert part.size <= 100 + 64
    assert min(part.ids) > 1000 - 164 and max(part.ids) == 1000  # the newest stay, the oldest went
    scores, ids = part.search(vecs[999], 1)
    assert ids.tolist() == [1000]  # the newest is still found
    scores, ids = part.search(vecs[0], 5)
    assert 1 not in ids.tolist()  # the oldest no longer is (it stays in the database)


def test_no_cap_keeps_everything_and_the_index_passes_its_cap_on():
    part = Partition(DIM)
    part.add(list(range(1, 501)), vectors(500))
    assert part.size == 500
    index = PartitionedIndex(DIM, cap=50)
    index.add(("maya", "acme"), list(range(1, 201)), vectors(200))
    assert index.get(("maya", "acme")).cap == 50 and index.total() <= 50 + 64
