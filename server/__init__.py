"""The HTTP server (FastAPI, LangServe) and the `finkraft` command."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("finkraft")  # pyproject.toml's, as installed
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
