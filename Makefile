# Quick start: `make demo` (end-to-end archive on the embedded stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo dev stack test lint format bench clean

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

clean:
	rm -rf $(VENV) .devstack .pytest_cache .mypy_cache .ruff_cache
