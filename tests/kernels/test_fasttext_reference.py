"""The fastText kernel in every mode (skip-gram / CBOW x negative sampling / hierarchical
softmax, with subsampling) against a plain NumPy reference of the same updates.

The reference is written from the reference fastText's ``Model::update`` (the hidden vector is
the mean of the input rows; the gradient is added whole to every input row) with word2vec's
window, subsampling and losses, and replays the kernel's random stream (word2vec's LCG), so
both make the same draws; only the order of float32 additions differs (fastmath).
test_fasttext_kernel.py covers the skip-gram NS case against fastText's per-pair form.
"""

from __future__ import annotations

import numpy as np
import pytest

from embedforge.kernels._sgns import (
    EXP_TABLE_SIZE,
    MAX_EXP,
    Tables,
    make_tables,
    new_thread_buffers,
)
from embedforge.kernels.fasttext import Subwords, subword_table, train_piece
from embedforge.text.vocabulary import Vocabulary

MASK = (1 << 64) - 1
N_WORDS, DIM, WINDOW, NEGATIVE = 14, 8, 3, 4


def lcg(state: int) -> int:
    return (state * 25214903917 + 11) & MASK


def uniform16(state: int) -> np.float32:
    return np.float32((state >> 16) & 0xFFFF) / np.float32(65536.0)


def table_index(f: float) -> int:
    return int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))


def ref_negative(hidden, syn1, target, alpha, aprob, aidx, sig, logsig, state):
    """Negative sampling for one prediction: (gradient for the hidden vector, loss, rng state)."""
    neu1e = np.zeros(DIM, np.float32)
    loss = 0.0
    for d in range(NEGATIVE + 1):
        if d == 0:
            word, label = target, 1.0
        else:
            state = lcg(state)
            word = (state >> 32) % syn1.shape[0]
            if uniform16(state) >= aprob[word]:
                word = int(aidx[word])
            if word == target:
                continue
            label = 0.0
        f = float(hidden @ syn1[word])
        if f >= MAX_EXP:
            g = (label - 1.0) * alpha
            loss += f if label == 0.0 else 0.0
        elif f < -MAX_EXP:
            g = label * alpha
            loss += -f if label == 1.0 else 0.0
        else:
            t = table_index(f)
            g = (label - sig[t]) * alpha
            loss -= logsig[t] if label == 1.0 else logsig[EXP_TABLE_SIZE - 1 - t]
        g = np.float32(g)
        neu1e += g * syn1[word]
        syn1[word] += g * hidden
    return neu1e, loss, state


def ref_hs(hidden, syn1, tree, target, alpha, sig, logsig):
    """Hierarchical softmax along ``target``'s Huffman path: (gradient, loss)."""
    neu1e = np.zeros(DIM, np.float32)
    loss = 0.0
    for k in range(tree.lengths[target]):
        node, code = tree.points[target, k], int(tree.codes[target, k])
        f = float(hidden @ syn1[node])
        if f <= -MAX_EXP or f >= MAX_EXP:
            if (code == 0) == (f < 0):
                loss += abs(f)
            continue
        t = table_index(f)
        g = np.float32((1.0 - code - sig[t]) * alpha)
        loss -= logsig[t] if code == 0 else logsig[EXP_TABLE_SIZE - 1 - t]
        neu1e += g * syn1[node]
        syn1[node] += g * hidden
    return neu1e, loss


def ref_train(tokens, syn0, syn1, rows_of, keep, aprob, aidx, tree, skipgram, hs, a0, a1, seed):
    """fastText skip-gram / CBOW over a piece, in NumPy; returns (loss, predictions)."""
    sig, logsig = make_tables()
    state, loss, examples = seed, 0.0, 0
    total = int((tokens >= 0).sum())
    seen, pos = 0, 0

    def predict(hidden, target, state):
        if hs:
            neu1e, lo = ref_hs(hidden, syn1, tree, target, alpha, sig, logsig)
            return neu1e, lo, state
        return ref_negative(hidden, syn1, target, alpha, aprob, aidx, sig, logsig, state)

    while pos < len(tokens):
        alpha = np.float32(a0 + (a1 - a0) * (seen / max(total - 1, 1)))
        sentence = []
        while pos < len(tokens) and tokens[pos] >= 0:
            w = int(tokens[pos])
            pos, seen = pos + 1, seen + 1
            if keep[w] < 1.0:
                state = lcg(state)
                if keep[w] < uniform16(state):
                    continue
            sentence.append(w)
        pos += 1
        for c, word in enumerate(sentence):
            state = lcg(state)
            b = state % WINDOW
            context = [
                sentence[a]
                for a in range(max(0, c - WINDOW + b), min(len(sentence), c + WINDOW + 1 - b))
                if a != c
            ]
            if skipgram:
                # the centre word's rows predict each context word; the mean moves with
                # each prediction's gradient and the rows receive the sum once
                if not context:
                    continue
                rows = rows_of[word]
                hidden = syn0[rows].mean(axis=0, dtype=np.float32)
                summed = np.zeros(DIM, np.float32)
                for target in context:
                    neu1e, lo, state = predict(hidden, target, state)
                    hidden += neu1e
                    summed += neu1e
                    loss += lo
                    examples += 1
                for r in rows:
                    syn0[r] += summed
            else:
                # the mean of every context word's rows predicts the centre word
                rows = [r for w in context for r in rows_of[w]]
                if not rows:
                    continue
                hidden = syn0[rows].mean(axis=0, dtype=np.float32)
                neu1e, lo, state = predict(hidden, word, state)
                loss += lo
                examples += 1
                for r in rows:
                    syn0[r] += neu1e
    return loss, examples


def setup(hs: bool, bucket: int):
    rng = np.random.default_rng(11)
    words = [f"w{i}q" for i in range(N_WORDS)]
    counts = np.sort(rng.integers(2, 80, size=N_WORDS))[::-1]
    vocab = Vocabulary(words, counts)
    enc = [("<" + w + ">").encode() for w in words]
    off = np.zeros(N_WORDS + 1, np.int64)
    off[1:] = np.cumsum([len(e) for e in enc])
    data = np.frombuffer(b"".join(enc), np.uint8)
    ng_off, ng_rows = subword_table(data, off, N_WORDS, 2, 3, bucket, np.zeros(N_WORDS, bool))
    offsets = np.zeros(N_WORDS + 1, np.int64)
    offsets[1:] = np.cumsum(np.diff(ng_off) + 1)
    ids = np.empty(offsets[-1], np.int64)
    ids[offsets[:-1]] = np.arange(N_WORDS)  # each word's own row first, then its n-grams
    mask = np.ones(ids.size, bool)
    mask[offsets[:-1]] = False
    ids[mask] = ng_rows
    tokens = rng.integers(0, N_WORDS, size=110).astype(np.int32)
    tokens[[23, 24, 70, 109]] = -1  # sentence ends, one empty sentence
    syn0 = ((rng.random((N_WORDS + bucket, DIM)) - 0.5) / DIM).astype(np.float32)
    syn1 = (rng.random((N_WORDS - 1 if hs else N_WORDS, DIM)) - 0.5).astype(np.float32)
    return vocab, offsets, ids, tokens, syn0, syn1


@pytest.mark.parametrize(
    ("skipgram", "hs", "bucket"),
    [
        (False, False, 100_003),
        (False, True, 100_003),
        (True, True, 100_003),
        (False, False, 40),  # n-gram rows shared between words and repeated within one
        (True, True, 40),
    ],
    ids=["cbow-ns", "cbow-hs", "sg-hs", "cbow-ns-colliding", "sg-hs-colliding"],
)
def test_train_piece_matches_numpy_reference(skipgram, hs, bucket):
    vocab, offsets, ids, tokens, syn0, syn1 = setup(hs, bucket)
    keep = vocab.keep_probabilities(0.05)
    assert (keep < 1).any() and (keep == 1).any()  # subsampling drops some words
    aprob, aidx = vocab.noise_alias_table(0.5)
    tree = vocab.huffman_tree()
    sig, logsig = make_tables()
    tables = Tables(keep, aprob, aidx, tree.codes, tree.points, tree.lengths, sig, logsig,
                    skipgram, hs, WINDOW, NEGATIVE, True)  # fmt: skip
    subwords = Subwords(offsets, ids, np.full(ids.size, -1, np.int32), np.zeros(0, np.int64))
    s0, s1 = syn0.copy(), syn1.copy()
    loss, examples = train_piece(
        tokens, s0, s1, subwords, tables, 0.05, 0.01, np.uint64(99), new_thread_buffers(0, 0, DIM)
    )
    r0, r1 = syn0.copy(), syn1.copy()
    rows_of = [ids[offsets[w] : offsets[w + 1]] for w in range(N_WORDS)]
    rloss, rexamples = ref_train(
        tokens, r0, r1, rows_of, keep, aprob, aidx, tree, skipgram, hs, 0.05, 0.01, 99
    )
    assert examples == rexamples > 50
    assert loss == pytest.approx(rloss, rel=1e-4)
    np.testing.assert_allclose(s0, r0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(s1, r1, rtol=1e-4, atol=1e-6)
    assert not np.array_equal(s0, syn0) and not np.array_equal(s1, syn1)
    assert np.array_equal(s0[N_WORDS:][~np.isin(np.arange(N_WORDS, len(s0)), ids)],
                          syn0[N_WORDS:][~np.isin(np.arange(N_WORDS, len(s0)), ids)])  # fmt: skip
