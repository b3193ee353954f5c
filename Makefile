# Everything a fresh machine needs, from PyPI only.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup check test lint bench
$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt

setup: $(PY)

# The main job, offline: run the program under mocks for every stack and score it.
check: $(PY)
	@for env in dev staging prod; do $(PY) -m automation check --env $$env || exit $$?; done

lint: $(PY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(PY) lint
	$(PY) -m pytest -n 2

bench: $(PY)
	$(PY) -m bench
