# One command each: `make run` sets up and runs `python init_db.py` (SQLite by default);
# `make test` sets up and runs the quick suite (pytest) against SQLite, MariaDB and PostgreSQL;
# `make test-all` adds the slow suites (clusters, real-world corpora, fault injection): what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup compile run test test-all bench clean

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

# The slow suites start their own servers (a Galera cluster, PgBouncer, a standby) or fetch Debian packages;
# `bash .ci/run` installs what they need first.
QUICK := not cluster and not corpus and not faults

test: setup
	$(BIN)/python -m pytest -m "$(QUICK)"

test-all: setup
	$(BIN)/python -m pytest

bench: compile $(VENV)/.bench
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data/app.db build *.egg-info
