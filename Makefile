# Two commands do everything: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo serve test install install-dev lint docs clean mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

# dev tools plus the spark extra: the Spark parity test (tests/test_spark_parity.py) needs PySpark
$(VENV)/.installed-dev: $(BIN)/python pyproject.toml Makefile
	$(PIP) install --quiet -e '.[dev,spark]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: build the demo company into ./demo-workspace, print what was built and the demo users'
## passwords, then serve it at http://$(HOST):$(PORT)/ (Ctrl+C stops the server). PORT (default 8000) and
## HOST (default 127.0.0.1) choose where: `make demo PORT=8010`.
PORT ?= 8000
HOST ?= 127.0.0.1
demo: install
	$(BIN)/opsfin demo --dir demo-workspace --scale demo --host $(HOST) --port $(PORT)

## make serve: serve ./demo-workspace again (after `make demo`); PORT and HOST as for make demo
serve: install
	$(BIN)/opsfin serve -w demo-workspace --host $(HOST) --port $(PORT)

## make test: install with the dev and spark extras, check lint, formatting and types (mypy on core/ and the
## engines), then run the whole suite (the Spark tests also need Java 17) in TEST_WORKERS pytest-xdist
## workers (default 2), one test file per worker at a time (docs/testing.md)
TEST_WORKERS ?= 2
test: install-dev
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=30

## make mutation: mutation testing of the engines with mutmut, per package (not part of `make test`; see
## docs/testing.md). MUTATION_PACKAGES picks packages (default: every engine package), MUTATION_MINUTES caps
## each package's run (default 8). MUTATION_SAMPLE mutants per package, drawn with MUTATION_SEED, give each
## score with a 95% interval (the budget arithmetic is in docs/testing.md); MUTATION_SAMPLE= runs every
## mutant. Scores go to .mutation/scores.json.
MUTATION_PACKAGES ?=
MUTATION_MINUTES ?= 8
MUTATION_SAMPLE ?= 40
MUTATION_SEED ?= 1
mutation: install-dev
	$(BIN)/python tools/mutation.py $(MUTATION_PACKAGES) --minutes $(MUTATION_MINUTES) \
		$(if $(MUTATION_SAMPLE),--sample $(MUTATION_SAMPLE) --seed $(MUTATION_SEED))

lint: install-dev
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

docs: install
	$(BIN)/python -m opsfin.canonical.docs

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
