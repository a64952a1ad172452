"""Locust users for benchmarks/load.py: the mixed set of filter messages, closed loop, no think time.

Each chat user (FastHttpUser: the cheapest client Locust has, since it shares the 2 cores with the server)
owns a thread and sends the MESSAGES in turn, starting at its own offset; every THREAD_TURNS turns it
starts a new thread, so about one turn in THREAD_TURNS is the first turn of a thread (working context
built from memory). A turn counts as an error unless it is HTTP 200 with success=true and the filter's data.
One more user, locust_chat.py's HealthUser, probes GET /health meanwhile (load.py runs clients + 1).
"""

from __future__ import annotations

import itertools
import os

from locust import FastHttpUser, constant, task

from locust_chat import HealthUser  # noqa: F401  (one /health prober: locust runs every user class in this file)
from messages import MESSAGES

TOKENS = os.environ.get("FINKRAFT_BENCH_TOKENS", "dev-maya,dev-admin,dev-victor").split(",")
THREAD_TURNS = int(os.environ.get("FINKRAFT_BENCH_THREAD_TURNS", "10"))
_users = itertools.count()


class ChatUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        n = next(_users)
        self.name = f"u{os.getpid()}-{n}"
        self.headers = {"Authorization": f"Bearer {TOKENS[n % len(TOKENS)]}"}
        self.turn = n  # each user starts at its own place in the set
        self.thread = ""

    @task
    def chat(self):
        headers = self.headers
        if self.turn % THREAD_TURNS == 0 or not self.thread:
            self.thread = f"{self.name}-t{self.turn}"
            headers = {**headers, "Connection": "close"}  # a new conversation: a new connection after it
        message = MESSAGES[self.turn % len(MESSAGES)]
        self.turn += 1
        with self.client.post(
            "/chat",
            json={"message": message, "thread_id": self.thread},
            headers=headers,
            name="POST /chat",
            catch_response=True,
        ) as r:
            body = r.json() if r.status_code == 200 else {}
            if (
                r.status_code != 200
                or not body.get("success")
                or body.get("tool_used") != "filter_data"
                or "filtered_records" not in (body.get("data") or {})
            ):
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
