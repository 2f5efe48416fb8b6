# `make test` and `make report` each build .venv first (once, and again when
# pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CASES ?= cases

.PHONY: test report env clean

env: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

report: $(STAMP)
	$(BIN)/casekit validate $(CASES)
	$(BIN)/casekit render $(CASES) --out reports --jobs 2
	@echo "open reports/index.html"

clean:
	rm -rf $(VENV) reports
