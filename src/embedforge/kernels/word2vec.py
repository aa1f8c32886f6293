"""word2vec inner loop: skip-gram and CBOW, negative sampling and hierarchical softmax.

Plain arrays in, weights updated in place, no Python objects: each call
trains one piece of an encoded corpus (int32 word ids, ``-1`` ending each
sentence) and returns its summed loss.  Threads call :func:`train_piece` on
different pieces at once and update the shared matrices without locks
(Hogwild), as word2vec C and gensim do; numba releases the GIL (``nogil``).

The updates follow the word2vec C tool (Mikolov et al. 2013): skip-gram
predicts the centre word from each context word's input vector; CBOW
averages the context input vectors.

Skip-gram with negative sampling has a second loop, chosen by
``tables.shared_negatives``: the noise words are drawn once per centre word
and shared by all its context words, as in HogBatch (Ji, Satish, Li, Dubey,
"Parallelizing Word2Vec in Shared and Distributed Memory", IEEE TPDS 2019,
arXiv:1604.04661).  The window's distinct context rows and its centre and
noise rows are copied into small blocks that stay in L1 cache; the pairs are
then trained one after another on the blocks with word2vec's updates (a
context word repeated in the window shares its block row, so it sees its own
earlier update), and the blocks' changes are added to the weights once per
window.  Unlike HogBatch's single matrix product, which diverges on small or
repetitive graphs (a pair's update no longer sees the previous pair's), this
keeps word2vec's step-by-step updates; it reads and writes each output row
once per window instead of once per pair and draws 1/(2 window) as many
random numbers.  Measured: 3.5-4x fewer CPU seconds per word at window 10,
dim 128 on node2vec walks of BlogCatalog, with the same node-classification
quality (benchmarks/node2vec_vs_pecanpy.py).

The helpers shared with fastText (subsampling, window shrinking, negative
sampling, hierarchical softmax, the per-thread hot-row deltas and why they
exist) are in :mod:`embedforge.kernels._sgns`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._sgns import (
    _PAD,
    EXP_TABLE_SIZE,
    MAX_EXP,
    add_input,
    flush,
    lcg,
    output_hot_rows,
    predict,
    read_input,
    shrunk_window,
    table_index,
    train_sentences,
    uniform16,
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


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _step_shared(sentence, length, alpha, tables, args, loss, examples, state):
    """Skip-gram, negative sampling, noise words shared by a window (see the module docstring)
    on one sentence: the ``step`` of :func:`embedforge.kernels._sgns.train_sentences`."""
    syn0, syn1, delta0, touched0, delta1, touched1, hot0, hot1, blocks, index = args
    x, x0, y, y0, gs, row = blocks
    outs, ctxs, slots = index
    dim = syn0.shape[1]
    n_words = syn1.shape[0]
    alias_prob, alias_idx = tables.alias_prob, tables.alias_idx
    sig, logsig = tables.sig, tables.logsig
    for c in range(length):
        lo, hi, state = shrunk_window(c, length, tables.window, state)
        word = sentence[c]
        # one row of x per distinct context word: a repeated word shares its row, so it sees
        # its own earlier update, as in word2vec's pair-by-pair loop
        n_in = 0
        n_ctx = 0
        for a in range(lo, hi):
            if a == c:
                continue
            ctx = sentence[a]
            s = -1
            for k in range(n_in):
                if ctxs[k] == ctx:
                    s = k
                    break
            if s < 0:
                s = n_in
                ctxs[s] = ctx
                # the row copies are written out here and below: an inlined helper for both
                # measured 18% slower
                if ctx < hot0:
                    for j in range(dim):
                        x[s, j] = syn0[ctx, j] + delta0[ctx, j]
                else:
                    for j in range(dim):
                        x[s, j] = syn0[ctx, j]
                for j in range(dim):
                    x0[s, j] = x[s, j]
                n_in += 1
            slots[n_ctx] = s
            n_ctx += 1
        if n_ctx == 0:
            continue
        # the centre word, then the noise words drawn as word2vec does (a draw equal to the
        # centre word is dropped; a noise word drawn twice gets two rows)
        n_out = 0
        for d in range(tables.negative + 1):
            if d == 0:
                out = np.int64(word)
            else:
                state = lcg(state)
                out = np.int64((state >> np.uint64(32)) % np.uint64(n_words))
                if uniform16(state) >= alias_prob[out]:
                    out = np.int64(alias_idx[out])
                if out == word:
                    continue
            outs[n_out] = out
            if out < hot1:
                for j in range(dim):
                    y[n_out, j] = syn1[out, j] + delta1[out, j]
            else:
                for j in range(dim):
                    y[n_out, j] = syn1[out, j]
            for j in range(dim):
                y0[n_out, j] = y[n_out, j]
            n_out += 1
        # word2vec's updates, (context, centre) pair after pair, on the blocks; within a pair
        # every dot product is taken before the pair's updates (word2vec C interleaves them;
        # the same here, as the rows differ), so they do not wait on each other
        for i in range(n_ctx):
            s = slots[i]
            for d in range(n_out):
                f = np.float32(0.0)
                for j in range(dim):
                    f += x[s, j] * y[d, j]
                if f >= MAX_EXP:
                    g = (np.float32(1.0 if d == 0 else 0.0) - 1.0) * alpha
                    if d > 0:
                        loss += f
                elif f < -MAX_EXP:
                    g = (1.0 if d == 0 else 0.0) * alpha
                    if d == 0:
                        loss -= f
                else:
                    t = table_index(f)
                    g = (np.float32(1.0 if d == 0 else 0.0) - sig[t]) * alpha
                    loss -= logsig[t] if d == 0 else logsig[EXP_TABLE_SIZE - 1 - t]
                gs[d] = g
            for j in range(dim):
                row[j] = 0.0
            for d in range(n_out):
                g = gs[d]
                for j in range(dim):
                    row[j] += g * y[d, j]
                    y[d, j] += g * x[s, j]
            for j in range(dim):
                x[s, j] += row[j]
        # the window's changes into the shared weights (or this thread's hot-row deltas)
        for s in range(n_in):
            for j in range(dim):
                row[j] = x[s, j] - x0[s, j]
            add_input(syn0, ctxs[s], delta0, touched0, hot0, row)
        for d in range(n_out):
            for j in range(dim):
                row[j] = y[d, j] - y0[d, j]
            add_input(syn1, outs[d], delta1, touched1, hot1, row)
        examples += n_ctx
    return loss, examples, state


@njit(nogil=True, fastmath=True, cache=True)
def _train_shared(tokens, syn0, syn1, tables, alpha_start, alpha_end, seed, bufs, hot0, hot1):
    """:func:`train_piece` with ``tables.shared_negatives``.

    Its own function, and each block its own allocation: after inlining, LLVM
    sees that the blocks cannot overlap and vectorises the row loops (slices
    of one buffer, or one function with the pair-by-pair loop, ran 20-25%
    slower).  The small arrays are padded by 64 bytes on each side (no false
    sharing between threads).
    """
    dim = syn0.shape[1]
    delta0, touched0 = bufs.delta0, bufs.touched0
    delta1, touched1 = bufs.delta1, bufs.touched1
    n_in, n_out = 2 * tables.window, tables.negative + 1
    blocks = (
        np.empty((n_in, dim), np.float32),  # x: the window's context rows, updated
        np.empty((n_in, dim), np.float32),  # x0: as read
        np.empty((n_out, dim), np.float32),  # y: the centre and noise rows, updated
        np.empty((n_out, dim), np.float32),  # y0: as read
        np.empty(n_out + 32, np.float32)[16 : 16 + n_out],  # one pair's gradients
        np.empty(dim + 32, np.float32)[16 : 16 + dim],  # one row's update
    )
    index = (
        np.empty(n_out + 16, np.int64)[8 : 8 + n_out],  # output row of each y
        np.empty(n_in + 16, np.int64)[8 : 8 + n_in],  # input row of each x
        np.empty(n_in + 16, np.int64)[8 : 8 + n_in],  # x of each context position
    )
    args = (syn0, syn1, delta0, touched0, delta1, touched1, hot0, hot1, blocks, index)
    return train_sentences(tokens, tables, alpha_start, alpha_end, seed, _step_shared, args)


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
    if tables.shared_negatives and tables.skipgram and not tables.hierarchical:
        loss, examples = _train_shared(
            tokens, syn0, syn1, tables, alpha_start, alpha_end, seed, bufs, hot0, hot1
        )
    else:
        work = work_buffer(2 * dim + 32)
        neu1e = work[_PAD : _PAD + dim]
        inp = work[_PAD + dim + 32 : _PAD + 2 * dim + 32]  # a context word's row or the CBOW mean
        args = (syn0, syn1, delta0, touched0, delta1, touched1, hot0, hot1, neu1e, inp)
        loss, examples = train_sentences(tokens, tables, alpha_start, alpha_end, seed, _step, args)
    flush(syn0, 0, delta0[:hot0], touched0[:hot0])
    flush(syn1, hot1_lo, delta1[:hot1], touched1[:hot1])
    return loss, examples
