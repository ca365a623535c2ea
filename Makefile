# Satu untuk Satu — the two commands: `make run` and `make test` (and `make install`).
# Every target is idempotent and quick when nothing changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NPM    := $(shell command -v npm 2>/dev/null)
ARGS   ?=

.PHONY: install run test lint help

help:
	@echo "make install  - .venv/ with every dependency group (runtime, local, dev, bench), front-end assets (npm)"
	@echo "make run      - the app on http://127.0.0.1:8000 with demo data (Ctrl-C stops all)"
	@echo "make test     - ruff, lint-imports, mypy, then pytest: unit tests, schemathesis, browser tests (make test ARGS='-k tenancy -x')"
	@echo "make lint     - ruff only"

# Python: reinstalled when pyproject.toml changes (its sha256 is kept in a stamp file).
# Front end: `npm ci` when package.json / package-lock.json change (also a stamp).
install:
	@test -x $(BIN)/python || { echo "==> Creating $(VENV)/ ($(PYTHON) -m venv)"; $(PYTHON) -m venv $(VENV); }
	@want=$$(cat pyproject.toml | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat $(VENV)/.satu-installed 2>/dev/null)" != "$$want" ]; then \
		echo "==> Installing Python dependencies into $(VENV)/ (pip install -e '.[local,dev,bench]')"; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[local,dev,bench]' \
			&& echo "$$want" > $(VENV)/.satu-installed; \
	fi
ifneq ($(NPM),)
	@want=$$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat node_modules/.satu-installed 2>/dev/null)" != "$$want" ]; then \
		echo "==> Installing front-end assets into node_modules/ (npm)"; \
		if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
		else npm install --no-audit --no-fund --loglevel=error; fi \
			&& echo "$$want" > node_modules/.satu-installed; \
	fi
else
	@test -d node_modules || echo "==> WARNING: npm not found: htmx is not installed (install Node.js and run make install again)"
endif

# config.settings.dev whatever the shell exports; another: make run SATU_SETTINGS=config.settings.prod
run: install
	@$(BIN)/python -m scripts.run

test: install
	@$(BIN)/python -m scripts.test $(ARGS)

lint: install
	@$(BIN)/ruff check .
