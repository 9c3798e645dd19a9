# Two commands: `make run` serves, `make test` checks everything. Both create or
# reuse .venv and install only when a pyproject.toml changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck docs unit system-deps bench clean

$(STAMP): pyproject.toml examples/local/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	# the example kind, installed as any package outside Asgard would be: by its entry point
	$(BIN)/pip install --quiet -e examples/local --config-settings editable_mode=compat
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/asgard serve

system-deps:
	@scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check asgard tests bench docs examples
	$(BIN)/ruff format --check asgard tests bench docs examples

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

unit: $(STAMP) system-deps
	$(BIN)/pytest

test: lint typecheck docs unit

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) docs/_build docs/_generated .mypy_cache .ruff_cache .pytest_cache
