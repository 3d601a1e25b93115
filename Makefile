# One command each: `make run` sets up and runs `python init_db.py` (SQLite by default);
# `make test` sets up and runs the whole test suite (pytest) against SQLite, MariaDB and PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup compile run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $@

# Bytecode is compiled explicitly: with PYTHONDONTWRITEBYTECODE=1 (common in containers and CI) Python
# would otherwise compile the package again at every start, ~14 ms of a ~60 ms no-op run.
compile: setup
	$(BIN)/python -m compileall -q sqlrun init_db.py

run: compile
	$(BIN)/python init_db.py

test: setup
	$(BIN)/python -m pytest

bench: compile $(VENV)/.bench
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data/app.db build *.egg-info
