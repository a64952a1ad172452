"""Per-token rate limiting: the rule ("60/minute") read by the `limits` library; counted in Redis by
`limits` when REDIS_URL is set (shared by every worker), else in this process by `InProcessWindow`.
Failed sign-ins per client address (`FailedSignIns`): `limits`' moving window, in memory or Redis."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import HTTPException
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class InProcessWindow:
    """A moving window per key, in this process: the times of each key's requests in the last
    `seconds`, oldest first; old ones are dropped as the key is hit, idle keys once per window.

    The same rule as `limits`' moving window. Its in-memory storage is not used because it starts
    a timer thread 10 ms after nearly every request to expire entries (measured: ~0.65 ms of CPU
    per request on the 2-core VM of docs/BENCHMARKS.md, about 2 % of a chat turn)."""

    def __init__(self, amount: int, seconds: float):
        self.amount, self.seconds = amount, seconds
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()  # /agent/batch counts from a worker thread
        self.sweep_at = 0.0

    def hit(self, key: str, cost: int = 1) -> float | None:
        """None if allowed (and `cost` requests counted), else seconds until it would be allowed."""
        now = time.monotonic()
        cutoff = now - self.seconds
        with self.lock:
            if now >= self.sweep_at:  # forget keys with no request in the window
                self.hits = {k: q for k, q in self.hits.items() if q and q[-1] >= cutoff}
                self.sweep_at = now + self.seconds
            q = self.hits.setdefault(key, deque())
            while q and q[0] < cutoff:
                q.popleft()
            over = len(q) + cost - self.amount
            if over > 0:  # wait until `over` of the counted requests have left the window
                return self.seconds if over > len(q) else q[over - 1] + self.seconds - now
            q.extend([now] * cost)
            return None


class RateLimiter:
    def __init__(self, rule: str, redis_url: str | None = None):
        self.item = parse(rule)
        self.in_process = not redis_url  # counting needs no I/O (no Redis)
        if redis_url:
            self.limiter: MovingWindowRateLimiter | None = MovingWindowRateLimiter(storage_from_string(redis_url))
            self.window = None
        else:
            self.limiter = None
            self.window = InProcessWindow(self.item.amount, self.item.get_expiry())

    def hit(self, key: str, cost: int = 1) -> float | None:
        """None if allowed (and `cost` requests counted), else seconds until the next request is allowed (>= 1)."""
        if self.window is not None:
            wait = self.window.hit(key, cost)
            return None if wait is None else max(1.0, wait)
        assert self.limiter is not None
        if self.limiter.hit(self.item, "token", key, cost=cost):
            return None
        reset_at, _remaining = self.limiter.get_window_stats(self.item, "token", key)
        return max(1.0, reset_at - time.time())


def enforce_rate_limit(limiter: RateLimiter | None, key: str, cost: int = 1, what: str = "") -> None:
    """429 with Retry-After when `key` is over the limit; `cost` counts one request as several (each
    input of /agent/batch is a turn; `what` says so in the message). Blocking I/O with Redis: call off the loop."""
    if limiter is None:
        return
    wait = limiter.hit(key, cost)
    if wait is not None:
        counted = f" ({what})" if what else ""
        raise HTTPException(
            429,
            f"Too many requests: the limit is {limiter.item}{counted}. Try again in {math.ceil(wait)} seconds.",
            headers={"Retry-After": str(math.ceil(wait))},
        )


class FailedSignIns:
    """Wrong tokens per client address, in a moving window (`limits`; Redis when REDIS_URL is set, so
    every worker counts together). Past the rule, the address gets 429 for any token it has not used
    successfully just now, the right one included: guessing tokens gets nowhere. Blocking I/O with
    Redis: call off the loop."""

    def __init__(self, rule: str, redis_url: str | None = None):
        self.item = parse(rule)
        self.limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))

    def _wait(self, address: str) -> float:
        reset_at, _remaining = self.limiter.get_window_stats(self.item, "signin", address)
        return max(1.0, reset_at - time.time())

    def blocked(self, address: str) -> float | None:
        """Seconds until this address may try again, or None."""
        return None if self.limiter.test(self.item, "signin", address) else self._wait(address)

    def failed(self, address: str) -> float | None:
        """Count a wrong token; seconds to wait if that was one too many, else None."""
        return None if self.limiter.hit(self.item, "signin", address) else self._wait(address)


def too_many_failures(wait: float | None) -> None:
    if wait is not None:
        raise HTTPException(
            429,
            f"Too many failed sign-ins from your address. Try again in {math.ceil(wait)} seconds.",
            headers={"Retry-After": str(math.ceil(wait))},
        )
