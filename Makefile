# backcheck: the two commands a newcomer needs are `make chat` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Dependencies are locked, with hashes: requirements.lock (what runs; the Dockerfile uses
# it) and requirements-dev.lock (that plus the test and lint tools). `make lock` adds what
# pyproject.toml newly asks for and keeps every other pin; `make lock UPGRADE=1` moves
# every pin to the newest release allowed.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# the build backend (setuptools) the Dockerfile builds the wheel with
BUILD_LOCK := requirements-build.lock
COMPILE = $(BIN)/pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links \
	--strip-extras $(if $(UPGRADE),--upgrade)

.PHONY: chat chat-sv web test lint bench graph pictures clean lock

$(STAMP): pyproject.toml $(DEV_LOCK)
	test -d $(VENV) || $(PY) -m venv $(VENV)
	@echo "Installing backcheck and its dependencies into $(VENV) (log: $(VENV)/install.log)..."
	@$(BIN)/pip install -q --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/pip install -q --require-hashes -r $(DEV_LOCK) >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/pip install -q --no-deps -e . >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

lock:
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q pip-tools
	$(COMPILE) -o $(LOCK) pyproject.toml
	$(COMPILE) --extra dev -c $(LOCK) -o $(DEV_LOCK) pyproject.toml
	$(COMPILE) --allow-unsafe --only-build-deps --build-deps-for wheel -o $(BUILD_LOCK) pyproject.toml

chat: $(STAMP)
	$(BIN)/backcheck chat $(ARGS)

chat-sv: $(STAMP)
	$(BIN)/backcheck chat --lang sv $(ARGS)

# `make web` is a try-out on this machine: the key is BACKCHECK_SECRET_KEY from the
# environment or .env, else the terminal's own key file (the one `make chat` uses).
LOCAL_KEY := import os; from bot.config import load_env_file; \
	from bot.keys import key_file, read_or_create; load_env_file(); \
	print(os.environ.get("BACKCHECK_SECRET_KEY", "").strip() or read_or_create(key_file()))

web: $(STAMP)
	BACKCHECK_SECRET_KEY="$$($(BIN)/python -c '$(LOCAL_KEY)')" \
		$(BIN)/backcheck web --host 127.0.0.1 --port 8080 $(ARGS)

# The tests never read your .env (tests/conftest.py); nor does the flow's lint here.
test: $(STAMP)
	BACKCHECK_ENV_FILE=/dev/null $(BIN)/backcheck lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	BACKCHECK_ENV_FILE=/dev/null $(BIN)/backcheck lint
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy bot

bench: $(STAMP)
	$(BIN)/python -m bench

graph: $(STAMP)
	$(BIN)/backcheck graph > flows/back_pain.mmd

# The phone screenshots docs/ shows, taken by the browser test of a whole check. `make
# test` takes them too, but into its own tmp directory: no test writes a tracked file.
pictures: $(STAMP)
	$(BIN)/python -m pytest tests/test_web_browser.py --pictures docs \
		-k "self_care_check_on_a_phone and en-GB"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
