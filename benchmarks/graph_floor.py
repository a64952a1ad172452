"""What LangGraph itself costs per turn on this machine: the assistant's turn shape with empty nodes.

    .venv/bin/python benchmarks/graph_floor.py [--turns 500] [--repeat 3]

Seven nodes in a line (context, route, plan, gate, act, respond, remember, as a filter turn runs them),
each returning one small update and doing nothing else, compiled with the server's SQLite saver
(graph/checkpointers.py InlineSqliteSaver: reads on the loop, writes in a worker thread) and run with
`ainvoke(..., durability="exit")` on threads of 10 turns, the way server/conversation.py runs a turn:
one checkpoint read first, one callback handler attached (as the trace recorder is). Variants: nodes on
the event loop or in worker threads (LangGraph's default for plain functions), with and without the
handler. Prints CPU ms per turn (median of repeats): the floor under any turn the real graph can reach,
before a single query, parse or answer.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402

from business_data.settings import Settings  # noqa: E402
from graph.builder import inline  # noqa: E402
from graph.checkpointers import open_async_checkpointer, reuse_read  # noqa: E402

NODES = ("context", "route", "plan", "gate", "act", "respond", "remember")


class State(TypedDict, total=False):
    step: str
    messages: Annotated[list, operator.add]


class Handler(BaseCallbackHandler):
    """Counts node starts and ends, as the trace recorder listens to them."""

    run_inline = True

    def __init__(self) -> None:
        self.events = 0

    def on_chain_start(self, serialized, inputs, **kw):
        self.events += 1

    def on_chain_end(self, outputs, **kw):
        self.events += 1


def node(name: str):
    def fn(state: State) -> dict:
        return {"step": name}

    fn.__name__ = name
    return fn


async def measure(on_loop: bool, handler: bool, turns: int, repeat: int) -> float:
    data = Path(tempfile.mkdtemp(prefix="fk-floor-"))
    g = StateGraph(State)
    prev = START
    for name in NODES:
        g.add_node(name, inline(node(name)) if on_loop else node(name))
        g.add_edge(prev, name)
        prev = name
    g.add_edge(prev, END)
    async with open_async_checkpointer(Settings(FINKRAFT_DATA_DIR=str(data))) as saver:
        graph = g.compile(checkpointer=saver)

        async def run(n: int, tag: str) -> None:
            for i in range(n):
                config: dict = {"configurable": {"thread_id": f"{tag}-{i // 10}"}}
                if handler:
                    config["callbacks"] = [Handler()]
                saved = await saver.aget_tuple(config)
                with reuse_read(config, saved):
                    await graph.ainvoke({"messages": [f"turn {i}"]}, config, durability="exit")

        await run(50, "warm")
        per_turn = []
        for k in range(repeat):
            c0 = time.process_time()
            await run(turns, f"run{k}")
            per_turn.append((time.process_time() - c0) * 1000 / turns)
    return statistics.median(per_turn)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for on_loop, handler in ((True, True), (True, False), (False, True)):
        ms = asyncio.run(measure(on_loop, handler, args.turns, args.repeat))
        where = "on the event loop" if on_loop else "in worker threads"
        print(
            f"7 empty nodes {where}, {'with' if handler else 'without'} a callback handler: {ms:.2f} ms CPU per turn",
            flush=True,
        )


if __name__ == "__main__":
    main()
