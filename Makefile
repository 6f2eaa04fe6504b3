# schoolnet: `make run` and `make test` work on a fresh clone with only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-scans fuzz venv clean serve

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

# The nightly-schedule tests mostly wait for the Prefect scheduler's minute (~3 of the suite's ~19 minutes,
# little CPU): they run beside the rest, in a session of their own (own temp dir, own Prefect server).
SCHEDULE_TESTS := tests/flows/test_nightly_schedule.py
test: $(STAMP)
	@tmp=$$(mktemp -d); \
	$(BIN)/python -m pytest -q -p no:cacheprovider --basetemp=$$tmp/schedule $(SCHEDULE_TESTS) \
	    >$$tmp/schedule.log 2>&1 & schedule=$$!; \
	$(BIN)/python -m pytest -q --ignore=$(SCHEDULE_TESTS); rest=$$?; \
	wait $$schedule; scheduled=$$?; echo "--- $(SCHEDULE_TESTS) (run beside the rest):"; cat $$tmp/schedule.log; \
	rm -rf $$tmp; test $$rest -eq 0 && test $$scheduled -eq 0

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m synth.bench

# only the scanned corpus of make bench: 200 printed and scanned forms read by tesseract (~19 min on 2 cores)
bench-scans: $(VENV)/.bench-installed
	$(BIN)/python -m synth.bench --scans-only

fuzz: $(STAMP)
	SCHOOLNET_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q tests/transform/test_fuzz.py -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data/warehouse/*
