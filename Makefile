# Works on a fresh clone with only Python 3.11+ and pip: uv is bootstrapped if missing.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench clean

install: $(BIN)/newsmon

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/newsmon: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

demo: install
	$(BIN)/newsmon demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy crawler monitor

bench: install
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/events.py --write
	$(BIN)/python bench/soak.py --seconds 60

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
