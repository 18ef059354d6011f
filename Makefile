# cxbill — the targets a newcomer would guess. Every target sets itself up first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test test-fast chaos demo bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# checkov (the [scan] extra in pyproject.toml) lives in a venv of its own: its exact boto3 pin
# must not change the project's. Findings it still reports are suppressed in template.yaml.
SCAN := $(VENV)/scan
$(SCAN)/.installed: pyproject.toml
	test -x $(SCAN)/bin/python || $(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["scan"], sep="\n")' > $(SCAN)/requirements.txt
	$(SCAN)/bin/python -m pip install --quiet -r $(SCAN)/requirements.txt
	touch $@

test: install $(SCAN)/.installed
	$(BIN)/cfn-lint template.yaml
	$(SCAN)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/cxbill/cxbill
	$(BIN)/pytest

# The pure domain and the jobs on in-memory fakes: no moto, no network, well under a minute.
test-fast: install
	$(BIN)/pytest tests/unit tests/jobs

# Chaos replays (SPEC 10) over more seeds than make test runs.
chaos: install
	CXBILL_CHAOS_SEEDS=20 $(BIN)/pytest tests/e2e/test_chaos.py tests/e2e/test_faults.py -rxX

demo: install
	$(BIN)/cxbill demo --out out/demo

bench: install
	$(BIN)/python tests/benchmarks/run.py --out bench-results $(BENCH_ARGS)
	$(BIN)/python tests/benchmarks/pdf_rate.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/cxbill/cxbill
	$(BIN)/cfn-lint template.yaml

clean:
	rm -rf $(VENV) out bench-results .pytest_cache .ruff_cache .mypy_cache
