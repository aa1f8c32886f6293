# The README's two commands, `make demo` and `make test`, do the whole set-up
# on a fresh machine: a virtual environment in .venv with embedforge and its
# dependencies installed.  `make bench` runs the benchmarks against the peers.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The public data sets: ../shared/data beside the checkout when present
# (CI and the team's machines); otherwise datasets download what they can.
SHARED := $(abspath ../shared/data)
export EMBEDFORGE_DATA_DIR ?= $(if $(wildcard $(SHARED)/README.md),$(SHARED),)

.PHONY: install demo test bench lint format clean fuzz explorer

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch (a plain `torch` requirement pulls several GB of CUDA packages).
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/word2vec_demo.py

test: $(STAMP)
	$(BIN)/python -m pytest

# Each script runs our code and its peer on the same data in one run and
# appends its table to BENCHMARKS.md (about two hours in all on 2 cores).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/word2vec_vs_gensim.py
	$(BIN)/python benchmarks/fasttext_vs_reference.py
	$(BIN)/python benchmarks/glove_quality.py
	$(BIN)/python benchmarks/document_vectors.py
	$(BIN)/python benchmarks/search_compression.py
	$(BIN)/python benchmarks/collection_throughput.py
	$(BIN)/python benchmarks/server_load.py
	$(BIN)/python benchmarks/engine_before_after.py --corpus text8_prefix --repeats 3
	$(BIN)/python benchmarks/recommend_vs_implicit.py --seeds 3 --learning-rates 0.01,0.05

# The readers' fuzz test (tests/test_fuzz_readers.py) with many more mutated files per
# reader than `make test` tries; prints how many cases each reader tried.  About 5-10
# minutes on 2 cores with the default FUZZ_EXAMPLES (collections try a quarter as many).
FUZZ_EXAMPLES ?= 600
fuzz: $(STAMP)
	EMBEDFORGE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider \
		tests/test_fuzz_readers.py

# The explorer's page (src/embedforge/explore/static), built once from the pinned npm
# packages and committed with their licences; needs Node.js and npm only here, never at run time.
EXPLORER := src/embedforge/explore/frontend
explorer:
	cd $(EXPLORER) && npm ci --no-audit --no-fund && npm run build

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
