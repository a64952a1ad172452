"""Per-token rate limiting with the `limits` library (Redis when REDIS_URL is set, else in-process)."""

from __future__ import annotations

import math
import time

from fastapi import HTTPException
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    def __init__(self, rule: str, redis_url: str | None = None):
        self.item = parse(rule)
        self.storage = storage_from_string(redis_url if redis_url else "memory://")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.in_process = not redis_url  # counting needs no I/O (no Redis)

    def hit(self, key: str, cost: int = 1) -> float | None:
        """None if allowed (and `cost` requests counted), else seconds until the next request is allowed."""
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
