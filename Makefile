# Two commands do all setup on a fresh machine: `make chat` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama-cpp-python builds from source; the default build uses instructions (AMX) this CPU lacks.
export CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install chat test lint browser clean stress bench scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[llm,dev]'
	touch $(STAMP)

install: $(STAMP)

chat: install
	$(BIN)/kvisa chat

# Debian's chromium for the browser tests (playwright cannot download browsers here), and a CJK font
# so Chinese answers render in screenshots instead of empty boxes.
browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wenquanyi; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei; \
	else echo "chromium or a CJK font is missing and we are not root: browser tests may be skipped"; fi

test: install browser
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

# Not part of `make test` (about 27 minutes): 100 random kills of ingest, add, update and remove, against
# the embedded store and against a `chroma run` server (eval/results/stress_kills_*.json); then 50 chat users
# for 60 s while documents are added through the chat (eval/results/chat_load.json).
stress: install
	$(BIN)/python eval/stress_kills.py --trials 100
	$(BIN)/python eval/stress_kills.py --trials 100 --server --seed 1
	home=$$(mktemp -d) && KVISA_HOME=$$home $(BIN)/kvisa ingest && \
	KVISA_HOME=$$home $(BIN)/python eval/bench_chat.py --users 50 --seconds 60 --ingest; \
	status=$$?; rm -rf $$home; exit $$status

# Not part of `make test`: web chat and API speed under concurrent users, and the page in chromium after start;
# figures in eval/results/
bench: install
	home=$$(mktemp -d) && KVISA_HOME=$$home $(BIN)/kvisa ingest && \
	KVISA_HOME=$$home $(BIN)/python eval/bench_chat.py --users 1 5 20 50 && \
	KVISA_HOME=$$home $(BIN)/python eval/bench_api.py && \
	KVISA_HOME=$$home $(BIN)/python eval/bench_eval_tab.py && \
	$(BIN)/python eval/bench_page_ready.py --home $$home; \
	status=$$?; rm -rf $$home; exit $$status

# Not part of `make test`: the index at 1k, 10k and 100k chunks of synthetic policy notices, embedded and on a
# `chroma run` server (eval/bench_scale.py; eval/results/scale.{json,md,png}). Embedding dominates: at about
# 50 texts/s on 2 cores, 100k chunks (~450k chunks and units) take hours. `make scale SIZES="1000 10000"` runs small;
# `make scale SIZES=100000 SCALE_ARGS="--modes embedded --synthetic-vectors"`: all but the encoder at 100k, still over
# 1.5 hours here (the ingest outside the encoder slows as the index grows; README, At scale).
SIZES ?= 1000 10000 100000
scale: install
	$(BIN)/python eval/bench_scale.py --sizes $(SIZES) $(SCALE_ARGS)

clean:
	rm -rf .kvisa test-output
