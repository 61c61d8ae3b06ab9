# Two commands for a newcomer: `make run` (app on the bundled corpus) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# PyTorch's CPU wheels, tried only when pip's own indexes have no `torch==…+cpu` (PyPI's Linux torch is the CUDA build).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run ingest test test-slow test-all lint bench eval clean system-deps lock lock-upgrade

# Every version comes from requirements.lock (compiled by `make lock`); CPU torch goes first, so nothing pulls a CUDA build.
$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements.lock torch || $(BIN)/pip install -q -c requirements.lock torch --extra-index-url $(TORCH_INDEX)
	$(BIN)/pip install -q -c requirements.lock -e '.[test]'
	# Export the bundled model to ONNX once (cached under ~/.cache/ipqa), so the first question does not wait for it.
	$(BIN)/python -c "from ipqa.embedding import Embedder; from ipqa.settings import Settings; Embedder(Settings()).embed_query('warm up')" \
	  || echo "note: the ONNX export failed; the first question will retry it (or set IPQA_EMBED_BACKEND=torch)"
	touch $@

install: $(BIN)/.installed

# requirements.lock pins what the venv was tested with (after you pip-installed a new dependency and added it to pyproject.toml).
# `make lock-upgrade` instead resolves the newest versions pyproject.toml allows: run the tests before committing it.
LOCK_PY    = $(shell $(BIN)/python -c 'import platform; print(platform.python_version())')
LOCK_LINKS = $(foreach f,$(shell $(BIN)/pip config get global.find-links 2>/dev/null),--find-links $(f))
LOCK_IDX   = $(foreach u,$(shell $(BIN)/pip config get global.extra-index-url 2>/dev/null),--extra-index-url $(u))
LOCK_ARGS  = pyproject.toml --extra test --extra eval --extra llm --python-version $(LOCK_PY) --python-platform x86_64-manylinux_2_28 \
             --index-strategy unsafe-best-match --no-header --no-annotate $(LOCK_LINKS) $(LOCK_IDX) -o requirements.lock
lock:
	$(BIN)/pip install -q uv
	$(BIN)/pip freeze --exclude-editable | grep -v '^uv==' > $(VENV)/tested.txt
	$(BIN)/uv pip compile $(LOCK_ARGS) -c $(VENV)/tested.txt

lock-upgrade:
	$(BIN)/pip install -q uv
	echo 'torch==2.13.0+cpu' > $(VENV)/torch.txt
	$(BIN)/uv pip compile $(LOCK_ARGS) --upgrade -c $(VENV)/torch.txt

ingest: install
	$(BIN)/ipqa ingest corpus/

run: ingest
	$(BIN)/ipqa serve

# Debian chromium for the browser tests (no browser download: Playwright drives /usr/bin/chromium).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "note: install Debian 'chromium' to run the browser tests"; }

lint: install
	$(BIN)/ruff check src tests benchmarks

# The fast tier (the README's test command): everything not marked slow, a few minutes on two cores.
test: install lint
	$(BIN)/python -m pytest -m "not slow"

# The slow tier: browser tests, load test, servers, whole-document model checks, crash runs.
test-slow: install system-deps
	$(BIN)/python -m pytest -m slow

# Both tiers (CI): `make test`, then the slow tests.
test-all: test test-slow

# The citation-accuracy eval over ../shared/corpus, failing below eval/thresholds.toml (run by CI too).
eval: install
	$(BIN)/ipqa --data-dir .ipqa eval --corpus ../shared/corpus --gate eval/thresholds.toml

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf .ipqa
