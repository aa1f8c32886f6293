"""Vocabulary counts and sampling tables, checked against gensim and exact references."""

from __future__ import annotations

import heapq
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from gensim.models import Word2Vec as GensimWord2Vec

from embedforge.errors import CorpusError, InvalidParameterError
from embedforge.text.corpus import TextCorpus
from embedforge.text.vocabulary import Vocabulary

TEXT8_HEAD = Path(__file__).parents[1] / "data" / "text8_head.txt"


@pytest.fixture(scope="module")
def corpus():
    return list(TextCorpus(TEXT8_HEAD))


@pytest.fixture(scope="module")
def vocab(corpus):
    counter, n_tokens = Vocabulary.count(corpus, progress=False)
    assert n_tokens == 50_126
    return Vocabulary.from_counts(counter, min_count=5)


@pytest.fixture(scope="module")
def gensim_model(corpus):
    model = GensimWord2Vec(vector_size=10, min_count=5, sample=1e-3, hs=1, negative=5, seed=1)
    model.build_vocab(corpus)
    return model


def test_vocabulary_matches_gensim(vocab, gensim_model):
    wv = gensim_model.wv
    assert set(vocab.words) == set(wv.index_to_key)
    assert vocab.counts.tolist() == [wv.get_vecattr(w, "count") for w in vocab.words]
    assert np.all(np.diff(vocab.counts) <= 0), "most frequent first"


def test_keep_probabilities_match_gensim(vocab, gensim_model):
    keep = vocab.keep_probabilities(1e-3)
    theirs = np.array([gensim_model.wv.get_vecattr(w, "sample_int") for w in vocab.words]) / 2**32
    np.testing.assert_allclose(keep, theirs, atol=1e-6)
    assert vocab.keep_probabilities(0).tolist() == [1.0] * len(vocab)
    with pytest.raises(InvalidParameterError, match="sample"):
        vocab.keep_probabilities(-1)


def test_alias_table_reproduces_the_noise_distribution(vocab):
    prob, alias = vocab.noise_alias_table(0.75)
    n = len(vocab)
    mass = prob.astype(np.float64).copy()
    np.add.at(mass, alias, 1.0 - prob)
    expected = vocab.counts**0.75 / (vocab.counts**0.75).sum()
    np.testing.assert_allclose(mass / n, expected, rtol=1e-5, atol=1e-9)


def test_alias_sampling_frequencies(vocab):
    prob, alias = vocab.noise_alias_table(0.75)
    rng = np.random.default_rng(0)
    i = rng.integers(0, len(vocab), size=400_000)
    draws = np.where(rng.random(i.size) < prob[i], i, alias[i])
    expected = vocab.counts[:5] ** 0.75 / (vocab.counts**0.75).sum()
    observed = np.bincount(draws, minlength=len(vocab))[:5] / draws.size
    np.testing.assert_allclose(observed, expected, rtol=0.05)


def huffman_cost(counts):
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    cost, k = 0, len(heap)
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a[0] + b[0]
        heapq.heappush(heap, (a[0] + b[0], k))
        k += 1
    return cost


def test_huffman_tree_is_an_optimal_prefix_code(vocab, gensim_model):
    tree = vocab.huffman_tree()
    n = len(vocab)
    codes = ["".join(map(str, tree.codes[i, : tree.lengths[i]])) for i in range(n)]
    assert len(set(codes)) == n
    ordered = sorted(codes)
    assert not any(b.startswith(a) for a, b in zip(ordered, ordered[1:], strict=False)), (
        "prefix-free"
    )
    cost = int((vocab.counts * tree.lengths).sum())
    assert cost == huffman_cost(vocab.counts)
    theirs = sum(
        gensim_model.wv.get_vecattr(w, "count") * len(gensim_model.wv.get_vecattr(w, "code"))
        for w in vocab.words
    )
    assert cost == theirs
    assert tree.points.max() == n - 2 and tree.points.min() == 0
    assert np.all(tree.points[:, 0] == n - 2), "every path starts at the root"


def test_huffman_needs_two_words():
    with pytest.raises(InvalidParameterError, match="at least 2 words"):
        Vocabulary(["a"], [3]).huffman_tree()


def test_from_counts_errors_name_the_problem():
    with pytest.raises(CorpusError, match="empty"):
        Vocabulary.from_counts(Counter(), min_count=1)
    with pytest.raises(CorpusError, match=r"min_count=5.*'the', occurs 3 times"):
        Vocabulary.from_counts(Counter({"the": 3, "cat": 1}), min_count=5)


def test_max_vocab_size_and_ties_are_deterministic():
    counter = Counter({"b": 3, "a": 3, "c": 9, "d": 1})
    vocab = Vocabulary.from_counts(counter, min_count=1, max_vocab_size=3)
    assert vocab.words == ["c", "b", "a"]


def test_count_prunes_when_over_max_vocab_size():
    corpus = [["common"] * 50 + [f"rare{i}" for i in range(100)]]
    counter, n = Vocabulary.count(corpus, max_vocab_size=10, progress=False)
    assert n == 150
    assert counter["common"] == 50 and len(counter) <= 10


def test_extended_keeps_indices_and_adds_new_words(vocab):
    bigger = vocab.extended(Counter({"the": 10, "zzznew": 7, "zzzrare": 1}), min_count=5)
    assert bigger.words[: len(vocab)] == vocab.words
    assert bigger.words[len(vocab) :] == ["zzznew"]
    assert (
        bigger.counts[vocab.word_to_index["the"]] == vocab.counts[vocab.word_to_index["the"]] + 10
    )
