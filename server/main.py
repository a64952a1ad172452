"""ASGI entry point for `uvicorn server.main:app` (and `finkraft serve --workers N`)."""

from .app import create_app

app = create_app()
