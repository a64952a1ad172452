"""Locust load for FinkraftAI chat turns: `benchmarks/scale_workers.py` drives it headless.

Each simulated user runs the sample conversation over and over in a fresh thread per round
(filter -> "why did these fail?" -> "show my tickets"), closed loop (the next turn goes as
soon as the answer arrives). Users are spread over the demo identities (dev tokens: run the
server with FINKRAFT_ENV=dev). By hand:

    locust -f benchmarks/locustfile.py --headless -u 8 -r 8 -t 30s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import itertools
import os
import uuid

from locust import HttpUser, constant, task

TOKENS = os.environ.get("FINKRAFT_BENCH_TOKENS", "dev-maya,dev-admin,dev-gita").split(",")
CONVERSATION = [
    "Filter invoices for last month, vendor=IndiSky, status=failed",
    "why did these fail?",
    "show my tickets",
]
_tokens = itertools.cycle(TOKENS)


class ChatUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {next(_tokens)}"
        self.turn_no = 0
        self.thread = ""

    @task
    def chat_turn(self):
        step = self.turn_no % len(CONVERSATION)
        if step == 0:
            self.thread = f"bench-{uuid.uuid4().hex[:12]}"
        self.turn_no += 1
        with self.client.post(
            "/chat", json={"message": CONVERSATION[step], "thread_id": self.thread}, name="/chat", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
            elif not r.json().get("success"):
                r.failure(f"unsuccessful turn: {r.text[:200]}")
