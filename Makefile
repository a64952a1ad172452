# The two commands (see README): `make serve` and `make test`. Both set everything up on a
# fresh machine: a virtual environment in .venv with the project, the embedding model's extra (torch, for the
# one-time ONNX export) and the dev extras.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
UI_PORT ?= 8501

.PHONY: serve test lint install clean-data bench chromium

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[torch,dev]"
	touch $(STAMP)

install: $(STAMP)

# the API on $(PORT) and the web app on $(UI_PORT); Ctrl-C (or either one stopping) stops both
serve: $(STAMP)
	$(VENV)/bin/finkraft serve --host $(HOST) --port $(PORT) --with-ui --ui-port $(UI_PORT)

# the whole suite twice: on the embedded SQLite default, then on the local PostgreSQL server
# (tests create and drop their own databases; FINKRAFT_TEST_PG_URL points elsewhere)
test: $(STAMP) lint
	$(VENV)/bin/pytest -q
	FINKRAFT_TEST_DB=postgres $(VENV)/bin/pytest -q

# ruff (lint, then format), mypy and the layering (import-linter), configured in pyproject.toml;
# `make test` runs this first
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) benchmarks/chat_turn.py

# Debian's Chromium for the web app's browser test (the test runs this itself when it is missing)
chromium:
	sh scripts/install-chromium.sh

clean-data:
	rm -rf data
