# Two commands set everything up: `make run` and `make test`. Both are idempotent.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# where the app listens: this machine only by default (the demo users' password is `demo`);
# ADDRESS=0.0.0.0 exposes it (docs/security.md)
ADDRESS ?= 127.0.0.1

.PHONY: run test test-fast bench seed clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

run: $(VENV)/.base
	$(PY) -m seed.bootstrap
	$(VENV)/bin/streamlit run dashboard/server.py --server.port $(PORT) --server.address $(ADDRESS)

# One worker per core and one more: the browser tests' worker mostly waits for the page. Tests are
# handed out one at a time, so that a long one does not end up last behind a batch.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := $(PY) -m pytest -n $(WORKERS) --dist loadgroup --maxschedchunk 1

# `make test SLOW=1` then runs the tests marked slow, alone (CI: .ci/run): the browser crawl beside
# three busy workers lost a download now and then
test: $(VENV)/.dev
	$(PYTEST) -m "not slow"
	$(if $(SLOW),$(PY) -m pytest -m slow)

# the inner loop: no browser, nothing marked slow
test-fast: $(VENV)/.dev
	$(PYTEST) -m "not browser and not slow"

$(VENV)/.bench: $(VENV)/.dev
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench
	$(PY) -m bench $(BENCH_ARGS)

seed: $(VENV)/.base
	$(PY) -m seed --replace

clean:
	rm -rf $(VENV) data/appeals.sqlite* .test-cache
