# Two entry points: `make run` (set up, build the index if missing or stale, start the web chat)
# and `make test` (set up, run the whole test suite). Everything lives in .venv/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Elsewhere, point this at a PyTorch CPU wheel index (see README) to avoid the CUDA build.
TORCH_INDEX ?=

.PHONY: install index run test bench eval chromium clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(BIN)/pip install torch==2.13.0 --index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	# the ONNX model the configured encoder needs, exported once (offline); nothing for torch-fp32
	$(BIN)/python -m assistant.onnx_model
	touch $(STAMP)

install: $(STAMP)

# exit code 4 = index built but some corpus files were skipped (listed in the output)
index: install
	$(BIN)/peerqa ingest || [ $$? -eq 4 ]

run: index
	$(BIN)/peerqa serve

# Browser tests need Debian's chromium; install it when we can (root), else say how.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests." >&2; exit 1; fi; \
	fi

test: install chromium
	$(BIN)/python -m pytest -q

eval: index
	$(BIN)/peerqa eval --plot artifacts/eval.png --json artifacts/eval.json

bench: index
	$(BIN)/peerqa bench ingest
	$(BIN)/peerqa bench query

clean:
	rm -rf $(VENV) index/v-* index/CURRENT artifacts .pytest_cache
