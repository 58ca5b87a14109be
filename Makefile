# Two commands (see README):
#   make run   set everything up, fetch and verify MNIST, execute the notebooks in place
#   make test  nbval re-executes every notebook and checks its outputs, then the unit tests
#   make lab   JupyterLab, to draw your own digits (notebook 07)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
PYTEST_NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 1800

.PHONY: run test setup data lab lint bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

data: $(STAMP)
	$(BIN)/python -m helpers data

# tools/run_notebooks.py shows each notebook's cells, elapsed time and printed lines (training
# epochs) in the terminal as they run; the notebooks keep only their own outputs.
run: data
	$(BIN)/python tools/run_notebooks.py --timeout 1800 $(NOTEBOOKS)
	$(BIN)/jupytext --sync $(NOTEBOOKS)

# Notebooks first, one after another: they train each model once and cache it. Then the unit
# tests, which reuse the cache, in two worker processes (pytest-xdist): most of them are short
# and leave a core idle. Both run even if the first fails; either failure fails `make test`.
test: data
	$(BIN)/python -m pytest --durations=20 $(PYTEST_NBVAL) $(NOTEBOOKS); notebooks=$$?; \
	$(BIN)/python -m pytest --durations=20 -n 2 tests; tests=$$?; \
	test $$notebooks -eq 0 -a $$tests -eq 0

# JupyterLab on this machine only (127.0.0.1), opened on notebook 07's drawing canvas.
lab: data
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 notebooks/07_draw_your_own.ipynb

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks benchmarks tools

bench: data
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf data/models data/runs
