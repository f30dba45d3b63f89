# The two commands in the README: `make run` (the site in local mode) and
# `make test` (the whole suite). Both set up everything they need first.

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
DEPS := $(VENV)/.deps-installed
NODE_DEPS := node_modules/.deps-installed
LAMBDA_VENV := .venv-lambda
LAMBDA_DEPS := $(LAMBDA_VENV)/.deps-installed

.PHONY: run test bench clean admin-password

run: $(DEPS)
	$(PY) -m webapp.local

test: $(DEPS) $(NODE_DEPS) $(LAMBDA_DEPS)
	scripts/ensure-system-packages
	scripts/private-network $(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEPS)
	scripts/ensure-system-packages
	$(PY) -m bench.all

admin-password: $(DEPS)
	@$(PY) -m webapp.admin.password

$(DEPS): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# What `zappa package` sees: the runtime requirements and zappa, nothing else.
$(LAMBDA_DEPS): requirements.txt requirements-deploy.txt
	$(PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-deploy.txt
	touch $@

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) node_modules .pytest_cache
