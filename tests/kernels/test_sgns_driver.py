"""The per-piece loop shared by the word2vec and fastText kernels (_sgns.train_sentences).

A recording step (a jitted function, as the kernels pass theirs) logs each centre
word, its window and learning rate over a piece of real text (tests/data/text8_head.txt).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from embedforge.kernels._sgns import Tables, make_tables, shrunk_window, train_sentences
from embedforge.text.vocabulary import Vocabulary

TEXT = Path(__file__).parents[1] / "data" / "text8_head.txt"
WINDOW = 4


@njit
def _record(sentence, length, alpha, tables, args, loss, examples, state):
    """A step as the kernels write theirs: word2vec's window around each centre word."""
    log = args[0]
    for c in range(length):
        lo, hi, state = shrunk_window(c, length, tables.window, state)
        log[examples, 0] = sentence[c]
        log[examples, 1] = c
        log[examples, 2] = lo
        log[examples, 3] = hi
        log[examples, 4] = alpha
        loss += 1.0
        examples += 1
    return loss, examples, state


@njit
def _drive(tokens, tables, alpha_start, alpha_end, seed, log):
    return train_sentences(tokens, tables, alpha_start, alpha_end, seed, _record, (log,))


def _piece(sample: float, n_tokens: int = 3000, length: int = 40):
    """Word ids of the first ``n_tokens`` words, ``-1`` after every ``length``, and the tables."""
    words = TEXT.read_text(encoding="ascii").split()[:n_tokens]
    counts = Counter(words)
    vocab_words = sorted(counts, key=lambda w: (-counts[w], w))
    ids = {w: i for i, w in enumerate(vocab_words)}
    vocab = Vocabulary(vocab_words, [counts[w] for w in vocab_words])
    tokens = []
    for i in range(0, n_tokens, length):
        tokens += [ids[w] for w in words[i : i + length]] + [-1]
    sig, logsig = make_tables()
    empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0, np.float32)
    tables = Tables(
        vocab.keep_probabilities(sample), empty_f, empty_i, np.zeros((0, 0), np.uint8),
        np.zeros((0, 0), np.int32), empty_i, sig, logsig, True, False, WINDOW, 5, True,
    )  # fmt: skip
    return np.array(tokens, np.int32), tables, vocab


def _run(tokens, tables, seed=7):
    log = np.full((tokens.shape[0], 5), np.nan)
    loss, examples = _drive(tokens, tables, 0.025, 0.0001, np.uint64(seed), log)
    return loss, examples, log[:examples]


def test_every_word_is_a_centre_once_with_a_shrunk_window_inside_its_sentence():
    tokens, tables, _ = _piece(sample=0.0)  # no subsampling
    loss, examples, log = _run(tokens, tables)
    words = tokens[tokens >= 0]
    assert examples == words.size and loss == float(words.size)
    assert np.array_equal(log[:, 0].astype(np.int32), words)
    c, lo, hi = log[:, 1], log[:, 2], log[:, 3]
    position = np.concatenate([np.arange(40)] * (words.size // 40))
    assert np.array_equal(c, position)
    assert np.all((lo >= 0) & (lo <= c) & (c < hi) & (hi <= 40))
    # word2vec's window: WINDOW - b words on each side (fewer at a sentence end), b in [0, WINDOW)
    b_left = np.where(lo > 0, lo - c + WINDOW, np.nan)
    b_right = np.where(hi < 40, c + WINDOW + 1 - hi, np.nan)
    both = ~np.isnan(b_left) & ~np.isnan(b_right)
    assert both.sum() > words.size // 2 and np.array_equal(b_left[both], b_right[both])
    b = np.fmax(b_left, b_right)
    assert np.all((b >= 0) & (b < WINDOW))
    assert set(np.unique(b[both])) == set(range(WINDOW))  # every shrink occurs


def test_learning_rate_falls_linearly_over_the_piece_and_holds_within_a_sentence():
    tokens, tables, _ = _piece(sample=0.0)
    _, _, log = _run(tokens, tables)
    alpha = log[:, 4]
    assert alpha[0] == np.float32(0.025)
    assert np.all(np.diff(alpha) <= 0)
    per_sentence = alpha.reshape(-1, 40)
    assert np.all(per_sentence == per_sentence[:, :1])
    words_total = tokens[tokens >= 0].size
    seen = np.arange(per_sentence.shape[0]) * 40
    expected = (0.025 + (0.0001 - 0.025) * (seen / (words_total - 1))).astype(np.float32)
    np.testing.assert_allclose(per_sentence[:, 0], expected, rtol=1e-6)


def test_subsampling_drops_frequent_words_keeps_rare_ones_and_depends_on_the_seed():
    tokens, tables, vocab = _piece(sample=1e-3)
    _, examples, log = _run(tokens, tables, seed=7)
    kept = Counter(log[:, 0].astype(int).tolist())
    given = Counter(tokens[tokens >= 0].tolist())
    assert examples < sum(given.values())
    assert kept[0] < given[0]  # "the"
    always = [w for w in given if tables.keep_prob[w] >= 1.0]
    assert always and all(kept[w] == given[w] for w in always)
    _, _, other = _run(tokens, tables, seed=8)
    assert other.shape != log.shape or not np.array_equal(other, log)
    _, _, again = _run(tokens, tables, seed=7)
    assert np.array_equal(again, log)


@pytest.mark.parametrize("tokens", [[], [-1], [-1, -1, -1]])
def test_a_piece_without_words_calls_no_step(tokens):
    _, tables, _ = _piece(sample=0.0)
    loss, examples, _ = _run(np.array(tokens, np.int32), tables)
    assert (loss, examples) == (0.0, 0)
