# cxbill — the targets a newcomer would guess. Every target sets itself up first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/cfn-lint template.yaml
	$(BIN)/ruff check .
	$(BIN)/pytest

demo: install
	$(BIN)/cxbill demo --out out/demo

bench: install
	$(BIN)/python tests/benchmarks/run.py --out bench-results $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/cxbill/cxbill
	$(BIN)/cfn-lint template.yaml

clean:
	rm -rf $(VENV) out bench-results .pytest_cache .ruff_cache .mypy_cache
