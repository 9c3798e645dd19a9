# Two commands: `make run` serves, `make test` checks everything. Both create or reuse
# .venv and install from the hashed lock files in requirements/ (`make lock` refreshes
# them): `make run` only what running needs, `make test` the tools and tests too.
# `make check` is the edit-test loop: lint, types, and the tests that need no dockerd,
# PostgreSQL or Chromium (it installs no system package and starts none of them).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check
EDITABLE := --no-deps --no-build-isolation --config-settings editable_mode=compat
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
# pytest-xdist workers: most tests wait on a dockerd, a PostgreSQL or a browser, so more
# workers than the machine's two cores pay; tests that must share a worker (a CLI
# module's asgard serve, the dashboard's fleet) are grouped by tests/support/resources.py.
# Tests that measure wall-clock latency (marked quiet) run afterwards, alone in one process:
# beside busy workers on two cores /health's p95 is the machine's, not Asgard's.
WORKERS ?= 4
CHECK_WORKERS ?= 4
SERVERS := docker or podman or postgres or browser or promtool

.PHONY: run test check lint typecheck docs unit parallel quiet fast system-deps bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip and setuptools first (the editable installs build without isolation, with the
# locked setuptools), then the locked packages, then Asgard itself without resolving
$(RUN_STAMP): requirements/bootstrap.txt requirements/run.txt pyproject.toml | $(BIN)/python
	$(INSTALL) --require-hashes -r requirements/bootstrap.txt
	$(INSTALL) --require-hashes --no-deps -r requirements/run.txt
	$(INSTALL) $(EDITABLE) -e .
	@touch $@

# the example kind, installed as any package outside Asgard would be: by its entry point
$(DEV_STAMP): $(RUN_STAMP) requirements/dev.txt examples/local/pyproject.toml
	$(INSTALL) --require-hashes --no-deps -r requirements/dev.txt
	$(INSTALL) $(EDITABLE) -e examples/local
	@touch $@

run: $(RUN_STAMP)
	$(BIN)/asgard serve

lock:
	@scripts/lock.sh

system-deps:
	@scripts/system-deps.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check asgard tests bench testbed docs examples
	$(BIN)/ruff format --check asgard tests bench testbed docs examples

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

docs: $(DEV_STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

unit: $(DEV_STAMP) system-deps
	@$(MAKE) --no-print-directory parallel
	@$(MAKE) --no-print-directory quiet

parallel: $(DEV_STAMP) system-deps
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup -m "not quiet"

quiet: $(DEV_STAMP) system-deps
	$(BIN)/pytest -m quiet

# the tests that need no server; one that tries to start one fails, naming it
fast: $(DEV_STAMP)
	ASGARD_TEST_SERVERS_OFF=1 $(BIN)/pytest -n $(CHECK_WORKERS) --dist loadgroup -m "not ($(SERVERS))"

# lint, types and docs run beside the parallel tests (mypy alone would leave a core idle
# for 17 s); the quiet tests after all of them, alone
test: $(DEV_STAMP) system-deps
	@$(MAKE) --no-print-directory -j4 lint typecheck docs parallel
	@$(MAKE) --no-print-directory quiet

check: lint typecheck fast

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) docs/_build docs/_generated .mypy_cache .ruff_cache .pytest_cache
