# Everything a fresh machine needs, from PyPI only.
VENV ?= .venv
PY := $(VENV)/bin/python
# Re-installs whenever a requirements file changes (the stamp is older than it).
STAMP := $(VENV)/.installed

.PHONY: setup check checkov checkov-setup oracle-setup policy-pack test lint bench lock
# Installs the ranges of requirements*.txt at the exact versions of requirements.lock.
$(STAMP): requirements.txt requirements-dev.txt requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Re-resolve the ranges in a throw-away environment and record the exact versions.
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q -r requirements-dev.txt
	{ echo "# Exact versions the set-up installs (pip constraints): \`make lock\` refreshes it from requirements*.txt."; \
	  .lock-venv/bin/python -m pip freeze; } > requirements.lock
	rm -rf .lock-venv

setup: $(STAMP)

# The independent IAM evaluator the tests compare ours with (@cloud-copilot/iam-simulate, pinned
# by the committed lock; Node is on every machine of this project).
ORACLE := tools/iam-simulate
ORACLE_STAMP := $(ORACLE)/node_modules/.installed
$(ORACLE_STAMP): $(ORACLE)/package.json $(ORACLE)/package-lock.json
	cd $(ORACLE) && npm ci --no-audit --no-fund --silent
	touch $(ORACLE_STAMP)

oracle-setup: $(ORACLE_STAMP)

# Checkov in its own environment: its exact pins would fight the program's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

checkov-setup: $(CHECKOV_STAMP)

# Checkov's own checks on every environment's planned resources (offline).
checkov: $(STAMP) $(CHECKOV_STAMP)
	for env in $$($(PY) -c "from automation.environments import environments; print(*[e.name for e in environments()])"); do \
	  $(PY) -m automation checkov --env $$env || exit $$?; done

# The main job, offline: run the program under mocks for every stack and score it.
check: $(STAMP)
	$(PY) -m automation check

# The policy pack as a self-contained directory (dist/policy-pack) to use or publish elsewhere.
policy-pack: $(STAMP)
	$(PY) -m automation.offline.policy_pack

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) $(CHECKOV_STAMP) $(ORACLE_STAMP) lint
	$(PY) -m pytest -n 2

bench: $(STAMP)
	$(PY) -m bench
