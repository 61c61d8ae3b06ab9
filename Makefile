# Two commands for a newcomer: `make run` (app on the bundled corpus) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run ingest test test-slow lint bench eval clean system-deps

# CPU torch is pinned first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

ingest: install
	$(BIN)/ipqa ingest corpus/

run: ingest
	$(BIN)/ipqa serve

# Debian chromium for the browser tests (no browser download: Playwright drives /usr/bin/chromium).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "note: install Debian 'chromium' to run the browser tests"; }

test: install system-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -m "not slow"

# The end-to-end browser tests and the 60-second load test (CI runs them after `make test`).
test-slow: install system-deps
	$(BIN)/python -m pytest -m slow

# The citation-accuracy eval over ../shared/corpus, failing below eval/thresholds.toml (run by CI too).
eval: install
	$(BIN)/ipqa --data-dir .ipqa eval --corpus ../shared/corpus --gate eval/thresholds.toml

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf .ipqa
