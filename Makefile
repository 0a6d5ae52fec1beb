# Two commands on a fresh machine: `make demo` (the main job) and `make test` (every test).
# `make check` is the quick tier for the edit-test loop. Everything is installed into .venv by the first
# command that needs it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install when pyproject.toml changes.
STAMP  := $(VENV)/.installed
# Node packages for the interoperability tests (MCP Inspector, TypeScript SDK), installed by
# the tests themselves at pinned versions into this folder, once; never committed.
export DATABASIN_INTEROP_NODE_DIR := $(CURDIR)/.cache/interop-node

# Cache compiled modules between runs even where the shell sets PYTHONDONTWRITEBYTECODE: pytest otherwise
# rewrites the assertions of every test module on every run, and each server a test starts recompiles src/.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo check test lint bench mcpb clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m databasin_mcp.demo

# Every test that starts no process (no server, sandbox process, uvicorn workers or node client: those are
# marked e2e), on every core, with a third of the property-test examples (tests/hardening/conftest.py).
check: $(STAMP)
	HYPOTHESIS_PROFILE=check $(BIN)/python -m pytest -q -m "not e2e" -n auto

# Everything, in one process: the e2e tests time real processes on loopback.
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks mcpb
	$(BIN)/ruff format --check src tests benchmarks mcpb
	$(BIN)/mypy

# The recording's second agent framework is only needed here, not by `make test`.
RECORDING_STAMP := $(VENV)/.installed-recording
$(RECORDING_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[recording]"
	touch $(RECORDING_STAMP)

bench: $(RECORDING_STAMP)
	$(BIN)/python -m benchmarks

# The MCP Bundle for Claude Desktop, into dist/ (needs node: the official MCPB tool runs with npx).
mcpb: $(STAMP)
	$(BIN)/python mcpb/build.py --out dist

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
