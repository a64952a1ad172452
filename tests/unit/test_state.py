"""graph/state.py: what a thread's checkpoint keeps of a turn. The rows, record keys, typed tables and charts
live only while the turn runs; the saved checkpoint holds the status, message and figures, and "these" still
reaches every record of the last listing on the next turn."""

from __future__ import annotations

from graph.state import ROW_DATA

from ..helpers import calls, cfg, turn


def _saved(graph, config: dict) -> dict:
    """The thread's checkpoint as the saver stored it (channel values after `checkpoint()`)."""
    saved = graph.checkpointer.get_tuple(config)
    assert saved is not None
    return saved.checkpoint["channel_values"]


def test_a_listing_is_saved_without_its_rows_and_these_still_reach_them(services, app_graph):
    maya = cfg("maya", "checkpoint-rows")
    out = turn(app_graph, maya, "pending invoices")
    listed = out["result"]["data"]
    assert listed["filtered_records"] > 20 and listed["results"] and listed["table"]["rows"]  # whole while it runs

    values = _saved(app_graph, maya)
    data = values["result"]["data"]
    assert ROW_DATA.isdisjoint(data), sorted(ROW_DATA & set(data))
    assert data["filtered_records"] == listed["filtered_records"]  # the figures stay
    assert values["result"]["status"] == "success" and values["result"]["message"]
    assert all(t["rows"] == [] for t in values["answer"]["tables"]) and "records" not in values["answer"]

    out = turn(app_graph, maya, "export these as csv")
    tool, params = calls(out)[0]
    assert tool == "export_report"
    assert out["result"]["data"]["rows"] == listed["filtered_records"]


def test_a_breakdown_is_saved_without_its_chart(services, app_graph):
    maya = cfg("maya", "checkpoint-chart")
    out = turn(app_graph, maya, "total sales by region this year")
    assert out["result"]["data"]["chart"] and out["result"]["data"]["figure"]

    data = _saved(app_graph, maya)["result"]["data"]
    assert ROW_DATA.isdisjoint(data)
    assert data["kind"] == "breakdown"
