# Works on a fresh clone with only Python 3.11+ and pip: uv is bootstrapped if missing.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install browser demo test lint bench bench-quick clean

install: $(BIN)/newsmon

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/newsmon: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

demo: install
	$(BIN)/newsmon demo

# The browser tests drive Debian's chromium (no browser download). Installed here when
# missing; where apt cannot (no root, no apt) this warns and the tests go on: the browser
# tests then fail with a message saying how to get one (NEWSMON_CHROMIUM names another).
CHROMIUM ?= /usr/bin/chromium
APT := $(if $(filter 0,$(shell id -u)),apt-get,sudo -n apt-get)

browser:
	@[ -x "$(CHROMIUM)" ] || [ -n "$$NEWSMON_CHROMIUM" ] || \
	  { DEBIAN_FRONTEND=noninteractive $(APT) install -y --no-install-recommends chromium \
	    || { $(APT) update && DEBIAN_FRONTEND=noninteractive $(APT) install -y --no-install-recommends chromium; } \
	    || echo "warning: could not install chromium (apt-get install chromium): the browser tests will fail"; }

test: install browser
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy crawler monitor

# Every figure of BENCHMARKS.md's generated sections, measured in one run (`bench-quick`:
# the same measurements, smaller, in under five minutes).
BENCHES := extraction matcher startup events crawl soak

bench: install
	for b in $(BENCHES); do $(BIN)/python bench/$$b.py --write || exit 1; done

bench-quick: install
	for b in $(BENCHES); do $(BIN)/python bench/$$b.py --quick --write || exit 1; done

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
