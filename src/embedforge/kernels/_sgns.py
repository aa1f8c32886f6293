"""Shared skip-gram / CBOW inner helpers: one copy for the word2vec and fastText kernels.

Plain arrays in, weights updated in place, no Python objects.  Everything a
kernel needs besides the weights and the piece comes in two grouped
arguments, module-level NamedTuples that numba passes (and caches) as one
typed value:

- :class:`Tables`: the read-only tables of a vocabulary (subsampling keep
  probabilities, the noise alias table, the Huffman tree, the sigmoid
  tables) and the model's options (``skipgram``, ``hierarchical``,
  ``window``, ``negative``, ``cbow_mean``).
- :class:`ThreadBuffers`: the calling thread's private deltas of the hot
  rows (see below).

The loop over a piece (sentences, subsampling, learning rate) is written
once, :func:`train_sentences`; each kernel's ``train_piece`` sets up its
buffers and passes its own step over a sentence.

The updates follow the word2vec C tool (Mikolov et al. 2013, the papers
cited in :mod:`embedforge.text.word2vec`): the sigmoid is
read from a 1000-entry table over [-6, 6]; window sizes shrink at random;
frequent words are dropped with word2vec's subsampling formula; random
numbers come from word2vec's linear congruential generator, seeded per
piece, so one thread gives the same result on every run.

Thread scaling.  Three things made two threads train slower than one, and
the code is shaped to avoid each:

- A call that passes an array, and a row view such as ``syn1[word]``, each
  increment the parent array's reference count atomically: one shared
  counter bounced between cores on every update.  The helpers are inlined
  (``inline="always"``) and the matrices are indexed by (row, column).
- Two threads' small work buffers on one cache line (false sharing): the
  kernels cut them from one padded block per call (:func:`work_buffer`).
- Both threads writing the same few rows (the most frequent words' rows,
  the Huffman tree's top nodes) at a high rate: with ``hot > 0`` each thread
  writes the ``hot`` hottest rows of each matrix into a private delta that is
  added to the shared row at the end of the piece (:func:`flush`), and reads
  shared row + own delta.  Measured on 17M tokens (68k words), skip-gram NS
  on 2 threads: 485k words/s without.  The buffers belong to the calling
  thread and live across calls (allocating them per call cost more than
  they saved).  With one thread they are empty and the updates are exactly
  word2vec's.

Caching: numba's on-disk cache of a kernel is checked against the kernel's
own file only, so after editing this file also touch ``word2vec.py`` and
``fasttext.py`` (or delete their ``__pycache__``) or the old inlined
helpers keep running.  Installed releases are unaffected (every file is new).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "EXP_TABLE_SIZE",
    "MAX_EXP",
    "Tables",
    "ThreadBuffers",
    "make_tables",
    "new_thread_buffers",
    "train_sentences",
]

EXP_TABLE_SIZE = 1000
MAX_EXP = 6.0
_LCG_MUL = np.uint64(25214903917)
_LCG_ADD = np.uint64(11)
# Floats of padding on each side of a call's work buffers (4 KiB: no false sharing).
_PAD = 1024


class Tables(NamedTuple):
    """What a skip-gram / CBOW kernel reads besides the weights: vocabulary tables and options.

    Attributes
    ----------
    keep_prob : (n_words,) float32
        Subsampling keep probabilities.
    alias_prob, alias_idx : (n_words,) float32, (n_words,) int32
        Noise distribution alias table (unused with hierarchical softmax).
    codes, points : (n_words, depth) uint8, (n_words, depth) int32
        Huffman tree (unused with negative sampling).
    code_lengths : (n_words,) int32
    sig, logsig : (EXP_TABLE_SIZE,) float32
        From :func:`make_tables`.
    skipgram, hierarchical, cbow_mean : bool
    window, negative : int
    shared_negatives : bool
        Skip-gram with negative sampling only: one set of noise words per
        centre word for its whole window, updated as a block (HogBatch, see
        :mod:`embedforge.kernels.word2vec`); ignored by the other objectives.
    """

    keep_prob: np.ndarray
    alias_prob: np.ndarray
    alias_idx: np.ndarray
    codes: np.ndarray
    points: np.ndarray
    code_lengths: np.ndarray
    sig: np.ndarray
    logsig: np.ndarray
    skipgram: bool
    hierarchical: bool
    window: int
    negative: int
    cbow_mean: bool
    shared_negatives: bool = False


class ThreadBuffers(NamedTuple):
    """One thread's private deltas of the hot rows (zeros in, zeros out of every call).

    Attributes
    ----------
    delta0, touched0 : (hot0, dim) float32, (hot0,) bool
        Input rows: word2vec buffers the ``hot0`` first rows of ``syn0`` (most
        frequent words); fastText the rows its ``hot_rows`` lists.
    delta1, touched1 : (hot1, dim) float32, (hot1,) bool
        Output rows: the first rows of ``syn1`` with negative sampling, its
        last (the Huffman nodes nearest the root) with hierarchical softmax.
    """

    delta0: np.ndarray
    touched0: np.ndarray
    delta1: np.ndarray
    touched1: np.ndarray


def new_thread_buffers(hot0: int, hot1: int, dim: int) -> ThreadBuffers:
    """Zeroed :class:`ThreadBuffers` for ``hot0`` input and ``hot1`` output rows of width ``dim``."""
    return ThreadBuffers(
        np.zeros((hot0, dim), np.float32),
        np.zeros(hot0, np.bool_),
        np.zeros((hot1, dim), np.float32),
        np.zeros(hot1, np.bool_),
    )


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


# ---------------------------------------------------------------------- random numbers, tables
@njit(nogil=True, fastmath=True, cache=True, inline="always")
def lcg(state):
    """word2vec's linear congruential generator: the next 64-bit state."""
    return state * _LCG_MUL + _LCG_ADD


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def uniform16(state):
    """A float32 in [0, 1) from bits 16..31 of ``state``."""
    return np.float32((state >> np.uint64(16)) & np.uint64(0xFFFF)) / np.float32(65536.0)


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def table_index(f):
    return int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))


# ---------------------------------------------------------------------- pieces and sentences
@njit(nogil=True, fastmath=True, cache=True, inline="always")
def count_words(tokens):
    """Words in a piece (entries >= 0; ``-1`` ends a sentence)."""
    total = 0
    for i in range(tokens.shape[0]):
        if tokens[i] >= 0:
            total += 1
    return total


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def interpolate_alpha(alpha_start, alpha_end, words_seen, words_total):
    """The learning rate after ``words_seen`` of a piece's ``words_total`` words (float32)."""
    return np.float32(
        alpha_start + (alpha_end - alpha_start) * (words_seen / max(words_total - 1, 1))
    )


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def gather_sentence(tokens, pos, keep_prob, sentence, state):
    """Copy the sentence starting at ``tokens[pos]`` into ``sentence``, subsampled.

    Returns (length kept, position after the sentence end, words read, rng state).
    """
    n = tokens.shape[0]
    length = 0
    read = 0
    while pos < n and tokens[pos] >= 0:
        w = tokens[pos]
        pos += 1
        read += 1
        if keep_prob[w] < 1.0:
            state = lcg(state)
            if keep_prob[w] < uniform16(state):
                continue
        sentence[length] = w
        length += 1
    return length, pos + 1, read, state


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def shrunk_window(c, length, window, state):
    """word2vec's random window around position ``c``: (lo, hi, rng state), ``hi`` exclusive."""
    state = lcg(state)
    b = np.int64(state % np.uint64(window))
    lo = max(0, c - window + b)
    hi = min(length, c + window + 1 - b)
    return lo, hi, state


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def train_sentences(tokens, tables, alpha_start, alpha_end, seed, step, args):
    """The loop every skip-gram / CBOW kernel runs over a piece; ``step`` trains one sentence.

    Gathers each sentence of ``tokens`` (subsampled with ``tables.keep_prob``),
    interpolates the learning rate from ``alpha_start`` to ``alpha_end`` over
    the piece's words and calls, for each sentence::

        loss, examples, state = step(sentence, length, alpha, tables, args, loss, examples, state)

    ``sentence[:length]`` holds the words kept; ``args`` the kernel's own
    arguments (weights, buffers, work rows), as one tuple.  The step runs
    word2vec's window over the sentence: for each centre ``c``,
    ``lo, hi, state = shrunk_window(c, length, tables.window, state)``.
    ``step`` is a jitted function: numba compiles one copy of this loop per
    kernel, with ``step`` inlined into it.  It is called per sentence, not
    per centre word: unpacking ``args`` costs an atomic reference-count
    update per array, kept off the per-word path.

    Returns
    -------
    loss : float
        The summed ``loss`` that the steps returned.
    examples : int
        Predictions made, as counted by the steps.
    """
    n = tokens.shape[0]
    keep_prob = tables.keep_prob
    sentence = np.empty(n, dtype=np.int32)
    state = np.uint64(seed)
    loss = 0.0
    examples = 0
    words_total = count_words(tokens)
    if words_total == 0:
        return 0.0, 0
    words_seen = 0
    pos = 0
    while pos < n:
        alpha = interpolate_alpha(alpha_start, alpha_end, words_seen, words_total)
        length, pos, read, state = gather_sentence(tokens, pos, keep_prob, sentence, state)
        words_seen += read
        loss, examples, state = step(sentence, length, alpha, tables, args, loss, examples, state)
    return loss, examples


@njit(nogil=True, fastmath=True, cache=True)
def work_buffer(n_floats):
    """``n_floats`` float32 of scratch with 4 KiB of padding on each side (no false sharing)."""
    return np.empty(2 * _PAD + n_floats, dtype=np.float32)


# ---------------------------------------------------------------------- hot rows
@njit(nogil=True, fastmath=True, cache=True, inline="always")
def hot_index(row, hot_lo, hot_n):
    """Index of ``row`` in the delta buffer, or -1 when it is not buffered."""
    h = row - hot_lo
    if h < 0 or h >= hot_n:
        return -1
    return h


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def dot_output(inp, out, row, delta, h):
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
def update_output(inp, out, row, delta, h, touched, g, neu1e):
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
def read_input(syn0, row, delta0, hot_n, buf):
    """buf = syn0[row] (+ this thread's delta for a hot row)."""
    if row < hot_n:
        for j in range(buf.shape[0]):
            buf[j] = syn0[row, j] + delta0[row, j]
    else:
        for j in range(buf.shape[0]):
            buf[j] = syn0[row, j]


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def add_input(syn0, row, delta0, touched0, hot_n, grad):
    """syn0[row] += grad (into this thread's delta for a hot row)."""
    if row < hot_n:
        for j in range(grad.shape[0]):
            delta0[row, j] += grad[j]
        touched0[row] = True
    else:
        for j in range(grad.shape[0]):
            syn0[row, j] += grad[j]


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def flush(matrix, lo, delta, touched):
    """matrix[lo + h] += delta[h] for every touched hot row, then clear the buffer."""
    for h in range(touched.shape[0]):
        if touched[h]:
            for j in range(delta.shape[1]):
                matrix[lo + h, j] += delta[h, j]
                delta[h, j] = 0.0
            touched[h] = False


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def output_hot_rows(syn1, bufs, hierarchical):
    """(first hot row of ``syn1``, hot rows in use): the first rows (negative sampling) or the
    last ones (hierarchical softmax), never more than ``syn1`` has."""
    hot1 = min(bufs.delta1.shape[0], syn1.shape[0])
    return (syn1.shape[0] - hot1 if hierarchical else 0), hot1


# ---------------------------------------------------------------------- losses
@njit(nogil=True, fastmath=True, cache=True, inline="always")
def negative_sampling(
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
            state = lcg(state)
            word = np.int64((state >> np.uint64(32)) % np.uint64(n_words))
            if uniform16(state) >= alias_prob[word]:
                word = np.int64(alias_idx[word])
            if word == target:
                continue
            label = 0.0
        h = hot_index(word, 0, hot_n)
        f = dot_output(inp, syn1neg, word, delta, h)
        # >=: at f == MAX_EXP the table index would be EXP_TABLE_SIZE, one past the tables
        # (word2vec C allocates EXP_TABLE_SIZE + 1 entries); that read gave NaN on graph walks
        if f >= MAX_EXP:
            g = (label - 1.0) * alpha
            if label == 0.0:
                loss += f  # -log(sigmoid(-f)) ~ f for large f
        elif f < -MAX_EXP:
            g = label * alpha
            if label == 1.0:
                loss -= f
        else:
            t = table_index(f)
            g = (label - sig[t]) * alpha
            if label == 1.0:
                loss -= logsig[t]
            else:
                loss -= logsig[EXP_TABLE_SIZE - 1 - t]
        update_output(inp, syn1neg, word, delta, h, touched, np.float32(g), neu1e)
    return loss, state


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def hierarchical_softmax(
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
        h = hot_index(node, hot_lo, hot_n)
        f = dot_output(inp, syn1, node, delta, h)
        if f <= -MAX_EXP or f >= MAX_EXP:
            # word2vec C skips saturated nodes; count their loss all the same
            if (code == 0) == (f < 0):
                loss += abs(f)
            continue
        t = table_index(f)
        g = np.float32((1.0 - code - sig[t]) * alpha)
        loss -= logsig[t] if code == 0 else logsig[EXP_TABLE_SIZE - 1 - t]
        update_output(inp, syn1, node, delta, h, touched, g, neu1e)
    return loss


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def predict(inp, syn1, target, neu1e, alpha, tables, state, delta1, touched1, hot1):
    """Predict ``target`` from the input row ``inp`` with the model's objective.

    Adds the gradient for ``inp`` into ``neu1e`` and updates ``syn1``;
    returns (loss, rng state).
    """
    if tables.hierarchical:
        loss = hierarchical_softmax(
            inp, syn1, tables.codes, tables.points, target, tables.code_lengths[target], neu1e,
            alpha, tables.sig, tables.logsig, delta1, touched1, hot1,
        )  # fmt: skip
        return loss, state
    return negative_sampling(
        inp, syn1, target, neu1e, alpha, tables.negative, tables.alias_prob, tables.alias_idx,
        tables.sig, tables.logsig, state, delta1, touched1, hot1,
    )  # fmt: skip


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def predict_from_context(
    inp, count, syn1, target, neu1e, alpha, tables, state, delta1, touched1, hot1
):
    """CBOW's prediction: ``inp`` holds the sum of ``count`` context rows.

    Divides ``inp`` by ``count`` when ``tables.cbow_mean``, zeroes ``neu1e``
    and calls :func:`predict`; returns (loss, rng state).
    """
    if tables.cbow_mean:
        inv = np.float32(1.0 / count)
        for j in range(inp.shape[0]):
            inp[j] *= inv
    for j in range(inp.shape[0]):
        neu1e[j] = 0.0
    return predict(inp, syn1, target, neu1e, alpha, tables, state, delta1, touched1, hot1)
