# Audit Log developer commands. `make test` is the README's (and CI's) test command.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: local engine test lint typecheck validate unit build token bench clean

# The venv is (re)built whenever a pinned requirement changes.
$(STAMP): requirements-dev.txt constraints.txt layers/common/requirements.txt
	@test -x $(BIN)/python || { echo "Creating $(VENV)" >&2; python3.11 -m venv $(VENV) || python3 -m venv $(VENV); }
	@echo "Installing pinned dependencies into $(VENV) (first run: about 2 minutes)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt >&2
	@touch $@

# The API on http://127.0.0.1:3000 through sam local, moto server as DynamoDB; Ctrl-C stops it.
local: $(STAMP)
	@PYTHONPATH=layers/common/python:. $(BIN)/python -m devtools.local_stack up

# A Docker engine (installed and started if this machine allows) and the Lambda image,
# left running: what the e2e tier needs. .ci/run calls it before `make test`.
engine: $(STAMP)
	@$(BIN)/python -m devtools.local_stack engine

test: lint typecheck validate unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint

unit: $(STAMP)
	$(BIN)/pytest

build: $(STAMP)
	$(BIN)/sam build

# Counts and side-by-side ratios (reads per event served, write units, authorizer cold start).
bench: $(STAMP)
	$(BIN)/python bench/run.py

# A development token for the local stack: make token ORG=org_acme ROLE=admin USER=usr_ada
token: $(STAMP)
	@test -n "$(ORG)" && test -n "$(ROLE)" || { echo "usage: make token ORG=<org_id> ROLE=admin|member [USER=<user id>]" >&2; exit 2; }
	@$(BIN)/python -m devtools.dev_tokens token --org "$(ORG)" --role "$(ROLE)" --user "$(USER)"

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
