"""glibc malloc arenas for the server process (issue 24).

A served turn runs in one of AnyIO's worker threads, and glibc gives threads their own malloc arenas (up
to 8 per core). Each arena keeps the memory its thread freed for its own later use: under the mixed soak
with writes (benchmarks/soak.py) mallinfo2 in the worker showed the kept-free memory going 28 -> 55 MB in
the first minutes while the memory in use did not grow. With 2 arenas it stayed at ~20 MB and the heap was
35 MB smaller at 8 minutes (RSS ~8 MB lower, throughput the same). A one-off saving: the soak's steady
growth was the semantic memory index (docs/BENCHMARKS.md, "The soak with writes").

`limit_arenas` caps the arenas of this process with mallopt(M_ARENA_MAX), which applies to arenas made
after the call: call it before the process starts threads (create_app does, in every worker). The
environment's MALLOC_ARENA_MAX, read by glibc itself at start, wins. Elsewhere (musl, macOS, Windows)
there is nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h
_done = False


def limit_arenas(n: int) -> bool:
    """Cap this process's malloc arenas at `n` (glibc only; 0 leaves glibc's default of 8 per core).
    True when the cap was set by this call; once per process."""
    global _done
    if _done or n <= 0 or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, int(n)) != 1:
        log.warning("could not limit malloc arenas to %d", n)
        return False
    _done = True
    return True
