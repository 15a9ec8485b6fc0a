# Two commands do everything: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo serve test install install-dev lint docs clean

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
## passwords, then serve it at http://127.0.0.1:8000/ (Ctrl+C stops the server)
demo: install
	$(BIN)/opsfin demo --dir demo-workspace --scale demo

## make serve: serve ./demo-workspace again (after `make demo`)
serve: install
	$(BIN)/opsfin serve -w demo-workspace

## make test: install with the dev and spark extras and run the whole suite (the Spark tests also need Java 17)
test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

docs: install
	$(BIN)/python -m opsfin.canonical.docs

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
