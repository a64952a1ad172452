"""Memory: episodic turns, semantic search (MiniLM + FAISS, derived from the app DB) and entity resolution.

Layering: memory imports tools and business_data, never graph or server.
"""

from .store import MemoryStore

__all__ = ["MemoryStore"]
