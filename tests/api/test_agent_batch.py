"""/agent/batch: every input is a turn, so each one counts against the rate limit, and a batch holds
at most FINKRAFT_MAX_BATCH_INPUTS inputs (413 beyond, nothing run)."""

from __future__ import annotations

from .conftest import running_api
from .test_hardening import counts, say


def batch(n: int, thread: str) -> dict:
    return {"inputs": [say("show my tickets")] * n, "config": {"configurable": {"thread_id": thread}}}


def test_a_batch_over_the_cap_is_413_and_runs_nothing(api):
    before = counts(api)
    r = api.maya.post("/agent/batch", json=batch(21, "batch-cap"))
    assert r.status_code == 413, r.text
    assert r.json()["detail"] == "A batch may hold at most 20 inputs; this one has 21. Send them in smaller batches."
    assert counts(api) == before
    r = api.maya.post("/agent/batch", json=batch(20, "batch-cap"))
    assert r.status_code == 200, r.text
    assert len(r.json()["output"]) == 20


def test_each_batch_input_counts_against_the_rate_limit(api):
    with running_api(api.data_dir, FINKRAFT_RATE_LIMIT="5/minute", FINKRAFT_MAX_BATCH_INPUTS="8") as limited:
        r = limited.maya.post("/agent/batch", json=batch(4, "batch-rl"))
        assert r.status_code == 200, r.text
        assert len(r.json()["output"]) == 4
        assert limited.maya.get("/tickets").status_code == 200  # the 5th request in the window
        assert limited.maya.get("/tickets").status_code == 429
        # a batch that would go over: refused as a whole, nothing runs
        assert [limited.victor.get("/tickets").status_code for _ in range(3)] == [200] * 3
        before = counts(limited)
        r = limited.victor.post("/agent/batch", json=batch(3, "batch-rl"))  # 3 + 3 > 5
        assert r.status_code == 429, r.text
        assert "(a batch of 3 inputs counts as 3 requests)" in r.json()["detail"] and int(r.headers["Retry-After"]) >= 1
        assert counts(limited) == before
        # a batch larger than the whole limit can never pass: said plainly, without a Retry-After
        r = limited.gita.post("/agent/batch", json=batch(6, "batch-rl"))
        assert r.status_code == 429 and "counts as 6 requests and the limit is 5 per 1 minute" in r.json()["detail"]
        assert "Retry-After" not in r.headers
        assert limited.gita.get("/tickets").status_code == 200  # only the refused request itself counted
