"""The in-process rate limit (no Redis): the same moving window as the `limits` library, without
its expiry thread. The HTTP 429 itself is tested against a real server in tests/api/test_auth.py."""

from __future__ import annotations

import random
import threading
import time

import pytest
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from server import ratelimit
from server.ratelimit import InProcessWindow, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(ratelimit.time, "monotonic", c)
    return c


def test_three_a_minute_then_wait_for_the_oldest_to_leave(clock):
    w = InProcessWindow(3, 60)
    for dt in (0, 10, 20):
        clock.now += dt
        assert w.hit("maya") is None
    clock.now += 5  # 35 s after the first
    assert w.hit("maya") == pytest.approx(25)  # the first leaves the window at 60 s
    assert w.hit("victor") is None  # another token has its own budget
    clock.now += 25
    assert w.hit("maya") == pytest.approx(0)  # exactly 60 s after the first: still in the window (as limits counts)
    clock.now += 1
    assert w.hit("maya") is None
    assert w.hit("maya") == pytest.approx(9)  # now the one made at 10 s is the oldest


def test_a_batch_counts_as_several_and_a_refused_one_counts_nothing(clock):
    w = InProcessWindow(5, 60)
    assert w.hit("k", 3) is None
    assert w.hit("k", 3) == pytest.approx(60)  # only 2 left: refused, nothing counted
    assert w.hit("k", 2) is None
    assert w.hit("k", 6) == 60  # more than the limit: never, within a window
    clock.now += 61
    assert w.hit("k", 5) is None


def test_idle_keys_are_forgotten(clock):
    w = InProcessWindow(2, 60)
    for i in range(100):
        w.hit(f"token-{i}")
    clock.now += 61
    w.hit("fresh")
    assert list(w.hits) == ["fresh"]


def test_the_same_decisions_as_the_limits_library(monkeypatch, clock):
    """A random day of requests from three tokens: allowed or refused exactly as limits' moving window
    (its in-memory storage, on the same fake clock) decides."""
    monkeypatch.setattr(time, "time", clock)
    item = parse("7/minute")
    reference = MovingWindowRateLimiter(MemoryStorage())
    ours = InProcessWindow(item.amount, item.get_expiry())
    rng = random.Random(13)
    decisions = []
    for _ in range(2000):
        clock.now += rng.choice([0.1, 0.5, 2, 5, 9, 30])
        key, cost = rng.choice("abc"), rng.choice([1, 1, 1, 2, 3])
        expected = reference.hit(item, "token", key, cost=cost)
        assert (ours.hit(key, cost) is None) == expected
        decisions.append(expected)
    assert 0.2 < sum(decisions) / len(decisions) < 0.9  # both outcomes were exercised


def test_no_thread_is_started_per_request(monkeypatch):
    started: list[threading.Thread] = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), start(self))[1])
    limiter = RateLimiter("1000/minute")
    for _ in range(20):
        assert limiter.hit("k") is None
        time.sleep(0.012)  # (limits' in-memory storage starts a timer thread 10 ms after a hit)
    assert started == []
    assert limiter.hit("k", 1000) is not None and limiter.hit("k", 1000) >= 1
