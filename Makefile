# The two commands in the README: `make run` (the site in local mode) and
# `make test` (the whole suite). Both set up everything they need first.

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
DEPS := $(VENV)/.deps-installed
INFRA_DEPS := $(VENV)/.infra-deps-installed
NODE_DEPS := node_modules/.deps-installed
BUNDLE := static/dist/manifest.json
LAMBDA_VENV := .venv-lambda
# The runtime's Python (python3.11 in zappa_settings.json) is in the stamp's name: the deploy
# writes the stack's outputs into that file, which must not rebuild the virtualenv; another
# runtime must.
LAMBDA_PYTHON := $(shell sed -n 's/^ *"runtime": *"python\([0-9.]*\)".*/\1/p' zappa_settings.json | head -n 1)
LAMBDA_DEPS := $(LAMBDA_VENV)/.deps-installed-python$(LAMBDA_PYTHON)

.PHONY: run test bench clean admin-password rehearse

run: $(DEPS) $(BUNDLE)
	scripts/ensure-system-packages
	$(PY) -m webapp.local

test: $(DEPS) $(INFRA_DEPS) $(NODE_DEPS) $(LAMBDA_DEPS) $(BUNDLE)
	scripts/ensure-system-packages
	scripts/private-network $(PY) -m pytest $(PYTEST_ARGS)

# The deploy rehearsed: `make deploy`'s own steps, twice, against moto's server on loopback
# (tests/deploy/test_rehearsal.py; `make test` runs it too).
rehearse: $(DEPS) $(INFRA_DEPS) $(NODE_DEPS) $(LAMBDA_DEPS) $(BUNDLE)
	scripts/private-network $(PY) -m pytest tests/deploy/test_rehearsal.py $(PYTEST_ARGS)

bench: $(DEPS)
	scripts/ensure-system-packages
	$(PY) -m bench.all

admin-password: $(DEPS)
	@$(PY) -m webapp.admin.password

$(DEPS): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# aws-cdk-lib and cfn-lint, in the same virtualenv: `make synth` and the infra tests use them.
$(INFRA_DEPS): requirements-infra.txt $(DEPS)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

# Every stage's CloudFormation template, in infra/cdk.out/<stage>/: offline, no AWS credentials,
# a placeholder CloudFront key (infra/synth.py). SYNTH_ARGS adds e.g. `-c alarmEmail=ops@example.com`.
.PHONY: synth
synth: $(INFRA_DEPS)
	$(PY) -m infra.synth --outdir infra/cdk.out $(SYNTH_ARGS)

# The Lambda package is built from two virtualenvs. $(ZAPPA_VENV) runs the zappa command (its
# dependencies, built for this machine, are never shipped). $(LAMBDA_VENV) is what `zappa package`
# zips (VIRTUAL_ENV points at it): requirements.txt from manylinux2014 wheels (glibc 2.17, so they
# load on Lambda's Amazon Linux) for the runtime's Python in zappa_settings.json, never this
# machine's wheels, and zappa and durationpy without dependencies for the package's handler.py.
# zappa_settings.json sets use_precompiled_packages to false, so Zappa keeps these wheels and
# never looks anything up on PyPI.
ZAPPA_VENV := .venv-zappa
ZAPPA_DEPS := $(ZAPPA_VENV)/.deps-installed
LAMBDA_PIP_INSTALL = $(ZAPPA_VENV)/bin/pip install --quiet --disable-pip-version-check --no-compile \
	--platform manylinux2014_x86_64 --implementation cp --python-version $(LAMBDA_PYTHON) --only-binary=:all:

.PHONY: lambda-venv deploy
lambda-venv: $(LAMBDA_DEPS)

$(ZAPPA_DEPS): requirements-deploy.txt
	$(PYTHON) -m venv $(ZAPPA_VENV)
	$(ZAPPA_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-deploy.txt
	touch $@

$(LAMBDA_DEPS): requirements.txt requirements-deploy.txt | $(ZAPPA_DEPS)
	@test -n "$(LAMBDA_PYTHON)" || { echo "zappa_settings.json names no python3.x runtime" >&2; exit 1; }
	rm -rf $(LAMBDA_VENV)
	$(PYTHON) -m venv --without-pip $(LAMBDA_VENV)
	site="$$($(LAMBDA_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" && \
	$(LAMBDA_PIP_INSTALL) --target "$$site" -r requirements.txt && rm -rf "$$site/bin" && \
	$(LAMBDA_PIP_INSTALL) --target "$$site" --no-deps -r requirements-deploy.txt && rm -rf "$$site/bin"
	touch $@

# From an empty AWS account to a running site (README, "Deploying to AWS"), each step safe to
# run again: make deploy STAGE=production [DOMAIN=media.example.com HOSTED_ZONE=example.com
# ALARM_EMAIL=ops@example.com REGION=us-east-1 MALWARE_SCAN=guardduty VIDEO_RENDITIONS=mediaconvert];
# DRY_RUN=1 prints the commands only.
deploy: $(DEPS) $(INFRA_DEPS) $(NODE_DEPS) $(BUNDLE)
	$(PY) -m infra.deploy --stage "$(STAGE)" $(if $(REGION),--region "$(REGION)") \
		$(if $(DOMAIN),--domain "$(DOMAIN)") $(if $(HOSTED_ZONE),--hosted-zone "$(HOSTED_ZONE)") \
		$(if $(ALARM_EMAIL),--alarm-email "$(ALARM_EMAIL)") $(if $(filter guardduty,$(MALWARE_SCAN)),--malware-scan) \
		$(if $(filter mediaconvert,$(VIDEO_RENDITIONS)),--video-renditions) $(if $(DRY_RUN),--dry-run)

# The upload page's script and styles (Uppy and frontend/), content-hashed into static/dist/.
$(BUNDLE): $(NODE_DEPS) $(wildcard frontend/*)
	node frontend/build.mjs

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) $(ZAPPA_VENV) node_modules .pytest_cache infra/cdk.out
