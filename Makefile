# International Learning Bridge: `make run` sets up and runs the product; `make test` sets up and passes the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LB := $(BIN)/learning-bridge
PORT ?= 8000

.PHONY: run test lint typecheck pytest venv install install-test migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The demo runs in one process, so it delivers outbox messages (xAPI statements, AGS scores) from a
# thread of that process; production runs `learning-bridge outbox deliver` beside `serve`.
DEMO_ENV = DEMO_MODE=$${DEMO_MODE:-1} ALLOW_PRIVATE_OUTBOUND=$${ALLOW_PRIVATE_OUTBOUND:-1} OUTBOX_IN_PROCESS=$${OUTBOX_IN_PROCESS:-1} PORT=$(PORT)

run: install
	$(DEMO_ENV) $(LB) db upgrade
	$(DEMO_ENV) $(LB) demo
	$(DEMO_ENV) $(LB) run --port $(PORT)

lint: install-test
	$(BIN)/ruff check lrs lti_tool tests migrations

typecheck: install-test
	$(BIN)/mypy

pytest: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Regenerate an Alembic revision from the models: make migration MESSAGE="add x"
migration: install-test
	$(BIN)/alembic -c alembic.ini revision --autogenerate -m "$(MESSAGE)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
