# backcheck: the two commands a newcomer needs are `make chat` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat chat-sv web test lint bench graph clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	@echo "Installing backcheck and its dependencies into $(VENV) (log: $(VENV)/install.log)..."
	@$(BIN)/pip install -q --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/pip install -q -e '.[dev]' >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

chat: $(STAMP)
	$(BIN)/backcheck chat $(ARGS)

chat-sv: $(STAMP)
	$(BIN)/backcheck chat --lang sv $(ARGS)

web: $(STAMP)
	$(BIN)/backcheck web --host 127.0.0.1 --port 8080 $(ARGS)

test: $(STAMP)
	$(BIN)/backcheck lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/backcheck lint
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy bot

bench: $(STAMP)
	$(BIN)/python -m bench

graph: $(STAMP)
	$(BIN)/backcheck graph > flows/back_pain.mmd

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
