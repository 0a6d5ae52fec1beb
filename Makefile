# Two commands on a fresh machine: `make demo` (the main job) and `make test` (every test).
# `make check` is the quick tier for the edit-test loop. Everything is installed into .venv by the first
# command that needs it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install when pyproject.toml changes.
STAMP  := $(VENV)/.installed
# The pinned npm clients of the interoperability tests (MCP Inspector, TypeScript SDK, Claude Code, ~500 MB)
# are installed by the tests themselves, once per machine, into the per-user cache
# ($XDG_CACHE_HOME/databasin-mcp/interop-node, else ~/.cache/...); DATABASIN_INTEROP_NODE_DIR moves them.

# Cache compiled modules between runs even where the shell sets PYTHONDONTWRITEBYTECODE: pytest otherwise
# rewrites the assertions of every test module on every run, and each server a test starts recompiles src/.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo check test lint bench mcpb clean

# A .venv made by another Python (PYTHON=python3.12, an upgrade, a removed interpreter) is rebuilt, not
# reused: the interpreter's version and installation are compared with the venv's on every make.
WHICH_PYTHON := import sys; print(sys.version.split()[0], sys.base_prefix)
WANTED_PYTHON := $(shell $(PYTHON) -c '$(WHICH_PYTHON)' 2>/dev/null)
VENV_PYTHON := $(shell $(BIN)/python -c '$(WHICH_PYTHON)' 2>/dev/null)
ifneq ($(WANTED_PYTHON),)
ifneq ($(WANTED_PYTHON),$(VENV_PYTHON))
$(shell rm -rf $(VENV))
endif
endif

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "make: databasin-mcp needs Python 3.11 or later; '$(PYTHON)' is not. Name one: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; \
	  exit 1; }
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
