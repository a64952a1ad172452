"""Memory search benchmark: 10k / 100k / 1M stored memories, partitioned across users.

    .venv/bin/python benchmarks/memory_search.py                 # 10k, 100k, 1M; 100 users
    .venv/bin/python benchmarks/memory_search.py --sizes 10000 --no-model

Measures, per size:
  * index build in memory (FAISS partitions from vectors already in RAM)
  * the real path: rows in a SQLite application database (memory_turns + memory_embeddings), a MemoryStore
    that loads a partition on first search (cold), and warm searches (catch-up query + FAISS + fetching
    the turns, i.e. everything search() does except encoding the query)
  * the worst case of one user owning every memory: exact IndexFlatIP vs the IVF index the store switches
    to, with recall@5 of IVF against exact
and, separately, the real all-MiniLM-L6-v2 encode time for one query.
Vectors are synthetic (clustered, 384-d, L2-normalised), so the numbers are about search, not relevance.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.index import IVF_THRESHOLD, Partition, PartitionedIndex  # noqa: E402

DIM = 384


def vectors(n: int, seed: int = 0, centers: int = 2000) -> np.ndarray:
    """Clustered unit vectors (topics), generated in chunks to keep peak memory low."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, DIM)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    out = np.empty((n, DIM), np.float32)
    for s in range(0, n, 200_000):
        e = min(n, s + 200_000)
        v = c[rng.integers(0, centers, e - s)] + 0.6 * rng.standard_normal((e - s, DIM)).astype(np.float32) / np.sqrt(
            DIM
        )
        out[s:e] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def queries_near(vecs: np.ndarray, idx: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = vecs[idx] + 0.5 * rng.standard_normal((len(idx), DIM)).astype(np.float32) / np.sqrt(DIM)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def ms(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs) * 1000, xs[min(len(xs) - 1, int(len(xs) * 0.95))] * 1000


def bench_in_memory(n: int, users: int, nq: int, vecs: np.ndarray) -> dict:
    owner = np.arange(n) % users
    t0 = time.perf_counter()
    pidx = PartitionedIndex(DIM)
    for u in range(users):
        sel = np.nonzero(owner == u)[0]
        pidx.add((f"u{u}", "acme"), sel.astype(np.int64) + 1, vecs[sel])
    build = time.perf_counter() - t0
    rng = np.random.default_rng(2)
    picks = rng.integers(0, n, nq)
    qs = queries_near(vecs, picks)
    lat, hits = [], 0
    for q, p in zip(qs, picks):
        key = (f"u{owner[p]}", "acme")
        t = time.perf_counter()
        _, ids = pidx.search(key, q, 5)
        lat.append(time.perf_counter() - t)
        hits += int(p + 1 in ids.tolist())
    med, p95 = ms(lat)
    return {
        "build_s": build,
        "median_ms": med,
        "p95_ms": p95,
        "self_hit@5": hits / nq,
        "per_user": n // users,
        "kinds": sorted({p.kind for p in pidx.parts.values()}),
    }


def write_db(url: str, n: int, users: int, vecs: np.ndarray) -> float:
    from sqlalchemy import insert

    from business_data.appdb import MemoryEmbedding, MemoryTurn, utcnow
    from business_data.db import make_engine
    from business_data.migrations import migrate

    engine = make_engine(url)
    migrate(engine, "app")
    from datetime import timedelta

    now = utcnow() - timedelta(hours=1)  # written earlier: outside the store's late-commit re-check window
    t0 = time.perf_counter()
    step = 50_000
    with engine.begin() as conn:
        for s in range(0, n, step):
            e = min(n, s + step)
            conn.execute(
                insert(MemoryTurn.__table__),
                [
                    {
                        "id": i + 1,
                        "thread_id": f"t{i % 997}",
                        "user_id": f"u{i % users}",
                        "workspace_id": "acme",
                        "speaker": "user",
                        "text": f"memory {i}",
                        "importance": 0.5,
                        "created_at": now,
                    }
                    for i in range(s, e)
                ],
            )
            conn.execute(
                insert(MemoryEmbedding.__table__),
                [
                    {
                        "id": i + 1,
                        "turn_id": i + 1,
                        "user_id": f"u{i % users}",
                        "workspace_id": "acme",
                        "dim": DIM,
                        "vector": vecs[i].tobytes(),
                        "created_at": now,
                    }
                    for i in range(s, e)
                ],
            )
    return time.perf_counter() - t0


def bench_store(url: str, n: int, users: int, nq: int, vecs: np.ndarray) -> dict:
    from business_data.db import make_engine
    from memory.store import MemoryStore
    from tools.rbac import Identity

    engine = make_engine(url)
    owner = np.arange(n) % users
    rng = np.random.default_rng(3)
    # cold: the first search of a user loads that partition from the database
    store = MemoryStore(engine, semantic=False)
    cold = []
    for u in rng.choice(users, min(10, users), replace=False):
        ident = Identity(f"u{u}", "Manager", "acme")
        q = queries_near(vecs, np.array([int(u)]))[0]
        t = time.perf_counter()
        store.search_vector(ident, q, 5)
        cold.append(time.perf_counter() - t)
    # full rebuild: every partition from memory_embeddings
    store = MemoryStore(engine, semantic=False)
    t0 = time.perf_counter()
    for u in range(users):
        store.semantic_index.sync_partition((f"u{u}", "acme"))
    rebuild = time.perf_counter() - t0
    # warm: what search() costs per query once the partition is in memory (minus encoding)
    picks = rng.integers(0, n, nq)
    qs = queries_near(vecs, picks)
    lat, hits = [], 0
    for q, p in zip(qs, picks):
        ident = Identity(f"u{owner[p]}", "Manager", "acme")
        t = time.perf_counter()
        res = store.search_vector(ident, q, 5)
        lat.append(time.perf_counter() - t)
        hits += int(int(p) + 1 in [r["turn_id"] for r in res])
        assert all(r["thread_id"] is not None for r in res)
    med, p95 = ms(lat)
    cmed, _ = ms(cold)
    return {
        "cold_partition_ms": cmed,
        "rebuild_all_s": rebuild,
        "median_ms": med,
        "p95_ms": p95,
        "self_hit@5": hits / nq,
    }


def bench_single_partition(n: int, nq: int, vecs: np.ndarray) -> dict:
    """One user with n memories: exact flat vs the IVF index the store switches to."""
    import faiss

    flat = faiss.IndexFlatIP(DIM)
    flat.add(vecs[:n])
    rng = np.random.default_rng(4)
    qs = queries_near(vecs, rng.integers(0, n, nq))
    lat, exact = [], []
    for q in qs:
        t = time.perf_counter()
        _, i = flat.search(q[None, :], 5)
        lat.append(time.perf_counter() - t)
        exact.append(set(i[0].tolist()))
    fmed, _ = ms(lat)
    del flat
    gc.collect()
    part = Partition(DIM)
    t0 = time.perf_counter()
    part.add(np.arange(n, dtype=np.int64), vecs[:n])
    if part.kind != "ivf":
        part._rebuild_ivf()
    build = time.perf_counter() - t0
    lat, rec = [], []
    for q, ex in zip(qs, exact):
        t = time.perf_counter()
        _, i = part.search(q, 5)
        lat.append(time.perf_counter() - t)
        rec.append(len(ex & set(i.tolist())) / 5)
    imed, ip95 = ms(lat)
    # the hard case for IVF: queries unrelated to anything stored (uniform on the sphere)
    rq = np.random.default_rng(5).standard_normal((100, DIM)).astype(np.float32)
    rq /= np.linalg.norm(rq, axis=1, keepdims=True)
    rrec = []
    ids_all, vecs_all = part.all_vectors()
    order = np.argsort(ids_all)
    base = vecs_all[order]
    for q in rq:
        ex = set(np.argpartition(-(base @ q), 5)[:5].tolist())
        rrec.append(len(ex & set(part.search(q, 5)[1].tolist())) / 5)
    return {
        "random_query_recall@5": float(np.mean(rrec)),
        "flat_median_ms": fmed,
        "ivf_build_s": build,
        "ivf_median_ms": imed,
        "ivf_p95_ms": ip95,
        "ivf_recall@5": float(np.mean(rec)),
        "nlist": part.index.nlist,
        "nprobe": part.index.nprobe,
    }


def bench_model(nq: int = 50) -> dict:
    from memory import embedder

    t0 = time.perf_counter()
    embedder.encode(["warm up"])
    load = time.perf_counter() - t0
    qs = [f"why did the {v} invoices fail last month" for v in ("IndiSky", "SkyHigh", "Metro Cabs", "Apex", "Zenith")]
    lat = []
    for i in range(nq):
        t = time.perf_counter()
        embedder.encode([qs[i % len(qs)] + f" #{i}"])
        lat.append(time.perf_counter() - t)
    med, p95 = ms(lat)
    return {"load_s": load, "median_ms": med, "p95_ms": p95}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--no-db", action="store_true", help="skip the SQLite-backed store measurements")
    ap.add_argument("--no-model", action="store_true", help="skip the model encode measurement")
    ap.add_argument("--no-single", action="store_true", help="skip the one-user worst case")
    ap.add_argument("--dir", default=None, help="where to put the SQLite files (default: a temp dir)")
    args = ap.parse_args()
    import faiss

    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"faiss {faiss.__version__}, {os.cpu_count()} cpus, {args.users} users, {args.queries} queries/size, "
        f"IVF threshold {IVF_THRESHOLD:,} vectors per partition\n"
    )
    allv = vectors(max(sizes))
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in sizes:
            vecs = allv[:n]
            r = {"n": n, "mem": bench_in_memory(n, args.users, args.queries, vecs)}
            print(
                f"[{n:>9,}] in-memory: build {r['mem']['build_s']:.2f} s, search median {r['mem']['median_ms']:.3f} ms "
                f"(p95 {r['mem']['p95_ms']:.3f}), {r['mem']['per_user']:,}/user, {r['mem']['kinds']}",
                flush=True,
            )
            if not args.no_db:
                url = f"sqlite:///{Path(tmp) / f'app_{n}.sqlite'}"
                r["db_write_s"] = write_db(url, n, args.users, vecs)
                r["store"] = bench_store(url, n, args.users, args.queries, vecs)
                s = r["store"]
                print(
                    f"[{n:>9,}] store: write {r['db_write_s']:.1f} s, rebuild all partitions {s['rebuild_all_s']:.2f} s, "
                    f"cold partition {s['cold_partition_ms']:.1f} ms, warm search median {s['median_ms']:.3f} ms "
                    f"(p95 {s['p95_ms']:.3f}), self-hit@5 {s['self_hit@5']:.2f}",
                    flush=True,
                )
                os.unlink(url[len("sqlite:///") :])
            if not args.no_single and n >= 100_000:
                r["single"] = bench_single_partition(n, min(args.queries, 200), vecs)
                s = r["single"]
                print(
                    f"[{n:>9,}] one user owns all: flat {s['flat_median_ms']:.2f} ms; IVF nlist={s['nlist']} "
                    f"nprobe={s['nprobe']} build {s['ivf_build_s']:.1f} s, median {s['ivf_median_ms']:.3f} ms "
                    f"(p95 {s['ivf_p95_ms']:.3f}), recall@5 {s['ivf_recall@5']:.3f} (random queries {s['random_query_recall@5']:.3f})",
                    flush=True,
                )
            rows.append(r)
            gc.collect()
    if not args.no_model:
        m = bench_model()
        print(
            f"\nquery encode (all-MiniLM-L6-v2, 1 torch thread): model load {m['load_s']:.1f} s, "
            f"median {m['median_ms']:.1f} ms (p95 {m['p95_ms']:.1f})"
        )
    print(
        "\n| memories | users | in-memory build | search (index only) | store rebuild from DB | cold partition | store search (warm) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        st = r.get("store", {})
        print(
            f"| {r['n']:,} | {args.users} | {r['mem']['build_s']:.2f} s | {r['mem']['median_ms']:.3f} ms | "
            + (
                f"{st['rebuild_all_s']:.2f} s | {st['cold_partition_ms']:.1f} ms | {st['median_ms']:.3f} ms |"
                if st
                else "- | - | - |"
            )
        )


if __name__ == "__main__":
    main()
