# Everything sets itself up: `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Prefer the Lambda runtime's Python (3.13); any Python >= 3.11 works.
PYTHON ?= $(shell for p in python3.13 "$$(pyenv prefix 3.13 2>/dev/null)/bin/python3" python3.12 python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
# SAM CLI pins its own boto3, so it lives in a venv of its own.
SAM_CLI_VERSION := 1.170.0
# checkov pins an older boto3 than the project's, so it too lives in a venv of its own.
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_DISABLE_VERSION_CHECK := 1

# Measured on a fresh clone (2 cores, no pip cache): the first `make demo` spent 84-97 s on set-up
# (project venv 27-28 s, SAM CLI 36-55 s, sam build 6-15 s) before the demo's own ~12 s.
FIRST_SETUP := about 2 minutes

.PHONY: help setup lint typecheck validate security build test unit demo demo-notice bench clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# setuptools says "Editable installation ... be careful with folders in your working directory"
# on every editable install: advice about editable installs in general, not about this project.
EDITABLE_PIP := PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(BIN)/pip

# Each set-up step says what it does, then how long it took ($$SECONDS is bash's clock).
# The project venv first gets what the demo needs (the [demo] extra); the test tools come on top.
$(BIN)/.demo-installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required" >&2; exit 1; }
	@echo "setup: project venv ($(VENV): the application, moto, the SAM translator) ..."; start=$$SECONDS; \
	$(PYTHON) -m venv $(VENV) && \
	$(BIN)/pip install --quiet --upgrade pip && \
	$(EDITABLE_PIP) install --quiet -e '.[demo]' && \
	echo "setup: project venv ... $$((SECONDS - start)) s"
	@touch $@

$(BIN)/.installed: $(BIN)/.demo-installed
	@echo "setup: test tools in $(VENV) (pytest, ruff, mypy, stubs) ..."; start=$$SECONDS; \
	$(EDITABLE_PIP) install --quiet -e '.[dev]' && \
	echo "setup: test tools ... $$((SECONDS - start)) s"
	@touch $@

$(SAM_VENV)/.installed:
	@echo "setup: SAM CLI $(SAM_CLI_VERSION) ($(SAM_VENV)) ..."; start=$$SECONDS; \
	$(PYTHON) -m venv $(SAM_VENV) && \
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip && \
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION) && \
	echo "setup: SAM CLI ... $$((SECONDS - start)) s"
	@touch $@

$(CHECKOV_VENV)/.installed:
	@echo "setup: checkov $(CHECKOV_VERSION) ($(CHECKOV_VENV)) ..."; start=$$SECONDS; \
	$(PYTHON) -m venv $(CHECKOV_VENV) && \
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip && \
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION) && \
	echo "setup: checkov ... $$((SECONDS - start)) s"
	@touch $@

setup: $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## Create the virtual environments

lint: $(BIN)/.installed ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed ## mypy --strict
	$(BIN)/mypy

validate: $(SAM_VENV)/.installed ## sam validate --lint (cfn-lint)
	$(SAM) validate --lint --template template.yaml

# Offline: no platform key, no policy download. Every skipped check carries its reason in template.yaml.
# checkov leaves out resources whose Condition is false with the parameters' defaults, so the
# organization-scope resources are scanned in a copy whose GovernanceScope defaults to ORGANIZATION.
ORG_SCOPE_TEMPLATE := .aws-sam/template-organization-scope.yaml
CHECKOV_SCAN := BC_SKIP_MAPPING=TRUE $(CHECKOV) --framework cloudformation --skip-download --compact --quiet
security: $(CHECKOV_VENV)/.installed ## checkov static security scan of the templates (both scopes, member role)
	$(CHECKOV_SCAN) --file template.yaml
	@mkdir -p .aws-sam && sed 's/^    Default: ACCOUNT$$/    Default: ORGANIZATION/' template.yaml > $(ORG_SCOPE_TEMPLATE)
	@grep -q '^    Default: ORGANIZATION$$' $(ORG_SCOPE_TEMPLATE) || { echo "no GovernanceScope default to switch" >&2; exit 1; }
	$(CHECKOV_SCAN) --file $(ORG_SCOPE_TEMPLATE)
	$(CHECKOV_SCAN) --file member-role.yaml

build: $(SAM_VENV)/.installed ## sam build, no container needed
	@echo "setup: sam build ..."; start=$$SECONDS; \
	$(SAM) build --template template.yaml --parallel && \
	echo "setup: sam build ... $$((SECONDS - start)) s"

test: setup lint typecheck validate security build ## Everything CI runs: lint, types, template, security scan, build, tests
	$(BIN)/pytest

unit: $(BIN)/.installed ## Only the fast tests
	$(BIN)/pytest tests/unit tests/embedded_aws

# Only what the demo needs: no test tools, no checkov (that is for `make test`'s security scan).
demo: demo-notice $(BIN)/.demo-installed $(SAM_VENV)/.installed build ## Run the application on the embedded AWS (no account needed)
	$(BIN)/python -m programs.demo

demo-notice:
	@$(MAKE) --no-print-directory --question $(BIN)/.demo-installed $(SAM_VENV)/.installed 2>/dev/null || \
	echo "First run: one-time set-up of $(FIRST_SETUP) (project venv, SAM CLI, sam build); later runs skip most of it."

bench: setup build ## API calls, wall time and peak memory as the estate grows
	$(BIN)/python -m programs.bench

clean: ## Remove build output and virtual environments
	rm -rf .aws-sam $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
