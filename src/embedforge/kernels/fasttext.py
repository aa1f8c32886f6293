"""fastText inner loops: character n-gram hashing and subword skip-gram / CBOW training.

Plain arrays in, weights updated in place, no Python objects.  A word's input
vector is the mean of its own row and of its character n-gram rows in one
input matrix of ``n_words + bucket`` rows (words first, then the hash
buckets), as in the reference fastText (Bojanowski et al. 2017, cited in
:mod:`embedforge.text.fasttext`).  Each word's rows are given as a CSR table
(``sub_offsets``, ``sub_ids``) computed once per vocabulary by
:func:`subword_table`.

The updates follow the reference ``Model::update``: the hidden vector is the
mean of the input rows, the loss (negative sampling or hierarchical softmax,
shared with word2vec in :mod:`embedforge.kernels._sgns`) adds its gradient into
``neu1e``, and ``neu1e`` is added whole to every input row.  Skip-gram
predicts each context word from the centre word's subwords; CBOW predicts the
centre word from the subwords of all context words.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ._sgns import (
    _PAD,
    flush,
    output_hot_rows,
    predict,
    predict_from_context,
    shrunk_window,
    train_sentences,
    work_buffer,
)

__all__ = ["Subwords", "fnv1a_32", "subword_table", "train_piece", "word_vectors"]


class Subwords(NamedTuple):
    """Each word's input rows (its own, then its n-grams'), as a CSR table, and the hot rows.

    Attributes
    ----------
    offsets : (n_words + 1,) int64
    ids : (total,) int64
        Input rows of word ``w``: ``ids[offsets[w]:offsets[w + 1]]``.
    hot : (total,) int32
        For each entry of ``ids``, its slot in the thread's ``delta0``, or -1
        (all -1 when no input row is buffered).
    hot_rows : (hot0,) int64
        The row of ``syn0`` of each slot of ``delta0``.
    """

    offsets: np.ndarray
    ids: np.ndarray
    hot: np.ndarray
    hot_rows: np.ndarray


_FNV_OFFSET = np.uint32(2166136261)
_FNV_PRIME = np.uint32(16777619)


@njit(nogil=True, cache=True, inline="always")
def _fnv1a(data, start, stop):
    """32-bit FNV-1a of ``data[start:stop]`` with fastText's signed-char quirk."""
    h = np.uint32(2166136261)
    for i in range(start, stop):
        b = np.int32(data[i])
        if b >= 128:  # int8_t(byte) cast to uint32_t: 0xFFFFFF00 | byte
            b = b - 256
        h = np.uint32(h ^ np.uint32(b & 0xFFFFFFFF))
        h = np.uint32(np.uint64(h) * np.uint64(16777619) & np.uint64(0xFFFFFFFF))
    return h


@njit(nogil=True, cache=True)
def fnv1a_32(data):
    """fastText's hash of a UTF-8 byte string.

    Parameters
    ----------
    data : (n,) uint8
        The bytes.

    Returns
    -------
    np.uint32
        FNV-1a over the bytes, each byte first cast to a signed char and then
        to uint32 (as ``Dictionary::hash`` does), so bytes >= 0x80 are XORed
        as ``0xFFFFFF00 | byte``.
    """
    return _fnv1a(data, 0, data.shape[0])


@njit(nogil=True, cache=True)
def subword_table(data, offsets, first_row, min_n, max_n, bucket, skip):
    """Rows of the character n-grams of many words, as fastText's ``computeSubwords``.

    Parameters
    ----------
    data : (total_bytes,) uint8
        The UTF-8 bytes of every word already wrapped in ``<`` and ``>``, concatenated.
    offsets : (n_words + 1,) int64
        Word ``i`` is ``data[offsets[i]:offsets[i + 1]]``.
    first_row : int
        Row of bucket 0 (``n_words`` of the model; 0 gives plain bucket ids).
    min_n, max_n : int
        N-gram lengths in characters (UTF-8 code points).
    bucket : int
        Number of hash buckets; 0 gives no n-grams.
    skip : (n_words,) bool
        Words that get no n-grams (fastText's ``</s>``).

    Returns
    -------
    ngram_offsets : (n_words + 1,) int64
        The n-grams of word ``i`` are ``rows[ngram_offsets[i]:ngram_offsets[i + 1]]``.
    rows : (total,) int64
        ``first_row + fnv1a_32(ngram) % bucket`` for each n-gram, in fastText's order
        (by start character, then by length).

    Notes
    -----
    An n-gram starts at a character boundary (not a UTF-8 continuation byte),
    spans 1 to ``max_n`` characters, and is kept when its length is at least
    ``min_n`` and it is not a single character at either end of the word
    (the lone ``<`` or ``>``).  The whole ``<word>`` is one of them when it
    is at most ``max_n`` characters long.
    """
    n_words = offsets.shape[0] - 1
    out_offsets = np.zeros(n_words + 1, dtype=np.int64)
    if bucket <= 0 or max_n < min_n or max_n < 1:
        return out_offsets, np.zeros(0, dtype=np.int64)
    span = max_n - max(min_n, 1) + 1
    rows = np.empty(max(1, (offsets[n_words] - offsets[0]) * span), dtype=np.int64)
    total = 0
    ubucket = np.uint32(bucket)
    for w in range(n_words):
        out_offsets[w] = total
        if skip[w]:
            continue
        lo = offsets[w]
        hi = offsets[w + 1]
        for i in range(lo, hi):
            if (data[i] & 0xC0) == 0x80:
                continue
            j = i
            n = 1
            while j < hi and n <= max_n:
                j += 1
                while j < hi and (data[j] & 0xC0) == 0x80:
                    j += 1
                if n >= min_n and not (n == 1 and (i == lo or j == hi)):
                    h = _fnv1a(data, i, j)
                    rows[total] = first_row + np.int64(h % ubucket)
                    total += 1
                n += 1
    out_offsets[n_words] = total
    return out_offsets, rows[:total].copy()


@njit(nogil=True, fastmath=True, cache=True)
def word_vectors(syn0, sub_offsets, sub_ids, out):
    """Each word's vector: the mean of its input rows, as fastText's ``getWordVector``.

    Parameters
    ----------
    syn0 : (n_rows, dim) float32
        Input rows.
    sub_offsets : (n_words + 1,) int64
    sub_ids : (total,) int64
        Rows of word ``w``: ``sub_ids[sub_offsets[w]:sub_offsets[w + 1]]``.
    out : (n_words, dim) float32
        Filled in place (summed in float64, then divided by the number of rows;
        zeros for a word without rows).
    """
    dim = syn0.shape[1]
    acc = np.empty(dim, dtype=np.float64)
    for w in range(out.shape[0]):
        lo = sub_offsets[w]
        hi = sub_offsets[w + 1]
        for j in range(dim):
            acc[j] = 0.0
        for k in range(lo, hi):
            r = sub_ids[k]
            for j in range(dim):
                acc[j] += syn0[r, j]
        inv = 1.0 / max(hi - lo, 1)
        for j in range(dim):
            out[w, j] = acc[j] * inv


# Speed (see the thread-scaling notes in :mod:`embedforge.kernels._sgns`;
# the same habits apply: no row views, inlined helpers, padded work buffers,
# hot rows buffered per thread):
# - Skip-gram: the centre word's input rows are the same for all its context
#   words.  Their mean is computed once per centre word; after each (centre,
#   context) prediction the pair's gradient is added to that mean (adding the
#   same gradient to every input row moves their mean by exactly that
#   gradient) and to a running sum, which is added to the rows once per
#   centre word.  The result is the reference ``Model::update`` per pair,
#   up to float rounding (and exactly so unless a word's n-grams hash to the
#   same bucket twice), at a sixth of the row traffic with window 5.
# - Input rows: with ``delta0`` non-empty, the most used input rows (frequent
#   words and common n-grams such as "ing>" or "<th") go to a private
#   per-thread delta, as word2vec's hot rows do; ``sub_hot`` says, for each
#   entry of ``sub_ids``, its slot in the delta (or -1).  Written once per
#   centre word, they gained nothing in A/B runs on 2 threads, so the trainer
#   passes an empty buffer (see embedforge.text.fasttext._HOT_INPUT_ROWS).


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _mean_rows(syn0, sub_ids, sub_hot, lo, hi, delta0, out):
    """out = mean of syn0[sub_ids[lo:hi]] (+ this thread's deltas), by (row, column)."""
    dim = out.shape[0]
    for j in range(dim):
        out[j] = 0.0
    for k in range(lo, hi):
        r = sub_ids[k]
        h = sub_hot[k]
        if h < 0:
            for j in range(dim):
                out[j] += syn0[r, j]
        else:
            for j in range(dim):
                out[j] += syn0[r, j] + delta0[h, j]
    if hi - lo > 1:
        inv = np.float32(1.0 / (hi - lo))
        for j in range(dim):
            out[j] *= inv


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _add_rows(syn0, sub_ids, sub_hot, lo, hi, delta0, touched0, grad):
    """syn0[r] += grad for every r in sub_ids[lo:hi] (into the delta for a hot row)."""
    dim = grad.shape[0]
    for k in range(lo, hi):
        r = sub_ids[k]
        h = sub_hot[k]
        if h < 0:
            for j in range(dim):
                syn0[r, j] += grad[j]
        else:
            for j in range(dim):
                delta0[h, j] += grad[j]
            touched0[h] = True


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _flush_rows(matrix, rows, delta, touched):
    """matrix[rows[h]] += delta[h] for every touched slot ``h``, then clear the buffer."""
    for h in range(touched.shape[0]):
        if touched[h]:
            r = rows[h]
            for j in range(delta.shape[1]):
                matrix[r, j] += delta[h, j]
                delta[h, j] = 0.0
            touched[h] = False


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _step(sentence, length, alpha, tables, args, loss, examples, state):
    """Train on one (subsampled) sentence, ``sentence[:length]``, centre word by centre word
    (the ``step`` of :func:`embedforge.kernels._sgns.train_sentences`)."""
    (
        syn0, syn1, sub_offsets, sub_ids, sub_hot, delta0, touched0, delta1, touched1, hot1,
        neu1e, hidden, grad,
    ) = args  # fmt: skip
    dim = syn0.shape[1]
    for c in range(length):
        lo, hi, state = shrunk_window(c, length, tables.window, state)
        word = sentence[c]
        if tables.skipgram:
            if hi - lo < 2:
                continue
            s_lo = sub_offsets[word]
            s_hi = sub_offsets[word + 1]
            _mean_rows(syn0, sub_ids, sub_hot, s_lo, s_hi, delta0, hidden)
            for j in range(dim):
                grad[j] = 0.0
            for a in range(lo, hi):
                if a == c:
                    continue
                for j in range(dim):
                    neu1e[j] = 0.0
                step_loss, state = predict(
                    hidden, syn1, sentence[a], neu1e, alpha, tables, state, delta1, touched1, hot1
                )
                loss += step_loss
                for j in range(dim):
                    hidden[j] += neu1e[j]
                    grad[j] += neu1e[j]
                examples += 1
            _add_rows(syn0, sub_ids, sub_hot, s_lo, s_hi, delta0, touched0, grad)
            continue
        for j in range(dim):
            hidden[j] = 0.0
        count = 0
        for a in range(lo, hi):
            if a == c:
                continue
            ctx = sentence[a]
            for k in range(sub_offsets[ctx], sub_offsets[ctx + 1]):
                r = sub_ids[k]
                h = sub_hot[k]
                if h < 0:
                    for j in range(dim):
                        hidden[j] += syn0[r, j]
                else:
                    for j in range(dim):
                        hidden[j] += syn0[r, j] + delta0[h, j]
                count += 1
        if count == 0:
            continue
        step_loss, state = predict_from_context(
            hidden, count, syn1, word, neu1e, alpha, tables, state, delta1, touched1, hot1
        )
        loss += step_loss
        for a in range(lo, hi):
            if a != c:
                ctx = sentence[a]
                s_lo, s_hi = sub_offsets[ctx], sub_offsets[ctx + 1]
                _add_rows(syn0, sub_ids, sub_hot, s_lo, s_hi, delta0, touched0, neu1e)
        examples += 1
    return loss, examples, state


@njit(nogil=True, fastmath=True, cache=True)
def train_piece(tokens, syn0, syn1, subwords, tables, alpha_start, alpha_end, seed, bufs):
    """Train fastText on one piece of an encoded corpus.

    Parameters
    ----------
    tokens : (n,) int32
        Word ids, ``-1`` ending each sentence.
    syn0 : (n_words + bucket, dim) float32
        Input rows (words, then n-gram buckets), updated in place.
    syn1 : (n_words, dim) or (n_words - 1, dim) float32
        Output rows, updated in place.
    subwords : Subwords
        Each word's input rows and the hot-row slots of ``bufs.delta0``.
    tables : Tables
        The vocabulary's tables and the model's options
        (:class:`embedforge.kernels._sgns.Tables`).
    alpha_start, alpha_end : float
        Learning rate at the first and last word of the piece.
    seed : uint64
    bufs : ThreadBuffers
        The calling thread's deltas: ``delta0`` for the input rows
        ``subwords.hot_rows`` (empty with one thread), ``delta1`` for the
        most contended output rows (see :mod:`embedforge.kernels._sgns`);
        added to the matrices at the end of the call.  Zeros in, zeros out.

    Returns
    -------
    loss : float
        Summed negative log-likelihood of every prediction.
    examples : int
        Predictions made.
    """
    dim = syn0.shape[1]
    delta1, touched1 = bufs.delta1, bufs.touched1
    hot1_lo, hot1 = output_hot_rows(syn1, bufs, tables.hierarchical)
    work = work_buffer(3 * dim + 64)
    neu1e = work[_PAD : _PAD + dim]
    hidden = work[_PAD + dim + 32 : _PAD + 2 * dim + 32]
    grad = work[_PAD + 2 * dim + 64 : _PAD + 3 * dim + 64]
    args = (
        syn0, syn1, subwords.offsets, subwords.ids, subwords.hot, bufs.delta0, bufs.touched0,
        delta1, touched1, hot1, neu1e, hidden, grad,
    )  # fmt: skip
    loss, examples = train_sentences(tokens, tables, alpha_start, alpha_end, seed, _step, args)
    _flush_rows(syn0, subwords.hot_rows, bufs.delta0, bufs.touched0)
    flush(syn1, hot1_lo, delta1[:hot1], touched1[:hot1])
    return loss, examples
