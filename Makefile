# schoolnet: `make run` and `make test` work on a fresh clone with only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench fuzz venv clean serve

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/schoolnet run --raw-dir data/raw --warehouse-dir data/warehouse

# the nightly deployment with its Prefect API (deploy/prefect.env), until Ctrl-C or SIGTERM
serve: $(STAMP)
	$(BIN)/schoolnet serve --with-server

test: $(STAMP)
	$(BIN)/python -m pytest -q

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m synth.bench

fuzz: $(STAMP)
	SCHOOLNET_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q tests/transform/test_fuzz.py -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data/warehouse/*
