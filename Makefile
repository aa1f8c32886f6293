# The README's two commands, `make demo` and `make test`, do the whole set-up
# on a fresh machine: a virtual environment in .venv with embedforge and its
# dependencies installed.  `make bench` runs the benchmarks against the peers
# (`make bench-quick`: the short configurations only).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The public data sets: ../shared/data beside the checkout when present
# (CI and the team's machines); otherwise datasets download what they can.
SHARED := $(abspath ../shared/data)
export EMBEDFORGE_DATA_DIR ?= $(if $(wildcard $(SHARED)/README.md),$(SHARED),)

.PHONY: install demo test bench bench-time bench-peers bench-quick bench-long bench-pg-1m lint format clean fuzz explorer

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

# Each script runs our code and its peer on the same data and threads in one run and
# rewrites its own section of BENCHMARKS.md (the settings below are the ones that made
# the recorded sections).  `make bench` takes about 7 h on 2 cores: bench-long,
# the 17.0M-token configurations, about 4 h 30 min; bench-quick, the rest, about 2 h 30 min
# (an estimate: the recommendation, kd-tree, image, neural, floor, graph, notes,
# PostgreSQL and WEAT scripts are not yet timed in one run; the WEAT script first trains
# its word2vec, fastText and GloVe models into runs/weat when they are missing).
# BENCH_REPEATS: interleaved rounds (one seed each) of the headline comparisons.
BENCH_REPEATS ?= 3
BENCH := $(BIN)/python benchmarks

bench: bench-quick bench-long

# The run time each recorded section took (from its Commit: line), summed.
bench-time: $(STAMP)
	$(BIN)/python benchmarks/bench_time.py

bench-peers: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"

bench-quick: $(STAMP) bench-peers
	$(BENCH)/word2vec_vs_gensim.py --corpus text8_prefix --repeats $(BENCH_REPEATS)
	$(BENCH)/fasttext_vs_reference.py --corpus text8_prefix --repeats $(BENCH_REPEATS)
	$(BENCH)/document_vectors.py --repeats $(BENCH_REPEATS)
	$(BENCH)/search_compression.py --repeats $(BENCH_REPEATS)
	$(BENCH)/compression_curve.py --repeats $(BENCH_REPEATS)
	$(BENCH)/compression_curve.py --repeats $(BENCH_REPEATS) --threads 1
	$(BENCH)/collection_throughput.py --data scifact
	$(BENCH)/server_load.py
	$(BENCH)/engine_before_after.py --corpus text8_prefix --repeats $(BENCH_REPEATS)
	$(BENCH)/recommend_vs_implicit.py --seeds 3 --workers 2 --learning-rates 0.01,0.05
	$(BENCH)/recommend_vs_implicit.py --seeds 3 --workers 1 --learning-rates 0.05 --no-reference
	$(BENCH)/kdtree_vs_flat.py --n 50000 --queries 200 --repeats 2
	$(BENCH)/image_vs_pml.py
	$(BENCH)/neural_vs_word2vec.py --corpus text8_prefix --runs word2vec,negative-sampling --workers 1
	$(BENCH)/neural_vs_word2vec.py --corpus text8_prefix --runs word2vec,sampled-softmax --workers 1
	$(BENCH)/neural_vs_word2vec.py --corpus text8_prefix --runs word2vec,softmax --workers 1
	$(BENCH)/quality_floors.py --remeasure
	$(BENCH)/graph_quality.py
	$(BENCH)/node2vec_vs_pecanpy.py --graphs cora --modes PreComp,SparseOTF --repeats 2
	$(BENCH)/node2vec_vs_pecanpy.py --graphs blogcatalog --modes PreComp,SparseOTF --repeats 2
	$(BENCH)/notes_links.py --encoders tfidf,sif,minilm --chunks whole,128
	$(BENCH)/visual_semantic.py --corpus text8_prefix --w2v-epochs 1 --train-images 2000 --epochs 1 --batch-size 64 --threads 1
	$(BENCH)/sentence_finetune.py --train-pairs 256 --corpus-size 600 --max-seq-length 64 --lr 5e-5 --seeds 1,2,3 --skip-extras --skip-sts
	$(BENCH)/sentence_finetune.py --max-seq-length 64 --lr 5e-5 --sts-train-pairs 512 --skip-scifact

# GloVe runs one seed per configuration (about 80 minutes for the three).
bench-long: $(STAMP) bench-peers
	$(BENCH)/word2vec_vs_gensim.py --corpus enwiki2015_text8size --modes sg-ns,cbow-ns --repeats $(BENCH_REPEATS)
	$(BENCH)/word2vec_vs_gensim.py --corpus enwiki2015_text8size --modes sg-hs,cbow-hs --repeats $(BENCH_REPEATS)
	$(BENCH)/word2vec_vs_gensim.py --corpus enwiki2015_text8size --modes sg-ns-shared --repeats $(BENCH_REPEATS)
	$(BENCH)/fasttext_vs_reference.py --corpus enwiki2015_text8size --repeats $(BENCH_REPEATS)
	$(BENCH)/glove_quality.py --corpus enwiki2015_text8size --runs glove-50
	$(BENCH)/glove_quality.py --corpus enwiki2015_text8size --runs glove-100
	$(BENCH)/glove_quality.py --corpus enwiki2015_text8size --runs word2vec
	$(BENCH)/engine_before_after.py --corpus enwiki2015_text8size --modes cbow-ns,sg-ns --repeats $(BENCH_REPEATS)
	$(BENCH)/collection_postgres.py --n 100000
	$(BENCH)/visual_semantic.py --epochs 5 --threads 1
	$(BENCH)/weat_audit.py --models-dir runs/weat
	$(BENCH)/neural_vs_word2vec.py --corpus enwiki2015_text8size --runs word2vec,negative-sampling,sampled-softmax,softmax --workers 2 --max-minutes 5
	$(BENCH)/sentence_finetune.py --epochs 3 --lr 1e-4 --weights 1,1,1,2,2 --seeds 1,2,3 --skip-sts
	$(BENCH)/compression_curve.py --encoder runs/models/minilm-scifact-mrl --label minilm-scifact-mrl --title "all-MiniLM-L6-v2 fine-tuned on SciFact train, Matryoshka" --rotate-binary --repeats $(BENCH_REPEATS)

# The issue's scale run: 1M x 384 on both backends, for a quiet machine, unattended
# (progress and each phase's figures in bench-pg-1m.log).  Measured: 73 min on a quiet
# 2-core machine (benchmarks/collection_postgres.py docstring), several times longer on a
# loaded one; memory about 12 GB at peak, disk about 10 GB.
bench-pg-1m: $(STAMP)
	$(BENCH)/collection_postgres.py --n 1000000 2>&1 | tee bench-pg-1m.log

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
