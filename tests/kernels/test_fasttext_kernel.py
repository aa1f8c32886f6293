"""fastText kernels: hashing and subwords against the reference fastText, training against NumPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedforge.kernels._sgns import (
    EXP_TABLE_SIZE,
    MAX_EXP,
    Tables,
    make_tables,
    new_thread_buffers,
)
from embedforge.kernels.fasttext import (
    Subwords,
    fnv1a_32,
    subword_table,
    train_piece,
    word_vectors,
)

MASK = (1 << 64) - 1
WORDS = ["anarchism", "the", "naïve", "日本語", "zzqx", "a", "é", "ab", "straße", "ÿ€x"]


def train_reference(corpus: Path, out: Path, dim: int, bucket: int) -> None:
    """Train the reference fastText in a child process (its NaN check trips on process state
    other tests leave behind, e.g. floating-point flags set by compiled libraries)."""
    script = (
        "import sys, fasttext; fasttext.train_unsupervised(sys.argv[1], model='skipgram', "
        f"dim={dim}, epoch=1, minCount=5, thread=1, verbose=0, bucket={bucket}, minn=3, "
        "maxn=6, lr=0.025).save_model(sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(corpus), str(out)], check=True)


def fnv_reference(data: bytes) -> int:
    """fastText's Dictionary::hash in plain Python (each byte as int8_t, then uint32_t)."""
    h = 2166136261
    for byte in data:
        signed = byte - 256 if byte >= 128 else byte
        h = ((h ^ (signed & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h


def table(words, min_n=3, max_n=6, bucket=50_000, first_row=0):
    enc = [("<" + w + ">").encode() for w in words]
    off = np.zeros(len(enc) + 1, np.int64)
    off[1:] = np.cumsum([len(e) for e in enc])
    data = np.frombuffer(b"".join(enc), np.uint8)
    skip = np.array([w == "</s>" for w in words])
    return subword_table(data, off, first_row, min_n, max_n, bucket, skip)


@pytest.mark.parametrize("text", ["", "a", "<the>", "naïve", "日本語", "\x80\xff"])
def test_fnv1a_matches_plain_reference_including_high_bytes(text):
    data = text.encode("utf-8", errors="surrogatepass") if text != "\x80\xff" else b"\x80\xff"
    assert int(fnv1a_32(np.frombuffer(data, np.uint8))) == fnv_reference(data)


def test_fnv1a_signed_char_quirk_differs_from_naive_fnv():
    data = "é".encode()
    naive = 2166136261
    for byte in data:
        naive = ((naive ^ byte) * 16777619) & 0xFFFFFFFF
    assert int(fnv1a_32(np.frombuffer(data, np.uint8))) != naive


@pytest.fixture(scope="module")
def reference_model(tmp_path_factory):
    fasttext = pytest.importorskip("fasttext")
    corpus = Path(__file__).parents[1] / "data" / "text8_head.txt"
    path = tmp_path_factory.mktemp("ref") / "ref.bin"
    train_reference(corpus, path, dim=10, bucket=50_000)
    return fasttext.load_model(str(path))


def test_subword_ids_equal_reference_fasttext(reference_model):
    n_words = len(reference_model.words)
    words = [*WORDS, "kingship", "sdfgh"]
    off, rows = table(words, first_row=n_words)
    for i, word in enumerate(words):
        _, ids = reference_model.get_subwords(word)
        ids = list(ids)
        if word in reference_model.words:
            ids = ids[1:]  # the word's own row comes first
        assert list(rows[off[i] : off[i + 1]]) == ids, word


@pytest.mark.parametrize(("min_n", "max_n", "bucket"), [(4, 3, 100), (3, 6, 0)])
def test_no_ngrams_when_lengths_empty_or_no_buckets(min_n, max_n, bucket):
    off, rows = table(["hello"], min_n, max_n, bucket)
    assert rows.size == 0 and off.tolist() == [0, 0]


def test_eos_and_full_word_rules():
    off, rows = table(["</s>", "ab"], 1, 6, 1000)
    assert off[1] == 0  # </s> has no n-grams
    # <ab>: single chars 'a', 'b' (not the boundary '<' or '>'), <a ab b> <ab ab> <ab>
    assert off[2] - off[1] == 2 + 3 + 2 + 1


# ---------------------------------------------------------------------- training vs NumPy


def lcg(state: int) -> int:
    return (state * 25214903917 + 11) & MASK


def ref_train(
    tokens, syn0, syn1, offsets, ids, aprob, aidx, window, negative, a0, a1, seed, per_centre
):
    """Skip-gram with negative sampling, no subsampling: fastText's Model::update in NumPy.

    ``per_centre=False``: as the reference, the hidden vector is the mean of the centre
    word's rows, recomputed and the rows updated after every (centre, context) pair.
    ``per_centre=True``: the kernel's form: the mean is computed once per centre word and
    moved by each pair's gradient; the rows get the summed gradient once.  The two agree
    whenever no row appears twice in a word's row list.
    """
    sig, logsig = make_tables()
    state = seed
    words = [t for t in tokens if t >= 0]
    total = len(words)
    seen = 0
    sentence: list[int] = []
    sentences = []
    for t in tokens:
        if t >= 0:
            sentence.append(int(t))
        else:
            sentences.append(sentence)
            sentence = []
    loss = 0.0
    for sent in sentences:
        alpha = np.float32(a0 + (a1 - a0) * (seen / max(total - 1, 1)))
        seen += len(sent)
        for c, word in enumerate(sent):
            state = lcg(state)
            b = state % window
            lo, hi = max(0, c - window + b), min(len(sent), c + window + 1 - b)
            rows = ids[offsets[word] : offsets[word + 1]]
            hidden = syn0[rows].mean(axis=0, dtype=np.float32)
            total_grad = np.zeros_like(hidden)
            for a in range(lo, hi):
                if a == c:
                    continue
                target = sent[a]
                if not per_centre:
                    hidden = syn0[rows].mean(axis=0, dtype=np.float32)
                neu1e = np.zeros_like(hidden)
                for d in range(negative + 1):
                    if d == 0:
                        w, label = target, 1.0
                    else:
                        state = lcg(state)
                        w = (state >> 32) % syn1.shape[0]
                        u = np.float32((state >> 16) & 0xFFFF) / np.float32(65536.0)
                        if u >= aprob[w]:
                            w = int(aidx[w])
                        if w == target:
                            continue
                        label = 0.0
                    f = float(hidden @ syn1[w])
                    if f > MAX_EXP:
                        g = (label - 1.0) * alpha
                    elif f < -MAX_EXP:
                        g = label * alpha
                    else:
                        t = int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))
                        g = (label - sig[t]) * alpha
                        loss -= logsig[t] if label == 1.0 else logsig[EXP_TABLE_SIZE - 1 - t]
                    g = np.float32(g)
                    neu1e += g * syn1[w]
                    syn1[w] += g * hidden
                if per_centre:
                    hidden += neu1e
                    total_grad += neu1e
                else:
                    for r in rows:
                        syn0[r] += neu1e
            for r in rows:
                syn0[r] += total_grad
    return loss


@pytest.mark.parametrize(
    ("bucket", "per_centre"),
    [(30, True), (100_003, False)],
    ids=["colliding-buckets-vs-per-centre-form", "distinct-rows-vs-model-update"],
)
def test_train_piece_matches_numpy_reference(bucket, per_centre):
    rng = np.random.default_rng(0)
    n_words, dim = 12, 8
    words = [f"w{i}x" for i in range(n_words)]
    off, rows = table(words, 2, 3, bucket, first_row=n_words)
    repeats = [len(set(rows[a:b])) < b - a for a, b in zip(off[:-1], off[1:], strict=True)]
    # distinct rows: the per-pair updates are reproduced; with 30 buckets rows repeat
    # inside a word and only the per-centre form is matched
    assert any(repeats) == per_centre
    lengths = np.diff(off) + 1
    offsets = np.zeros(n_words + 1, np.int64)
    offsets[1:] = np.cumsum(lengths)
    ids = np.empty(offsets[-1], np.int64)
    ids[offsets[:-1]] = np.arange(n_words)
    mask = np.ones(ids.size, bool)
    mask[offsets[:-1]] = False
    ids[mask] = rows
    tokens = np.concatenate(
        [rng.integers(0, n_words, 40), [-1], rng.integers(0, n_words, 30), [-1]]
    )
    tokens = tokens.astype(np.int32)
    syn0 = ((rng.random((n_words + bucket, dim)) - 0.5) / dim).astype(np.float32)
    syn1 = ((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32)
    aprob = np.full(n_words, 0.7, np.float32)
    aidx = ((np.arange(n_words) + 1) % n_words).astype(np.int32)
    ref0, ref1 = syn0.copy(), syn1.copy()
    sig, logsig = make_tables()
    empty_codes = np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32)
    subwords = Subwords(offsets, ids, np.full(ids.size, -1, np.int32), np.zeros(0, np.int64))
    tables = Tables(np.ones(n_words, np.float32), aprob, aidx, *empty_codes, sig, logsig,
                    True, False, 3, 4, True)  # fmt: skip
    loss, examples = train_piece(
        tokens,
        syn0,
        syn1,
        subwords,
        tables,
        0.05,
        0.01,
        np.uint64(7),
        new_thread_buffers(0, 0, dim),
    )
    ref_loss = ref_train(
        tokens, ref0, ref1, offsets, ids, aprob, aidx, 3, 4, 0.05, 0.01, 7, per_centre
    )
    assert examples > 0
    np.testing.assert_allclose(syn0, ref0, atol=1e-5)
    np.testing.assert_allclose(syn1, ref1, atol=1e-5)
    assert loss == pytest.approx(ref_loss, rel=1e-3)


def _toy_model(bucket=100_003, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    n_words = 12
    off, rows = table([f"w{i}x" for i in range(n_words)], 2, 3, bucket, first_row=n_words)
    offsets = np.zeros(n_words + 1, np.int64)
    offsets[1:] = np.cumsum(np.diff(off) + 1)
    ids = np.empty(offsets[-1], np.int64)
    ids[offsets[:-1]] = np.arange(n_words)
    mask = np.ones(ids.size, bool)
    mask[offsets[:-1]] = False
    ids[mask] = rows
    syn0 = ((rng.random((n_words + bucket, dim)) - 0.5) / dim).astype(np.float32)
    return offsets, ids, syn0


def test_word_vectors_are_the_mean_of_each_words_rows():
    offsets, ids, syn0 = _toy_model()
    out = np.empty((offsets.size - 1, syn0.shape[1]), np.float32)
    word_vectors(syn0, offsets, ids, out)
    for w in range(out.shape[0]):
        expected = syn0[ids[offsets[w] : offsets[w + 1]]].mean(axis=0)
        np.testing.assert_allclose(out[w], expected, atol=1e-7)


@pytest.mark.parametrize("skipgram", [True, False], ids=["skipgram", "cbow"])
def test_hot_input_buffer_gives_the_unbuffered_result(skipgram):
    offsets, ids, syn0 = _toy_model()
    n_words, dim = offsets.size - 1, syn0.shape[1]
    rng = np.random.default_rng(1)
    tokens = np.concatenate([rng.integers(0, n_words, 60), [-1]]).astype(np.int32)
    syn1 = np.zeros((n_words, dim), np.float32)
    aprob, aidx = np.ones(n_words, np.float32), np.arange(n_words, dtype=np.int32)
    sig, logsig = make_tables()
    codes = np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32)
    hot_rows = np.unique(ids)[::3]  # a third of the used rows, words and n-grams
    slot = np.searchsorted(hot_rows, ids)
    sub_hot = np.where(hot_rows[np.minimum(slot, hot_rows.size - 1)] == ids, slot, -1)
    results = []
    for hot, rows in [(np.full(ids.size, -1), hot_rows[:0]), (sub_hot, hot_rows)]:
        s0, s1 = syn0.copy(), syn1.copy()
        bufs = new_thread_buffers(rows.size, 0, dim)
        subwords = Subwords(offsets, ids, hot.astype(np.int32), rows.astype(np.int64))
        tables = Tables(np.ones(n_words, np.float32), aprob, aidx, *codes, sig, logsig,
                        skipgram, False, 3, 3, True)  # fmt: skip
        train_piece(tokens, s0, s1, subwords, tables, 0.05, 0.01, np.uint64(5), bufs)
        assert not bufs.delta0.any() and not bufs.touched0.any()  # flushed and cleared
        results.append((s0, s1))
    assert not np.array_equal(results[0][0], syn0)
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=1e-6)
