"""The compiled graph without persistence, for `langgraph dev` / LangGraph Studio (langgraph.json).

Studio's server brings its own checkpointer and refuses graphs compiled with one. Set the
user in the run's config: {"configurable": {"user_id": "maya"}}.
"""

from graph.builder import build_graph

graph = build_graph().compile(name="finkraft")
