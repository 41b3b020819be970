# Two entry points: `make demo` and `make test`. Both create .venv when missing and
# reinstall only when pyproject.toml changed (the stamp file), so a second run is fast.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint install bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,web]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/skal demo

lint: $(STAMP)
	$(BIN)/ruff check skal tests benchmarks examples

# Two workers (CI has 2 cores), one test file per worker at a time: a file's module-scoped
# fixtures (a dask cluster, a trained CNN, a browser) are built once.
test: lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15

# The documentation site (Sphinx), offline, warnings are errors; the gallery's examples run.
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) build *.egg-info docs/_build docs/api docs/auto_examples
