# Quick start: `make demo` (end-to-end archive on the embedded stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo dev stack test lint format bench soak soak-short soak-transient clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/archiver-dagster demo

dev: $(STAMP)
	$(BIN)/archiver-dagster dev

stack: $(STAMP)
	$(BIN)/archiver-dagster stack

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check archiver_dagster archiver_dagster_tests
	$(BIN)/ruff format --check archiver_dagster archiver_dagster_tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format archiver_dagster archiver_dagster_tests
	$(BIN)/ruff check --fix archiver_dagster archiver_dagster_tests

bench: $(STAMP)
	$(BIN)/python -m archiver_dagster.bench

# Archives many datasets through SciCat jobs and the daemon while faults are injected, then checks
# the invariants (docs/operations.md, "Soak"). Mounts a tmpfs as the LTS when run as root.
soak: $(STAMP)
	$(BIN)/python -m archiver_dagster.devstack.soak

soak-short: $(STAMP)
	$(BIN)/python -m archiver_dagster.devstack.soak --short

# Only transient faults: a 60 s SciCat outage and 5 % of S3 responses reset all along. Every
# dataset with all its files should archive (`--faults none` gives the baseline).
soak-transient: $(STAMP)
	$(BIN)/python -m archiver_dagster.devstack.soak --faults transient

clean:
	rm -rf $(VENV) .devstack .pytest_cache .mypy_cache .ruff_cache
