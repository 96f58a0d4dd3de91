# Two commands do all the set-up: `make run` serves Dossier, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE ?= 1

.PHONY: run test install

run: $(STAMP)
	$(BIN)/dossier ingest data/articles
	$(BIN)/dossier serve

test: $(STAMP)
	$(BIN)/pytest

install: $(STAMP)

# torch first and pinned: any other version resolves to the CUDA build (gigabytes).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]' torch==2.13.0
	touch $(STAMP)
