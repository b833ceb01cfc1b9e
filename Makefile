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

.PHONY: setup setup-test system-test-deps run ask index test lint typecheck bench clean

$(STAMP): pyproject.toml
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

setup: $(STAMP)

setup-test: $(TEST_STAMP) system-test-deps

# Debian's Chromium (and CJK fonts) for the browser test; Playwright drives it, nothing is downloaded.
system-test-deps:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto sans cjk" || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

run: setup
	$(BIN)/review-assistant model build
	$(BIN)/review-assistant index
	$(BIN)/review-assistant serve --host $(HOST) --port $(PORT)

ask: setup
	$(BIN)/review-assistant ask "$(Q)"

index: setup
	$(BIN)/review-assistant index

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	REVIEW_ASSISTANT_REQUIRE_LOCAL_LLM=1 $(BIN)/pytest

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
