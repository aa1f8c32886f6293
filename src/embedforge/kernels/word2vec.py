"""word2vec inner loop: skip-gram and CBOW, negative sampling and hierarchical softmax.

Plain arrays in, weights updated in place, no Python objects: each call
trains one piece of an encoded corpus (int32 word ids, ``-1`` ending each
sentence) and returns its summed loss.  Threads call :func:`train_piece` on
different pieces at once and update the shared matrices without locks
(Hogwild), as word2vec C and gensim do; numba releases the GIL (``nogil``).

The updates follow the word2vec C tool (Mikolov et al. 2013): skip-gram
predicts the centre word from each context word's input vector; CBOW
averages the context input vectors.  The helpers shared with fastText
(subsampling, window shrinking, negative sampling, hierarchical softmax, the
per-thread hot-row deltas and why they exist) are in
:mod:`embedforge.kernels._sgns`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._sgns import (
    _PAD,
    add_input,
    flush,
    output_hot_rows,
    predict,
    read_input,
    shrunk_window,
    train_sentences,
    work_buffer,
)

__all__ = ["train_piece"]


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _step(sentence, length, alpha, tables, args, loss, examples, state):
    """Train on one (subsampled) sentence, ``sentence[:length]``, centre word by centre word
    (the ``step`` of :func:`embedforge.kernels._sgns.train_sentences`)."""
    syn0, syn1, delta0, touched0, delta1, touched1, hot0, hot1, neu1e, inp = args
    dim = syn0.shape[1]
    for c in range(length):
        lo, hi, state = shrunk_window(c, length, tables.window, state)
        word = sentence[c]
        if tables.skipgram:
            for a in range(lo, hi):
                if a == c:
                    continue
                ctx = sentence[a]
                read_input(syn0, ctx, delta0, hot0, inp)
                for j in range(dim):
                    neu1e[j] = 0.0
                step_loss, state = predict(
                    inp, syn1, word, neu1e, alpha, tables, state, delta1, touched1, hot1
                )
                loss += step_loss
                add_input(syn0, ctx, delta0, touched0, hot0, neu1e)
                examples += 1
            continue
        # written out rather than with _sgns.predict_from_context as fastText does:
        # faster in interleaved A/B runs
        for j in range(dim):
            inp[j] = 0.0
        count = 0
        for a in range(lo, hi):
            if a != c:
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
        if tables.cbow_mean:
            inv = np.float32(1.0 / count)
            for j in range(dim):
                inp[j] *= inv
        for j in range(dim):
            neu1e[j] = 0.0
        step_loss, state = predict(
            inp, syn1, word, neu1e, alpha, tables, state, delta1, touched1, hot1
        )
        loss += step_loss
        if not tables.cbow_mean:
            inv = np.float32(1.0 / count)
            for j in range(dim):
                neu1e[j] *= inv
        for a in range(lo, hi):
            if a != c:
                add_input(syn0, sentence[a], delta0, touched0, hot0, neu1e)
        examples += 1
    return loss, examples, state


@njit(nogil=True, fastmath=True, cache=True)
def train_piece(tokens, syn0, syn1, tables, alpha_start, alpha_end, seed, bufs):
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
    tables : Tables
        The vocabulary's tables and the model's options
        (:class:`embedforge.kernels._sgns.Tables`).
    alpha_start, alpha_end : float
        Learning rate at the first and the last word of the piece (linear in between).
    seed : uint64
        Seed of the piece's random stream.
    bufs : ThreadBuffers
        The calling thread's own deltas for the ``hot0`` first rows of ``syn0``
        (most frequent words) and the hot rows of ``syn1``: their updates go
        there and are added to the matrices at the end of the call.  Zeros
        in, zeros out.  Empty (one thread): plain word2vec updates.

    Returns
    -------
    loss : float
        Summed negative log-likelihood of every prediction made.
    examples : int
        Predictions made (skip-gram: (centre, context) pairs; CBOW: centre words).
    """
    dim = syn0.shape[1]
    delta0, touched0 = bufs.delta0, bufs.touched0
    delta1, touched1 = bufs.delta1, bufs.touched1
    hot0 = min(delta0.shape[0], syn0.shape[0])
    hot1_lo, hot1 = output_hot_rows(syn1, bufs, tables.hierarchical)
    work = work_buffer(2 * dim + 32)
    neu1e = work[_PAD : _PAD + dim]
    inp = work[_PAD + dim + 32 : _PAD + 2 * dim + 32]  # a context word's row or the CBOW mean
    args = (syn0, syn1, delta0, touched0, delta1, touched1, hot0, hot1, neu1e, inp)
    loss, examples = train_sentences(tokens, tables, alpha_start, alpha_end, seed, _step, args)
    flush(syn0, 0, delta0[:hot0], touched0[:hot0])
    flush(syn1, hot1_lo, delta1[:hot1], touched1[:hot1])
    return loss, examples
