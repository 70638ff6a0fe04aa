# LinkFM: the two set-up commands are `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
# Debian packages the tests and the demo use (real servers on loopback, headless browser).
DEB_PACKAGES ?= victoria-metrics chromium
PYTEST_ARGS ?=
STAMP := $(VENV)/.install-stamp

.PHONY: test demo install deb schemas lint typecheck bench clean

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/linkfm demo

install: deb $(STAMP)

# Re-installs only when the project's dependency files change (idempotent).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e '.[dev,sim,ric]'
	@# ricxappframe 3.2.2 pins protobuf<3.21 (unused by the parts we import): no deps.
	$(PIP) install --no-deps ricxappframe==3.2.2
	@touch $(STAMP)

deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "missing Debian packages; run as root: apt-get update && apt-get install -y$$missing"; \
	  if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# Regenerate the protobuf/gRPC Python and the compiled KPM ASN.1 module from schemas/.
schemas: install
	$(PY) -m schemas.build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy xapp model e2sim bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis runs
