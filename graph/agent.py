"""The compiled graph without persistence, for `langgraph dev` / LangGraph Studio (langgraph.json).

Studio's server brings its own checkpointer and refuses graphs compiled with one. It also
refuses blocking calls on its event loop (blockbuster), so every node that touches a database
runs in a worker thread here, even on embedded SQLite. Set the user in the run's config:
{"configurable": {"user_id": "maya"}}.
"""

from graph.builder import build_graph

graph = build_graph(reads_on_loop=False).compile(name="finkraft")
