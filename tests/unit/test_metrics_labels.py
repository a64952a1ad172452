"""Metric labels come from the declared tools only: made-up tool names can't grow the metrics without bound."""

from __future__ import annotations

from server.metrics import REGISTRY, record_tool_calls


def _tool_labels() -> set[str]:
    return {s.labels["tool"] for m in REGISTRY.collect() if m.name == "finkraft_tool_calls" for s in m.samples}


def test_unknown_tool_names_are_counted_as_unknown():
    record_tool_calls(
        [{"tool": f"made-up-{i}", "status": "error", "duration_ms": 1} for i in range(50)]
        + [{"tool": "filter_data", "status": "success", "duration_ms": 3}]
    )
    labels = _tool_labels()
    assert "filter_data" in labels and "unknown" in labels
    assert not any(label.startswith("made-up") for label in labels)
