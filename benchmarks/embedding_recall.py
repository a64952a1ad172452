"""The ONNX int8 embedding backend against the PyTorch model: retrieval quality and speed, same run.

    .venv/bin/python benchmarks/embedding_recall.py            # needs the `torch` extra for the reference

The fixed query set is the offline parser's evaluation set (tests/unit/parser_eval.yaml, 316 phrasings of
finance-ops requests, each labelled with what it asks for). Two phrasings are relevant to each other when
they ask for the same thing (same kind, tool or template, parameters, references and context). Every
phrasing whose meaning has at least one other phrasing is a query (145 queries in 35 groups); the corpus is
all 316 phrasings less the query itself. recall@5 = share of the relevant phrasings found in the top 5
(out of min(5, relevant)). Also printed: how many of PyTorch's top 5 the ONNX model returns (agreement),
the cosine between the two models' vectors, and encode times (one query at a time; batches of 64).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
EVAL_SET = ROOT / "tests" / "unit" / "parser_eval.yaml"
K = 5


def _norm(d) -> tuple:
    return tuple(sorted((str(k), str(v)) for k, v in (d or {}).items()))


def load_cases(path: Path = EVAL_SET) -> tuple[list[str], list[int], dict[int, set[int]]]:
    """(texts, query indices, relevant indices per query)."""
    cases = yaml.safe_load(path.read_text())["cases"]
    texts = [c["text"] for c in cases]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        groups[
            (
                c["kind"],
                c.get("tool") or c.get("template"),
                _norm(c.get("params")),
                _norm(c.get("refs")),
                c.get("ctx", "fresh"),
            )
        ].append(i)
    relevant = {i: set(g) - {i} for g in groups.values() if len(g) > 1 for i in g}
    return texts, sorted(relevant), relevant


def top_k(vecs: np.ndarray, queries: list[int], k: int = K) -> dict[int, list[int]]:
    sims = vecs[queries] @ vecs.T
    sims[np.arange(len(queries)), queries] = -np.inf  # never the query itself
    return {q: np.argsort(-row, kind="stable")[:k].tolist() for q, row in zip(queries, sims)}


def recall_at_k(tops: dict[int, list[int]], relevant: dict[int, set[int]], k: int = K) -> float:
    return float(np.mean([len(set(tops[q][:k]) & relevant[q]) / min(k, len(relevant[q])) for q in tops]))


def compare(reference, candidate, path: Path = EVAL_SET) -> dict:
    """recall@5 of both models (objects with .encode(list[str]) -> (n, 384) normalised) on the fixed set."""
    texts, queries, relevant = load_cases(path)
    ref, cand = np.asarray(reference.encode(texts)), np.asarray(candidate.encode(texts))
    t_ref, t_cand = top_k(ref, queries), top_k(cand, queries)
    cos = (ref * cand).sum(axis=1)
    return {
        "texts": len(texts),
        "queries": len(queries),
        "groups": len({frozenset(relevant[q] | {q}) for q in queries}),
        "recall_reference": recall_at_k(t_ref, relevant),
        "recall_candidate": recall_at_k(t_cand, relevant),
        "agreement": float(np.mean([len(set(t_ref[q]) & set(t_cand[q])) / K for q in queries])),
        "cos_mean": float(cos.mean()),
        "cos_min": float(cos.min()),
    }


def timings(model, texts: list[str], n: int = 200) -> dict:
    model.encode(["warm up"])
    one = []
    for i in range(n):
        t = time.perf_counter()
        model.encode([texts[i % len(texts)]])
        one.append(time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(0, len(texts), 64):
        model.encode(texts[i : i + 64])
    batch = time.perf_counter() - t
    one.sort()
    return {
        "one_median_ms": statistics.median(one) * 1e3,
        "one_p95_ms": one[int(0.95 * (len(one) - 1))] * 1e3,
        "batch_texts_per_s": len(texts) / batch,
    }


def main() -> None:
    from memory import embedder

    load = {}
    t = time.perf_counter()
    onnx = embedder.OnnxModel(embedder.ensure_export())
    load["onnx"] = time.perf_counter() - t
    t = time.perf_counter()
    torch_model = embedder.TorchModel()
    load["torch"] = time.perf_counter() - t
    r = compare(torch_model, onnx)
    texts = load_cases()[0]
    tt, to = timings(torch_model, texts), timings(onnx, texts)
    print(
        f"load average {os.getloadavg()[0]:.2f}; {r['queries']} queries in {r['groups']} groups over {r['texts']} texts "
        f"({EVAL_SET.relative_to(ROOT)})\n"
    )
    print("| backend | recall@5 | agreement with PyTorch top 5 | load | encode one (median / p95) | batches of 64 |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| PyTorch (sentence-transformers, fp32) | {r['recall_reference']:.3f} | 1.000 | {load['torch']:.1f} s | "
        f"{tt['one_median_ms']:.2f} / {tt['one_p95_ms']:.2f} ms | {tt['batch_texts_per_s']:.0f} texts/s |"
    )
    print(
        f"| ONNX int8 (onnxruntime) | {r['recall_candidate']:.3f} | {r['agreement']:.3f} | {load['onnx']:.1f} s | "
        f"{to['one_median_ms']:.2f} / {to['one_p95_ms']:.2f} ms | {to['batch_texts_per_s']:.0f} texts/s |"
    )
    diff = (r["recall_candidate"] - r["recall_reference"]) * 100
    print(
        f"\nrecall@5 difference: {diff:+.1f} points (limit: within 2); cosine ONNX vs PyTorch: mean {r['cos_mean']:.4f}, "
        f"min {r['cos_min']:.4f}; encode one: {tt['one_median_ms'] / to['one_median_ms']:.1f}x faster"
    )


if __name__ == "__main__":
    main()
