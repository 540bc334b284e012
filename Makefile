# Two commands matter: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install demo serve test lint bench sample clean

run: install  ## install, load the bundled sample, serve the API
	$(BIN)/stonkmarket demo
	$(BIN)/stonkmarket serve

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/stonkmarket demo

serve: install
	$(BIN)/stonkmarket serve

test: lint  ## lint, type-check, then the whole suite
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

bench: install  ## the PostgreSQL and HTTP figures need the servers of make test
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_production.py
	$(BIN)/python scripts/bench_http.py
	$(BIN)/python scripts/bench_jobs.py

sample:  ## rebuild the bundled sample from the skfolio wheel
	$(BIN)/python -m pip install --quiet skfolio
	$(BIN)/python scripts/build_sample.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
