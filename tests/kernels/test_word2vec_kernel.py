"""The numba word2vec kernel against a plain NumPy reference of the same updates.

The reference replays the kernel's random stream (word2vec's LCG) in Python,
so both must make the same draws and the same updates; only the order of
float32 additions differs (fastmath), hence the small tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from embedforge.kernels._sgns import EXP_TABLE_SIZE, MAX_EXP, Tables, ThreadBuffers, make_tables
from embedforge.kernels.word2vec import train_piece
from embedforge.text.vocabulary import Vocabulary

MASK = (1 << 64) - 1


def buffers(hot: int = 0, dim: int = 8) -> ThreadBuffers:
    """A thread's hot-row buffers for train_piece (empty: plain word2vec updates)."""
    return ThreadBuffers(np.zeros((hot, dim), np.float32), np.zeros(hot, np.bool_),
                         np.zeros((hot, dim), np.float32), np.zeros(hot, np.bool_))  # fmt: skip


def tables(keep, aprob, aidx, codes, points, lengths, skipgram, hs, window, negative, cbow_mean):
    """The kernel's grouped tables from the reference's positional arguments."""
    sig, logsig = make_tables()
    return Tables(keep, aprob, aidx, codes, points, lengths, sig, logsig, skipgram, hs, window,
                  negative, cbow_mean)  # fmt: skip


def lcg(state: int) -> int:
    return (state * 25214903917 + 11) & MASK


def table_index(f: float) -> int:
    return int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))


def ref_gradient(f, label, alpha, sig, logsig):
    """word2vec's (gradient x alpha as float32, loss) of one prediction with score ``f``."""
    if f >= MAX_EXP:
        return np.float32((label - 1.0) * alpha), (f if label == 0.0 else 0.0)
    if f < -MAX_EXP:
        return np.float32(label * alpha), (-f if label == 1.0 else 0.0)
    t = table_index(f)
    loss = -logsig[t] if label == 1.0 else -logsig[EXP_TABLE_SIZE - 1 - t]
    return np.float32((label - sig[t]) * alpha), loss


def ref_negative(inp, syn1, target, neu1e, alpha, negative, aprob, aidx, sig, logsig, state):
    loss = 0.0
    for d in range(negative + 1):
        if d == 0:
            word, label = target, 1.0
        else:
            state = lcg(state)
            word = (state >> 32) % syn1.shape[0]
            u = np.float32((state >> 16) & 0xFFFF) / np.float32(65536.0)
            if u >= aprob[word]:
                word = int(aidx[word])
            if word == target:
                continue
            label = 0.0
        g, step_loss = ref_gradient(float(np.dot(inp, syn1[word])), label, alpha, sig, logsig)
        loss += step_loss
        neu1e += g * syn1[word]
        syn1[word] += g * inp
    return loss, state


def ref_hs(inp, syn1, codes, points, length, neu1e, alpha, sig, logsig):
    loss = 0.0
    for k in range(length):
        row = syn1[points[k]]
        f = float(np.dot(inp, row))
        if f <= -MAX_EXP or f >= MAX_EXP:
            if (codes[k] == 0) == (f < 0):
                loss += abs(f)
            continue
        t = table_index(f)
        g = np.float32((1.0 - codes[k] - sig[t]) * alpha)
        loss -= logsig[t] if codes[k] == 0 else logsig[EXP_TABLE_SIZE - 1 - t]
        neu1e += g * row
        row += g * inp
    return loss


def ref_sentence(tokens, pos, seen, keep, state):
    """The sentence from ``tokens[pos]``, subsampled: (words kept, next pos, words seen, state)."""
    sentence = []
    while pos < len(tokens) and tokens[pos] >= 0:
        w = int(tokens[pos])
        pos += 1
        seen += 1
        if keep[w] < 1.0:
            state = lcg(state)
            if keep[w] < np.float32((state >> 16) & 0xFFFF) / np.float32(65536.0):
                continue
        sentence.append(w)
    return sentence, pos + 1, seen, state


def ref_window(c, length, window, state):
    """word2vec's shrunk window around position ``c``: (context positions, rng state)."""
    state = lcg(state)
    b = state % window
    lo, hi = max(0, c - window + b), min(length, c + window + 1 - b)
    return [a for a in range(lo, hi) if a != c], state


def ref_train_piece(tokens, syn0, syn1, keep, aprob, aidx, codes, points, lengths,
                    skipgram, hs, window, negative, cbow_mean, a0, a1, seed, sig, logsig):  # fmt: skip
    state, loss, examples = seed, 0.0, 0
    total = int((tokens >= 0).sum())
    seen, pos, n = 0, 0, len(tokens)
    while pos < n:
        alpha = np.float32(a0 + (a1 - a0) * (seen / max(total - 1, 1)))
        sentence, pos, seen, state = ref_sentence(tokens, pos, seen, keep, state)
        for c, word in enumerate(sentence):
            ctx, state = ref_window(c, len(sentence), window, state)
            if skipgram:
                for a in ctx:
                    inp = syn0[sentence[a]]
                    neu1e = np.zeros(syn0.shape[1], np.float32)
                    if hs:
                        loss += ref_hs(inp, syn1, codes[word], points[word], lengths[word], neu1e,
                                       alpha, sig, logsig)  # fmt: skip
                    else:
                        lo, state = ref_negative(inp, syn1, word, neu1e, alpha, negative, aprob,
                                                 aidx, sig, logsig, state)  # fmt: skip
                        loss += lo
                    inp += neu1e
                    examples += 1
            else:
                if not ctx:
                    continue
                neu1 = syn0[[sentence[a] for a in ctx]].sum(axis=0, dtype=np.float32)
                if cbow_mean:
                    neu1 *= np.float32(1.0 / len(ctx))
                neu1e = np.zeros(syn0.shape[1], np.float32)
                if hs:
                    loss += ref_hs(neu1, syn1, codes[word], points[word], lengths[word], neu1e,
                                   alpha, sig, logsig)  # fmt: skip
                else:
                    lo, state = ref_negative(neu1, syn1, word, neu1e, alpha, negative, aprob, aidx,
                                             sig, logsig, state)  # fmt: skip
                    loss += lo
                if not cbow_mean:
                    neu1e *= np.float32(1.0 / len(ctx))
                for a in ctx:
                    syn0[sentence[a]] += neu1e
                examples += 1
    return loss, examples


def tiny_setup(hs: bool, dim: int = 8):
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(12)]
    counts = np.sort(rng.integers(1, 60, size=12))[::-1]
    vocab = Vocabulary(words, counts)
    tokens = rng.integers(0, 12, size=120).astype(np.int32)
    tokens[[17, 18, 60, 119]] = -1  # sentence ends, one empty sentence
    syn0 = ((rng.random((12, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    syn1 = (rng.random((11 if hs else 12, dim), dtype=np.float32) - 0.5).astype(np.float32)
    keep = vocab.keep_probabilities(0.05)
    aprob, aidx = vocab.noise_alias_table(0.75)
    tree = vocab.huffman_tree()
    return tokens, syn0, syn1, keep, aprob, aidx, tree


MODES = [  # (skipgram, hierarchical softmax, cbow_mean)
    (True, False, True),
    (True, True, True),
    (False, False, True),
    (False, True, True),
    (False, False, False),
    (False, True, False),
]


@pytest.mark.parametrize(
    ("skipgram", "hs", "cbow_mean"),
    MODES,
    ids=["sg-ns", "sg-hs", "cbow-ns", "cbow-hs", "cbow-sum-ns", "cbow-sum-hs"],
)
def test_kernel_matches_numpy_reference(skipgram, hs, cbow_mean):
    tokens, syn0, syn1, keep, aprob, aidx, tree = tiny_setup(hs)
    sig, logsig = make_tables()
    args = (keep, aprob, aidx, tree.codes, tree.points, tree.lengths, skipgram, hs, 3, 4,
            cbow_mean, 0.05, 0.01)  # fmt: skip
    s0, s1 = syn0.copy(), syn1.copy()
    loss, examples = train_piece(
        tokens, s0, s1, tables(*args[:-2]), *args[-2:], np.uint64(12345), buffers()
    )
    r0, r1 = syn0.copy(), syn1.copy()
    rloss, rexamples = ref_train_piece(tokens, r0, r1, *args, 12345, sig, logsig)
    assert examples == rexamples > 0
    assert loss == pytest.approx(rloss, rel=1e-4)
    np.testing.assert_allclose(s0, r0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(s1, r1, rtol=1e-4, atol=1e-6)
    assert not np.array_equal(s0, syn0), "the kernel must update the input vectors"


def test_kernel_is_deterministic_and_seed_dependent():
    tokens, syn0, syn1, keep, aprob, aidx, tree = tiny_setup(False)
    sig, logsig = make_tables()

    def run(seed):
        s0, s1 = syn0.copy(), syn1.copy()
        t = tables(keep, aprob, aidx, tree.codes, tree.points, tree.lengths, True, False, 3, 4,
                   True)  # fmt: skip
        train_piece(tokens, s0, s1, t, 0.05, 0.01, np.uint64(seed), buffers())
        return s0

    assert np.array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_empty_piece_does_nothing():
    _, syn0, syn1, keep, aprob, aidx, tree = tiny_setup(False)
    sig, logsig = make_tables()
    s0 = syn0.copy()
    t = tables(keep, aprob, aidx, tree.codes, tree.points, tree.lengths, True, False, 3, 4, True)
    loss, examples = train_piece(
        np.array([-1, -1], np.int32), s0, syn1.copy(), t, 0.05, 0.01, np.uint64(1), buffers()
    )
    assert (loss, examples) == (0.0, 0)
    assert np.array_equal(s0, syn0)


@pytest.mark.parametrize(
    ("skipgram", "hs", "shared"),
    [(True, False, False), (True, True, False), (False, False, False), (False, True, False),
     (True, False, True)],
    ids=["sg-ns", "sg-hs", "cbow-ns", "cbow-hs", "sg-ns-shared"],
)  # fmt: skip
@pytest.mark.parametrize("hot", [1, 5, 100])
def test_hot_row_buffering_only_changes_rounding(skipgram, hs, shared, hot):
    """Within one call, shared row + private delta is the same arithmetic, regrouped."""
    tokens, syn0, syn1, keep, aprob, aidx, tree = tiny_setup(hs)
    t = tables(keep, aprob, aidx, tree.codes, tree.points, tree.lengths, skipgram, hs, 3, 4, True)
    args = (t._replace(shared_negatives=shared), 0.05, 0.01, np.uint64(99))
    plain0, plain1 = syn0.copy(), syn1.copy()
    loss, examples = train_piece(tokens, plain0, plain1, *args, buffers())
    hot0, hot1 = syn0.copy(), syn1.copy()
    bufs = buffers(hot)
    hot_loss, hot_examples = train_piece(tokens, hot0, hot1, *args, bufs)
    assert not any(b.any() for b in bufs), "the buffers are left cleared for the next call"
    assert hot_examples == examples
    assert hot_loss == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(hot0, plain0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(hot1, plain1, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------- shared noise words
def ref_train_piece_shared(tokens, syn0, syn1, keep, aprob, aidx, window, negative, a0, a1, seed,
                           sig, logsig):  # fmt: skip
    """Skip-gram NS with one draw of noise words per centre word (HogBatch's sampling), the
    window's rows copied into blocks, pairs trained in order on the blocks, changes added once
    per window: the update the kernel documents, written plainly."""
    state, loss, examples = seed, 0.0, 0
    total = int((tokens >= 0).sum())
    seen, pos, n = 0, 0, len(tokens)
    while pos < n:
        alpha = np.float32(a0 + (a1 - a0) * (seen / max(total - 1, 1)))
        sentence, pos, seen, state = ref_sentence(tokens, pos, seen, keep, state)
        for c, word in enumerate(sentence):
            positions, state = ref_window(c, len(sentence), window, state)
            ctx = [sentence[a] for a in positions]
            if not ctx:
                continue
            outs = [word]
            for _ in range(negative):
                state = lcg(state)
                w = (state >> 32) % syn1.shape[0]
                if np.float32((state >> 16) & 0xFFFF) / np.float32(65536.0) >= aprob[w]:
                    w = int(aidx[w])
                if w != word:
                    outs.append(w)
            x = {w: syn0[w].copy() for w in ctx}  # one block row per distinct context word
            y = [syn1[w].copy() for w in outs]  # one per draw
            y_read = [row.copy() for row in y]
            for w in ctx:
                fs = [float(np.dot(x[w], row)) for row in y]  # before the pair's updates
                neu1e = np.zeros(syn0.shape[1], np.float32)
                for d, f in enumerate(fs):
                    g, step_loss = ref_gradient(f, 1.0 if d == 0 else 0.0, alpha, sig, logsig)
                    loss += step_loss
                    neu1e += g * y[d]
                    y[d] += g * x[w]
                x[w] += neu1e
                examples += 1
            for w, row in x.items():
                syn0[w] = row
            for w, row, read in zip(outs, y, y_read, strict=True):
                syn1[w] += row - read
    return loss, examples


def shared_tables(keep, aprob, aidx, tree, window=3, negative=4):
    sig, logsig = make_tables()
    return Tables(keep, aprob, aidx, tree.codes, tree.points, tree.lengths, sig, logsig, True,
                  False, window, negative, True, shared_negatives=True)  # fmt: skip


@pytest.mark.parametrize("window", [1, 3, 6])
def test_shared_negatives_kernel_matches_numpy_reference(window):
    tokens, syn0, syn1, keep, aprob, aidx, tree = tiny_setup(False)
    sig, logsig = make_tables()
    s0, s1 = syn0.copy(), syn1.copy()
    loss, examples = train_piece(tokens, s0, s1, shared_tables(keep, aprob, aidx, tree, window),
                                 0.05, 0.01, np.uint64(12345), buffers())  # fmt: skip
    r0, r1 = syn0.copy(), syn1.copy()
    rloss, rexamples = ref_train_piece_shared(tokens, r0, r1, keep, aprob, aidx, window, 4, 0.05,
                                              0.01, 12345, sig, logsig)  # fmt: skip
    assert examples == rexamples > 0
    assert loss == pytest.approx(rloss, rel=1e-4)
    np.testing.assert_allclose(s0, r0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(s1, r1, rtol=1e-4, atol=1e-6)
    # 12 words and windows up to 6: repeated context words and noise words are common here
    pair0 = syn0.copy()
    train_piece(tokens, pair0, syn1.copy(),
                tables(keep, aprob, aidx, tree.codes, tree.points, tree.lengths, True, False,
                       window, 4, True), 0.05, 0.01, np.uint64(12345), buffers())  # fmt: skip
    assert not np.allclose(s0, pair0), "shared noise words are a different update"


def test_shared_negatives_is_deterministic_and_seed_dependent():
    tokens, syn0, syn1, keep, aprob, aidx, tree = tiny_setup(False)

    def run(seed):
        s0 = syn0.copy()
        train_piece(tokens, s0, syn1.copy(), shared_tables(keep, aprob, aidx, tree), 0.05, 0.01,
                    np.uint64(seed), buffers())  # fmt: skip
        return s0

    assert np.array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))
