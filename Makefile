# `make report` builds .venv with what reporting needs and renders every case report; `make test` adds the
# test tools and runs every test; `make docs` builds the documentation site into site/ (--strict). Each builds
# .venv once, and again when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPORT_STAMP := $(VENV)/.installed-report
TEST_STAMP := $(VENV)/.installed-test
DOCS_STAMP := $(VENV)/.installed-docs
CASES ?= cases

.PHONY: test test-fast report docs env clean

env: $(TEST_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(REPORT_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $(REPORT_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $(REPORT_STAMP) $(TEST_STAMP)

$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[docs]'
	touch $(REPORT_STAMP) $(DOCS_STAMP)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# The quick loop while working: every test but those marked slow (CI runs them all, through `make test`).
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not slow"

# Reports for readers, without code (casekit render's default). Every valid case is rendered even when some are invalid;
# those are listed (FAILED ... invalid case: ...) and make exits non-zero.
report: $(REPORT_STAMP)
	$(BIN)/casekit render $(CASES) --out reports --jobs 2; status=$$?; echo "open reports/index.html"; exit $$status

# The documentation site; --strict makes a broken link, anchor or API reference an error.
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) reports site
