# Quick start: `make demo` (end-to-end archive on the embedded stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCES := archiver_dagster archiver_dagster_tests devstack
# The development tooling (devstack/) is not installed: it runs from this checkout, which
# `python -m` puts first on sys.path (docs/architecture.md, decision 53).
DEVSTACK := $(BIN)/python -m devstack

.PHONY: install demo dev stack test test-browser screenshots test-image lock lint format bench \
	bench-scale bench-scale-short soak soak-short soak-transient clean

# Run-time dependencies at the versions of deploy/requirements.lock, the image's, so that the
# tests run what is deployed; test and lint tools resolved freely around them.
$(STAMP): pyproject.toml deploy/requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c deploy/requirements.lock -e '.[test,lint]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(DEVSTACK) demo

dev: $(STAMP)
	$(DEVSTACK) dev

stack: $(STAMP)
	$(DEVSTACK) stack

# Two workers, a module's tests in one of them (module fixtures such as the daemon's start once).
test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadscope

# The Dagster UI in Debian's Chromium (apt-get install chromium): lineage, a dataset, its checks,
# the pools. `screenshots` keeps the pictures the README shows in docs/images/.
test-browser: $(STAMP)
	$(BIN)/pytest -m browser archiver_dagster_tests/ui

screenshots: $(STAMP)
	ARCHIVER_UI_SCREENSHOTS=docs/images $(BIN)/pytest -m browser archiver_dagster_tests/ui

# Installs the image's Python dependencies in a clean virtualenv exactly as the Dockerfile does
# (from PyPI) and starts the code location, the webserver and the daemon from it (slow).
test-image: $(STAMP)
	$(BIN)/pytest -m slow archiver_dagster_tests/deploy/test_image_install.py

# Writes deploy/requirements.lock from this environment after a dependency was added or upgraded
# (pip install -U ... into $(VENV) first); test_image.py fails while the two disagree.
lock: $(STAMP)
	$(BIN)/python -m devstack.lock

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

bench: $(STAMP)
	$(BIN)/python -m devstack.bench

# Many tiny datasets through SciCat jobs and the daemon, on sqlite and on a throwaway PostgreSQL,
# with Dagster's defaults and with the production queue, forked run workers and pooled
# PostgreSQL connections (docs/performance.md, "Scale"). Full: about 40 min.
bench-scale: $(STAMP)
	$(BIN)/python -m devstack.scale

bench-scale-short: $(STAMP)
	$(BIN)/python -m devstack.scale --short

# Archives many datasets through SciCat jobs and the daemon while faults are injected, then checks
# the invariants (docs/operations.md, "Soak"). Mounts a tmpfs as the LTS when run as root.
soak: $(STAMP)
	$(BIN)/python -m devstack.soak

soak-short: $(STAMP)
	$(BIN)/python -m devstack.soak --short

# Only transient faults: a 60 s SciCat outage and 5 % of S3 responses reset all along. Every
# dataset with all its files should archive (`--faults none` gives the baseline).
soak-transient: $(STAMP)
	$(BIN)/python -m devstack.soak --faults transient

clean:
	rm -rf $(VENV) .devstack .pytest_cache .mypy_cache .ruff_cache
