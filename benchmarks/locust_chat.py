"""Locust users for the load benchmark: chat turns (the IndiSky filter) and a /health prober."""

from __future__ import annotations

import itertools
import os

from locust import HttpUser, constant, task

TOKEN = os.environ.get("FINKRAFT_BENCH_TOKEN", "dev-maya")
_ids = itertools.count()


class ChatUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.thread = f"load-{os.getpid()}-{next(_ids)}"
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"

    @task
    def chat(self):
        with self.client.post(
            "/chat",
            json={"message": "Filter invoices for last month, vendor=IndiSky, status=failed", "thread_id": self.thread},
            name="POST /chat",
            catch_response=True,
        ) as r:
            if r.status_code != 200 or r.json().get("data", {}).get("filtered_records") != 7:
                r.failure(f"unexpected answer: {r.status_code} {r.text[:200]}")


class HealthUser(HttpUser):
    fixed_count = 1
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health", name="GET /health")
