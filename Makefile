# Audit Log developer commands. `make test` is the README's (and CI's) test command.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: local engine browser test lint typecheck validate scan openapi unit build token bench clean

# The venv is (re)built whenever a pinned requirement changes.
$(STAMP): requirements-dev.txt constraints.txt layers/common/requirements.txt clients/python/pyproject.toml
	@test -x $(BIN)/python || { echo "Creating $(VENV)" >&2; python3.11 -m venv $(VENV) || python3 -m venv $(VENV); }
	@echo "Installing pinned dependencies into $(VENV) (first run: about 2 minutes)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt >&2
	@touch $@

# checkov pins boto3 exactly (as aws-sam-cli does, differently): it gets a venv of its own.
$(SCAN_STAMP): requirements-scan.txt
	@test -x $(SCAN_VENV)/bin/python || python3.11 -m venv $(SCAN_VENV) || python3 -m venv $(SCAN_VENV)
	@echo "Installing checkov into $(SCAN_VENV) (first run: about 1.5 minutes)" >&2
	@$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt >&2
	@touch $@

# The API on http://127.0.0.1:3000 through sam local, moto server as DynamoDB, and the admin
# page on http://127.0.0.1:8080/settings/audit-log; Ctrl-C stops it.
local: $(STAMP)
	@PYTHONPATH=layers/common/python:. $(BIN)/python -m devtools.local_stack up

# A Docker engine (installed and started if this machine allows) and the Lambda image,
# left running: what the e2e tier needs. .ci/run calls it before `make test`.
engine: $(STAMP)
	@$(BIN)/python -m devtools.local_stack engine

# Debian's chromium (as root on Debian; otherwise it says what to install): what the
# admin page's browser tests drive. .ci/run calls it before `make test`.
browser: $(STAMP)
	@$(BIN)/python -m devtools.local_stack browser

test: lint typecheck validate scan unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint

# Infrastructure scanners: cfn-lint with its informational rules (I3011: stateful resources
# say what happens on delete/replace), checkov with our own check CKV_AUDIT_1 (the table is
# deletion-protected). Skipped checks are listed, with reasons, on their resources.
scan: $(STAMP) $(SCAN_STAMP)
	$(BIN)/cfn-lint --include-checks I -- template.yaml
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --external-checks-dir scanners/checkov \
		--compact --quiet --skip-download

# Rewrite openapi.json from the code (a unit test fails while it is stale).
openapi: $(STAMP)
	PYTHONPATH=layers/common/python:. $(BIN)/python -m devtools.openapi

# The development signing key, made before the workers start: each would otherwise make its
# own while collecting (tokens are minted at import), racing to write the one file.
DEV_KEY := .local/dev-jwt/private.pem
$(DEV_KEY): | $(STAMP)
	@PYTHONPATH=layers/common/python:. $(BIN)/python -c 'from devtools.dev_tokens import private_key; private_key()'

# pytest in two runs: first everything outside tests/e2e (the unit tier) on UNIT_WORKERS
# processes (pytest-xdist; each test makes its own moto world), then the e2e tier in one
# process, since its tests share one sam local stack. Both run even if the first fails; the
# target fails if either did.
UNIT_WORKERS ?= 2
unit: $(STAMP) $(SCAN_STAMP) | $(DEV_KEY)
	status=0; \
	$(BIN)/pytest -n $(UNIT_WORKERS) --ignore=tests/e2e --durations=15 || status=$$?; \
	$(BIN)/pytest tests/e2e --durations=30 || status=$$?; \
	exit $$status

build: $(STAMP)
	$(BIN)/sam build

# Cold start, read and write cost, warm latency and package size, as counts and side-by-side
# ratios: rewrites bench/results.md and bench/latency.png (about 5 minutes; `sam build` included).
bench: $(STAMP)
	PYTHONPATH=layers/common/python:. $(BIN)/python -m bench.run

# A development token for the local stack: make token ORG=org_acme ROLE=admin [USER=usr_ada].
# USER counts only when given on the command line: the environment's USER is the login name.
token: $(STAMP)
	@test -n "$(ORG)" && test -n "$(ROLE)" || { echo "usage: make token ORG=<org_id> ROLE=admin|member [USER=<user id>]" >&2; exit 2; }
	@PYTHONPATH=layers/common/python:. $(BIN)/python -m devtools.dev_tokens token --org "$(ORG)" --role "$(ROLE)" \
		$(if $(filter command line,$(origin USER)),--user "$(USER)")

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
