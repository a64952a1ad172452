"""The semantic query inside a reading, for the completions that rewrite it: taken out of a tool call (an
analysis keeps it under `query` or as its parameters), with its dataset, and put back with the reason."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..parser.vocabulary import vocabulary


class Reading(NamedTuple):
    params: dict[str, Any]  # the call's parameters (copied)
    query: dict[str, Any]  # the semantic query in them (copied)
    vocab: Any  # the data model's vocabulary
    ds_name: str
    ds: Any  # the dataset (None when the query names none the model has)


def query_parts(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    params = dict(record.get("params") or {})
    return params, dict(params.get("query") or params)


def reading_of(record: dict[str, Any], tools: tuple[str, ...], model: Any = None, default: str = "") -> Reading | None:
    """The reading of a tool call among `tools`, or None for anything else (an answer, a question)."""
    if record.get("kind") != "tool" or record.get("tool") not in tools:
        return None
    params, query = query_parts(record)
    vocab = vocabulary(model)
    ds_name = str(query.get("dataset") or default)
    return Reading(params, query, vocab, ds_name, vocab.model.datasets.get(ds_name))


def with_query(record: dict[str, Any], params: dict[str, Any], query: dict[str, Any], why: str) -> dict[str, Any]:
    """The record with its query rewritten (where the call keeps it) and the reason added."""
    params = {**params, "query": query} if "query" in params else query
    return {**record, "params": params, "reason": f"{record.get('reason') or ''}; {why}".strip("; ")}
