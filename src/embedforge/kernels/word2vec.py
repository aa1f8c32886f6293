"""word2vec inner loops: skip-gram and CBOW, negative sampling and hierarchical softmax.

Plain arrays in, weights updated in place, no Python objects: each call
trains one piece of an encoded corpus (int32 word ids, ``-1`` ending each
sentence) and returns its summed loss.  Threads call :func:`train_piece` on
different pieces at once and update the shared matrices without locks
(Hogwild), as word2vec C and gensim do; numba releases the GIL (``nogil``).

The updates follow the word2vec C tool (Mikolov et al. 2013): the
sigmoid is read from a 1000-entry table over [-6, 6]; skip-gram predicts
the centre word from each context word's input vector; CBOW averages the
context input vectors; window sizes shrink at random; frequent words are
dropped with word2vec's subsampling formula.  Random numbers come from the
word2vec linear congruential generator, seeded per piece, so one thread
gives the same result on every run.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EXP_TABLE_SIZE", "MAX_EXP", "make_tables", "train_piece"]

EXP_TABLE_SIZE = 1000
MAX_EXP = 6.0
_LCG_MUL = np.uint64(25214903917)
_LCG_ADD = np.uint64(11)


def make_tables() -> tuple[np.ndarray, np.ndarray]:
    """Sigmoid and log-sigmoid tables over [-MAX_EXP, MAX_EXP].

    Returns
    -------
    sigmoid : (EXP_TABLE_SIZE,) float32
    log_sigmoid : (EXP_TABLE_SIZE,) float32
    """
    x = (np.arange(EXP_TABLE_SIZE, dtype=np.float64) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
    sig = 1.0 / (1.0 + np.exp(-x))
    return sig.astype(np.float32), np.log(sig).astype(np.float32)


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _lcg(state):
    return state * _LCG_MUL + _LCG_ADD


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _table_index(f):
    return int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))


# Thread scaling.  Three things made two threads train slower than one, and
# the code below is shaped to avoid each:
# - A call that passes an array, and a row view such as ``syn1[word]``, each
#   increment the parent array's reference count atomically: one shared
#   counter bounced between cores on every update.  The helpers are inlined
#   and the matrices are indexed by (row, column).
# - Two threads' small work buffers on one cache line (false sharing): they
#   are cut from one padded block per call.
# - Both threads writing the same few rows (the most frequent words' rows,
#   the Huffman tree's top nodes) at a high rate: with ``hot > 0`` each thread
#   writes the ``hot`` hottest rows of each matrix into a private delta that is
#   added to the shared row at the end of the piece, and reads shared row +
#   own delta.  Measured on 17M tokens (68k words), skip-gram NS on 2 threads:
#   485k words/s without.  The buffers belong to the calling thread and
#   live across calls (allocating them per call cost more than they saved).
#   With one thread they are empty and the updates are exactly word2vec's.


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _hot_index(row, hot_lo, hot_n):
    """Index of ``row`` in the delta buffer, or -1 when it is not buffered."""
    h = row - hot_lo
    if h < 0 or h >= hot_n:
        return -1
    return h


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _dot_output(inp, out, row, delta, h):
    """inp . (out[row] + delta[h]), the delta only when ``h >= 0``."""
    f = np.float32(0.0)
    if h < 0:
        for j in range(inp.shape[0]):
            f += inp[j] * out[row, j]
    else:
        for j in range(inp.shape[0]):
            f += inp[j] * (out[row, j] + delta[h, j])
    return f


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _update_output(inp, out, row, delta, h, touched, g, neu1e):
    """neu1e += g * out[row]; out[row] += g * inp (into delta[h] when ``h >= 0``)."""
    if h < 0:
        for j in range(inp.shape[0]):
            neu1e[j] += g * out[row, j]
            out[row, j] += g * inp[j]
    else:
        for j in range(inp.shape[0]):
            neu1e[j] += g * (out[row, j] + delta[h, j])
            delta[h, j] += g * inp[j]
        touched[h] = True


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _negative_sampling(
    inp, syn1neg, target, neu1e, alpha, negative, alias_prob, alias_idx, sig, logsig, state,
    delta, touched, hot_n,
):  # fmt: skip
    """One positive and ``negative`` noise updates of ``syn1neg`` for the input row ``inp``.

    Accumulates the gradient for ``inp`` into ``neu1e``; returns (loss, rng state).
    The hot rows of ``syn1neg`` are the first ``hot_n`` (most frequent words).
    """
    n_words = syn1neg.shape[0]
    loss = 0.0
    for d in range(negative + 1):
        if d == 0:
            word = np.int64(target)
            label = 1.0
        else:
            state = _lcg(state)
            word = np.int64((state >> np.uint64(32)) % np.uint64(n_words))
            u = np.float32((state >> np.uint64(16)) & np.uint64(0xFFFF)) / np.float32(65536.0)
            if u >= alias_prob[word]:
                word = np.int64(alias_idx[word])
            if word == target:
                continue
            label = 0.0
        h = _hot_index(word, 0, hot_n)
        f = _dot_output(inp, syn1neg, word, delta, h)
        if f > MAX_EXP:
            g = (label - 1.0) * alpha
            if label == 0.0:
                loss += f  # -log(sigmoid(-f)) ~ f for large f
        elif f < -MAX_EXP:
            g = label * alpha
            if label == 1.0:
                loss -= f
        else:
            t = _table_index(f)
            g = (label - sig[t]) * alpha
            if label == 1.0:
                loss -= logsig[t]
            else:
                loss -= logsig[EXP_TABLE_SIZE - 1 - t]
        _update_output(inp, syn1neg, word, delta, h, touched, np.float32(g), neu1e)
    return loss, state


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _hierarchical_softmax(
    inp, syn1, codes, points, word, length, neu1e, alpha, sig, logsig, delta, touched, hot_n
):
    """Updates along ``word``'s Huffman path for the input row ``inp``; returns the loss.

    The hot rows of ``syn1`` are its last ``hot_n`` (the inner nodes nearest the root).
    """
    hot_lo = syn1.shape[0] - hot_n
    loss = 0.0
    for k in range(length):
        node = np.int64(points[word, k])
        code = codes[word, k]
        h = _hot_index(node, hot_lo, hot_n)
        f = _dot_output(inp, syn1, node, delta, h)
        if f <= -MAX_EXP or f >= MAX_EXP:
            # word2vec C skips saturated nodes; count their loss all the same
            if (code == 0) == (f < 0):
                loss += abs(f)
            continue
        t = _table_index(f)
        g = np.float32((1.0 - code - sig[t]) * alpha)
        loss -= logsig[t] if code == 0 else logsig[EXP_TABLE_SIZE - 1 - t]
        _update_output(inp, syn1, node, delta, h, touched, g, neu1e)
    return loss


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _read_input(syn0, row, delta0, hot_n, buf):
    """buf = syn0[row] (+ this thread's delta for a hot row)."""
    if row < hot_n:
        for j in range(buf.shape[0]):
            buf[j] = syn0[row, j] + delta0[row, j]
    else:
        for j in range(buf.shape[0]):
            buf[j] = syn0[row, j]


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _add_input(syn0, row, delta0, touched0, hot_n, grad):
    """syn0[row] += grad (into this thread's delta for a hot row)."""
    if row < hot_n:
        for j in range(grad.shape[0]):
            delta0[row, j] += grad[j]
        touched0[row] = True
    else:
        for j in range(grad.shape[0]):
            syn0[row, j] += grad[j]


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _flush(matrix, lo, delta, touched):
    """matrix[lo + h] += delta[h] for every touched hot row, then clear the buffer."""
    for h in range(touched.shape[0]):
        if touched[h]:
            for j in range(delta.shape[1]):
                matrix[lo + h, j] += delta[h, j]
                delta[h, j] = 0.0
            touched[h] = False


@njit(nogil=True, fastmath=True, cache=True)
def train_piece(
    tokens,
    syn0,
    syn1,
    keep_prob,
    alias_prob,
    alias_idx,
    codes,
    points,
    code_lengths,
    skipgram,
    hierarchical,
    window,
    negative,
    cbow_mean,
    alpha_start,
    alpha_end,
    seed,
    sig,
    logsig,
    delta0,
    touched0,
    delta1,
    touched1,
):
    """Train on one piece of an encoded corpus.

    Parameters
    ----------
    tokens : (n,) int32
        Word ids, ``-1`` ending each sentence; the piece's ends are sentence ends too.
    syn0 : (n_words, dim) float32
        Input (word) vectors, updated in place.
    syn1 : (n_words, dim) or (n_words - 1, dim) float32
        Output vectors: ``syn1neg`` for negative sampling, the Huffman tree's
        inner nodes for hierarchical softmax; updated in place.
    keep_prob : (n_words,) float32
        Subsampling keep probabilities.
    alias_prob, alias_idx : (n_words,) float32, int32
        Noise distribution alias table (unused with hierarchical softmax).
    codes, points, code_lengths : (n_words, depth) uint8, (n_words, depth) int32, (n_words,) int32
        Huffman tree (unused with negative sampling).
    skipgram, hierarchical, cbow_mean : bool
    window, negative : int
    alpha_start, alpha_end : float
        Learning rate at the first and the last word of the piece (linear in between).
    seed : uint64
        Seed of the piece's random stream.
    sig, logsig : (EXP_TABLE_SIZE,) float32
        From :func:`make_tables`.
    delta0, touched0 : (hot0, dim) float32, (hot0,) bool
        The calling thread's own buffer for the ``hot0`` first rows of ``syn0``
        (most frequent words): their updates go here and are added to ``syn0``
        at the end of the call.  Zeros in, zeros out.  ``hot0 = 0`` (one
        thread): plain word2vec updates.
    delta1, touched1 : (hot1, dim) float32, (hot1,) bool
        The same for ``syn1``: its first rows with negative sampling, its
        last (the nodes nearest the root) with hierarchical softmax.

    Returns
    -------
    loss : float
        Summed negative log-likelihood of every prediction made.
    examples : int
        Predictions made (skip-gram: (centre, context) pairs; CBOW: centre words).
    """
    n = tokens.shape[0]
    dim = syn0.shape[1]
    hot0 = min(delta0.shape[0], syn0.shape[0])
    hot1 = min(delta1.shape[0], syn1.shape[0])
    sentence = np.empty(n, dtype=np.int32)
    # Per-call work buffers, cut from one block with 4 KiB of padding on each
    # side: two threads' small buffers on one cache line (false sharing) cut
    # two-thread throughput by up to 3x.
    pad = 1024
    work = np.empty(2 * pad + 2 * dim + 32, dtype=np.float32)
    neu1e = work[pad : pad + dim]
    inp = work[
        pad + dim + 32 : pad + 2 * dim + 32
    ]  # the input row: a context word or the CBOW mean
    state = np.uint64(seed)
    loss = 0.0
    examples = 0
    words_total = 0
    for i in range(n):
        if tokens[i] >= 0:
            words_total += 1
    if words_total == 0:
        return 0.0, 0
    words_seen = 0
    pos = 0
    while pos < n:
        # gather one sentence, subsampled
        length = 0
        alpha = np.float32(
            alpha_start + (alpha_end - alpha_start) * (words_seen / max(words_total - 1, 1))
        )
        while pos < n and tokens[pos] >= 0:
            w = tokens[pos]
            pos += 1
            words_seen += 1
            if keep_prob[w] < 1.0:
                state = _lcg(state)
                u = np.float32((state >> np.uint64(16)) & np.uint64(0xFFFF)) / np.float32(65536.0)
                if keep_prob[w] < u:
                    continue
            sentence[length] = w
            length += 1
        pos += 1  # skip the sentence end
        for c in range(length):
            word = sentence[c]
            state = _lcg(state)
            b = np.int64(state % np.uint64(window))
            lo = max(0, c - window + b)
            hi = min(length, c + window + 1 - b)
            if skipgram:
                for a in range(lo, hi):
                    if a == c:
                        continue
                    ctx = sentence[a]
                    _read_input(syn0, ctx, delta0, hot0, inp)
                    for j in range(dim):
                        neu1e[j] = 0.0
                    if hierarchical:
                        loss += _hierarchical_softmax(
                            inp, syn1, codes, points, word, code_lengths[word], neu1e, alpha,
                            sig, logsig, delta1, touched1, hot1,
                        )  # fmt: skip
                    else:
                        piece_loss, state = _negative_sampling(
                            inp, syn1, word, neu1e, alpha, negative, alias_prob, alias_idx,
                            sig, logsig, state, delta1, touched1, hot1,
                        )  # fmt: skip
                        loss += piece_loss
                    _add_input(syn0, ctx, delta0, touched0, hot0, neu1e)
                    examples += 1
            else:
                for j in range(dim):
                    inp[j] = 0.0
                count = 0
                for a in range(lo, hi):
                    if a == c:
                        continue
                    ctx = sentence[a]
                    if ctx < hot0:
                        for j in range(dim):
                            inp[j] += syn0[ctx, j] + delta0[ctx, j]
                    else:
                        for j in range(dim):
                            inp[j] += syn0[ctx, j]
                    count += 1
                if count == 0:
                    continue
                if cbow_mean:
                    inv = np.float32(1.0 / count)
                    for j in range(dim):
                        inp[j] *= inv
                for j in range(dim):
                    neu1e[j] = 0.0
                if hierarchical:
                    loss += _hierarchical_softmax(
                        inp, syn1, codes, points, word, code_lengths[word], neu1e, alpha, sig,
                        logsig, delta1, touched1, hot1,
                    )  # fmt: skip
                else:
                    piece_loss, state = _negative_sampling(
                        inp, syn1, word, neu1e, alpha, negative, alias_prob, alias_idx, sig,
                        logsig, state, delta1, touched1, hot1,
                    )  # fmt: skip
                    loss += piece_loss
                if not cbow_mean:
                    inv = np.float32(1.0 / count)
                    for j in range(dim):
                        neu1e[j] *= inv
                for a in range(lo, hi):
                    if a == c:
                        continue
                    _add_input(syn0, sentence[a], delta0, touched0, hot0, neu1e)
                examples += 1
    _flush(syn0, 0, delta0[:hot0], touched0[:hot0])
    _flush(syn1, syn1.shape[0] - hot1 if hierarchical else 0, delta1[:hot1], touched1[:hot1])
    return loss, examples
