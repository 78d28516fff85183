# The two commands of the README:
#   make run   set up everything, build the index if missing or stale, start the web chat
#              (flags pass through: make run ARGS='--port 8000 --threshold 0.4')
#   make test  set up everything, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ragcomm-installed

.PHONY: setup run index test browser axe clean

setup: $(STAMP)

# torch first, pinned: 2.13.0 is the CPU build on this machine's disk; an unpinned torch
# would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

index: setup
	$(BIN)/ragcomm index

ARGS ?=

run: index
	$(BIN)/python app.py $(ARGS)

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# axe-core (npm) for the accessibility check of the chat, in a folder the tests read; no CDN at test time.
AXE := tests/.axe/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	@command -v npm >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	mkdir -p tests/.axe && npm install --prefix tests/.axe --no-audit --no-fund --silent axe-core@4.10.3

test: setup browser axe
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf index .pytest_cache
