"""Mean and SIF document vectors over word Embeddings, against plain reference loops."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from embedforge import (
    Embeddings,
    InvalidParameterError,
    MeanEncoder,
    NotFittedError,
    SIFEncoder,
    Word2Vec,
)
from embedforge.text.docvectors import load_encoder_dir
from embedforge.text.tokenize import tokenize

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    keys = ["the", "king", "queen", "apple", "orange", "ruled", "ate"]
    counts = [1000, 30, 20, 15, 10, 5, 3]
    return Embeddings(keys, rng.normal(size=(7, 6)).astype(np.float32), counts=counts)


@pytest.fixture(scope="module")
def text8_vectors():
    model = Word2Vec(dim=24, epochs=2, min_count=3, workers=1, seed=1, progress=False)
    return model.fit(DATA / "text8_head.txt").wv


TEXTS = ["The King ruled.", "the queen ate an orange", "Apple, apple, ORANGE!", "nothing known"]


def _reference_mean(wv, text):
    rows = [wv[w] for w in tokenize(text) if w in wv]
    return np.mean(rows, axis=0) if rows else np.zeros(wv.dim)


def _reference_sif(wv, texts, reference_texts, a):
    """Arora et al.'s algorithm written out: weighted means, then remove the first PC."""
    p = wv.counts / wv.counts.sum()

    def weighted(text):
        words = [w for w in tokenize(text) if w in wv]
        if not words:
            return np.zeros(wv.dim)
        return np.mean([a / (a + p[wv.index(w)]) * wv[w] for w in words], axis=0)

    ref = np.array([weighted(t) for t in reference_texts])
    ref = ref[np.abs(ref).sum(axis=1) > 0]
    u = np.linalg.svd(ref, full_matrices=False)[2][0]
    out = np.array([weighted(t) for t in texts])
    return out - np.outer(out @ u, u)


def test_mean_encoder_equals_the_mean_of_known_word_vectors(tiny, caplog):
    encoder = MeanEncoder(tiny, normalize=False)
    with caplog.at_level(logging.WARNING, logger="embedforge.text.docvectors"):
        vectors = encoder.encode(TEXTS, batch_size=3)
    expected = np.array([_reference_mean(tiny, t) for t in TEXTS])
    assert vectors.shape == (4, 6) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert not vectors[3].any()
    assert ["1 of 4 texts have no word" in r.getMessage() for r in caplog.records] == [True]
    unit = MeanEncoder(tiny).encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(unit[:3], axis=1), 1.0, atol=1e-6)
    assert encoder.dim == 6 and MeanEncoder(tiny).normalize is True


def test_sif_equals_the_reference_algorithm(tiny):
    reference_texts = ["the king ate", "the queen ruled the king", "apple orange", "the apple"]
    sif = SIFEncoder(tiny, a=1e-2, normalize=False).fit(reference_texts)
    expected = _reference_sif(tiny, TEXTS, reference_texts, a=1e-2)
    np.testing.assert_allclose(sif.encode(TEXTS), expected, atol=1e-5)
    # the removed direction is orthogonal to every output
    np.testing.assert_allclose(sif.encode(TEXTS) @ sif.components_[0], 0.0, atol=1e-5)
    assert sif.components_.shape == (1, 6) and sif.components_.dtype == np.float32


def test_sif_weights_down_frequent_words(tiny):
    sif = SIFEncoder(tiny, a=1e-3, n_components=0, normalize=False)
    p_the = 1000 / 1083
    np.testing.assert_allclose(
        sif.encode(["the"])[0], 1e-3 / (1e-3 + p_the) * tiny["the"], rtol=1e-5
    )


def test_sif_counts_can_be_given(tiny):
    no_counts = Embeddings(tiny.keys, tiny.vectors)
    with pytest.raises(InvalidParameterError, match="SIF needs word frequencies"):
        SIFEncoder(no_counts).fit(["the king"])
    counts = dict(zip(tiny.keys, tiny.counts.tolist(), strict=True))
    by_mapping = SIFEncoder(no_counts, counts=counts, n_components=0).encode(TEXTS)
    by_array = SIFEncoder(no_counts, counts=tiny.counts, n_components=0).encode(TEXTS)
    own = SIFEncoder(tiny, n_components=0).encode(TEXTS)
    np.testing.assert_array_equal(by_mapping, own)
    np.testing.assert_array_equal(by_array, own)
    with pytest.raises(InvalidParameterError, match=r"array of shape \(7,\)"):
        SIFEncoder(no_counts, counts=[1, 2]).encode(TEXTS)


def test_sif_needs_fit_unless_removal_is_off(tiny):
    with pytest.raises(NotFittedError, match="call fit"):
        SIFEncoder(tiny).encode(["the king"])
    assert SIFEncoder(tiny, n_components=0).encode(["the king"]).shape == (1, 6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"a": 0}, "a must be a number > 0"),
        ({"n_components": 7}, r"n_components must be an integer in \[0, dim=6\]; got 7"),
        ({"token_pattern": "("}, "is not a valid regular expression"),
        ({"normalize": "yes"}, "normalize must be True or False"),
    ],
)
def test_invalid_parameters(tiny, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        SIFEncoder(tiny, **kwargs).fit(["the king"])


def test_wv_must_be_embeddings():
    with pytest.raises(InvalidParameterError, match="wv must be an embedforge Embeddings"):
        MeanEncoder(np.zeros((3, 2))).encode(["a"])


@pytest.mark.parametrize("pooling", ["mean", "sif"])
def test_save_load_is_exact_and_self_contained(tiny, tmp_path, pooling):
    if pooling == "mean":
        encoder = MeanEncoder(tiny, lowercase=False)
    else:
        encoder = SIFEncoder(tiny, a=3e-3).fit(["the king ate", "the queen", "an apple"])
    encoder.save(tmp_path / "enc")
    config = json.loads((tmp_path / "enc" / "config.json").read_text())
    assert config["class"] == type(encoder).__name__ and config["format_version"] == 1
    again = load_encoder_dir(tmp_path / "enc")
    assert type(again) is type(encoder) and again.dim == encoder.dim
    np.testing.assert_array_equal(again.encode(TEXTS), encoder.encode(TEXTS))
    assert Embeddings.load(tmp_path / "enc" / "word_vectors").keys == tiny.keys


def test_sif_beats_its_own_unweighted_mean_on_real_vectors(text8_vectors):
    """On text8 word vectors the SIF weighting down-weights 'the', 'of', 'and'."""
    sif = SIFEncoder(text8_vectors, n_components=0, normalize=False)
    with_stopwords = sif.encode(["the king of the people and the state"])[0]
    content = sif.encode(["king people state"])[0]
    mean = MeanEncoder(text8_vectors, normalize=False)
    cos = lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    sif_cos = cos(with_stopwords, content)
    mean_cos = cos(
        mean.encode(["the king of the people and the state"])[0],
        mean.encode(["king people state"])[0],
    )
    assert sif_cos > mean_cos
    assert sif_cos > 0.9
