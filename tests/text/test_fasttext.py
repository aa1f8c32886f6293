"""FastText: training, OOV vectors, persistence, and the reference fastText's .bin models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedforge import Embeddings, FastText, FastTextVectors, evaluate_word_similarity
from embedforge.errors import FormatError, InvalidParameterError, UnknownKeyError
from embedforge.formats import read_word2vec, write_word2vec

DATA = Path(__file__).parents[1] / "data"
CORPUS = DATA / "text8_head.txt"
SMALL = dict(dim=16, epochs=1, min_count=3, bucket=20_000, workers=1, seed=3, progress=False)
OOV_WORDS = ["anarchistically", "naïveté", "日本語", "kingship", "zzqx"]


def train_reference(corpus: Path, out: Path, dim: int, bucket: int) -> None:
    """Train the reference fastText in a child process (its NaN check trips on process state
    other tests leave behind, e.g. floating-point flags set by compiled libraries)."""
    script = (
        "import sys, fasttext; fasttext.train_unsupervised(sys.argv[1], model='skipgram', "
        f"dim={dim}, epoch=1, minCount=5, thread=1, verbose=0, bucket={bucket}, minn=3, "
        "maxn=6, lr=0.025).save_model(sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(corpus), str(out)], check=True)


@pytest.fixture(scope="module")
def model():
    return FastText(**SMALL).fit(CORPUS)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    fasttext = pytest.importorskip("fasttext")
    path = tmp_path_factory.mktemp("ft") / "ref.bin"
    train_reference(CORPUS, path, dim=12, bucket=30_000)
    return fasttext.load_model(str(path)), path


def test_load_facebook_vectors_equal_reference(reference):
    ref, path = reference
    ours = FastText.load_facebook(path)
    assert len(ours.wv) == len(ref.words) and ours.wv.bucket == 30_000
    for word in ["the", "anarchism", "of", ref.words[-1], *OOV_WORDS]:
        np.testing.assert_allclose(ours.wv.vector(word), ref.get_word_vector(word), atol=1e-5)
    assert ours.arch == "skipgram" and ours.dim == 12 and (ours.min_n, ours.max_n) == (3, 6)


def test_loaded_model_trains_further_with_new_words(reference, tmp_path):
    _, path = reference
    model = FastText.load_facebook(path)
    model.progress, model.workers, model.epochs, model.sample = False, 1, 1, 0.0
    before = model.wv.vector("the").copy()
    sentences = [["zorblax", "the", "of", "zorblax", "and"] * 4] * 10
    model.fit(sentences, update_vocab=True)
    assert "zorblax" in model.wv and model.wv.bucket == 30_000
    assert not np.array_equal(before, model.wv.vector("the"))
    model.save(tmp_path / "m")
    again = FastText.load(tmp_path / "m")
    np.testing.assert_array_equal(again.wv.vectors, model.wv.vectors)


def _corrupt(path: Path, tmp_path: Path, edit) -> Path:
    data = bytearray(path.read_bytes())
    out = tmp_path / "bad.bin"
    out.write_bytes(bytes(edit(data)))
    return out


def test_bad_magic_version_and_truncation_raise_format_errors(reference, tmp_path):
    _, path = reference

    def magic(d):
        d[0:4] = (1234).to_bytes(4, "little")
        return d

    def version(d):
        d[4:8] = (11).to_bytes(4, "little")
        return d

    with pytest.raises(FormatError, match=r"byte offset 0 .*magic number 793712314"):
        FastText.load_facebook(_corrupt(path, tmp_path, magic))
    with pytest.raises(FormatError, match=r"byte offset 4 holds model version 11"):
        FastText.load_facebook(_corrupt(path, tmp_path, version))
    with pytest.raises(FormatError, match=r"bad\.bin: the file ends at byte offset .*truncated"):
        FastText.load_facebook(_corrupt(path, tmp_path, lambda d: d[: len(d) - 100]))
    with pytest.raises(FormatError, match=r"while reading argument 'bucket'"):
        FastText.load_facebook(_corrupt(path, tmp_path, lambda d: d[:40]))


def test_quantized_matrix_is_refused(reference, tmp_path):
    ref, path = reference
    # offset of the input matrix's quantization flag: header, args, dictionary
    offset = 8 + 12 * 4 + 8 + 4 + 4 + 4 + 8 + 8
    offset += sum(len(w.encode()) + 1 + 8 + 1 for w in ref.words)

    def quantize(d):
        assert d[offset] == 0
        d[offset] = 1
        return d

    with pytest.raises(FormatError, match="quantized models are not supported"):
        FastText.load_facebook(_corrupt(path, tmp_path, quantize))


def test_workers_1_with_seed_is_bit_identical(model):
    again = FastText(**SMALL).fit(CORPUS)
    np.testing.assert_array_equal(again.syn0_, model.syn0_)
    np.testing.assert_array_equal(again.syn1_, model.syn1_)
    assert again.loss_history_ == model.loss_history_


def test_word_vector_is_mean_of_its_rows(model):
    wv = model.wv
    n = len(wv)
    _, rows = __import__("embedforge.text.fasttext", fromlist=["x"]).ngram_buckets(
        ["anarchism"], 3, 6, wv.bucket, first_row=n
    )
    i = wv.index("anarchism")
    expected = model.syn0_[np.concatenate([[i], rows])].mean(axis=0)
    np.testing.assert_allclose(wv.vector("anarchism"), expected, atol=1e-6)
    oov = wv.vector("anarchistically")
    _, rows = __import__("embedforge.text.fasttext", fromlist=["x"]).ngram_buckets(
        ["anarchistically"], 3, 6, wv.bucket
    )
    np.testing.assert_allclose(oov, wv.ngram_vectors[rows].mean(axis=0), atol=1e-6)


def test_oov_queries_work_everywhere(model):
    wv = model.wv
    assert "anarchistically" not in wv and wv.has_vector("anarchistically")
    assert wv["anarchistically"].shape == (16,)
    assert wv[["anarchistically", "the"]].shape == (2, 16)
    neighbours = [k for k, _ in wv.most_similar("anarchistically", k=10)]
    assert any(k.startswith("anarch") for k in neighbours), neighbours
    assert wv.similarity("anarchistically", "anarchism") > wv.similarity("anarchistically", "zero")


def test_oov_without_ngrams_raises_unknown_key(model):
    with pytest.raises(UnknownKeyError, match="no character n-gram"):
        model.wv.vector("")
    plain = FastText(**{**SMALL, "min_n": 4, "max_n": 3}).fit(CORPUS)
    with pytest.raises(UnknownKeyError, match="not in the vocabulary"):
        plain.wv.vector("anarchistically")
    assert plain.wv.bucket == SMALL["bucket"]


def test_cbow_and_hierarchical_softmax_train(model):
    for arch, objective in [("cbow", "negative_sampling"), ("skipgram", "hierarchical_softmax")]:
        m = FastText(**{**SMALL, "arch": arch, "objective": objective}).fit(CORPUS)
        assert np.isfinite(m.loss_history_[0]) and m.loss_history_[0] > 0
        assert not np.array_equal(m.syn0_[: len(m.wv)], model.syn0_[: len(model.wv)])


def test_save_load_roundtrip_and_mmap(model, tmp_path):
    model.save(tmp_path / "model")
    wv = Embeddings.load(tmp_path / "model", mmap=True)
    assert isinstance(wv, FastTextVectors)
    assert isinstance(wv.ngram_vectors, np.memmap)
    np.testing.assert_array_equal(wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(wv.ngram_vectors, model.wv.ngram_vectors)
    np.testing.assert_array_equal(wv["kingship"], model.wv["kingship"])
    model.wv.save(tmp_path / "wv")
    assert isinstance(Embeddings.load(tmp_path / "wv"), FastTextVectors)
    loaded = FastText.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.syn0_, model.syn0_)


def test_vec_export_holds_the_words_only(model, tmp_path):
    write_word2vec(model.wv, tmp_path / "out.vec")
    back = read_word2vec(tmp_path / "out.vec")
    assert back.keys == model.wv.keys
    np.testing.assert_allclose(back.vectors, model.wv.vectors, atol=1e-5)


def test_with_words_lets_evaluation_use_oov_vectors(model):
    base = evaluate_word_similarity(model.wv, DATA / "wordsim353.tsv")
    words = [w for line in (DATA / "wordsim353.tsv").read_text().splitlines()[2:]
             for w in line.lower().split("\t")[:2]]  # fmt: skip
    extended = evaluate_word_similarity(model.wv.with_words(words), DATA / "wordsim353.tsv")
    assert base.oov_pairs > 0 and extended.oov_pairs == 0
    assert extended.pairs == base.pairs + base.oov_pairs


@pytest.mark.parametrize(("name", "value"), [("bucket", -1), ("min_n", "3"), ("max_n", 2.5)])
def test_invalid_ngram_params_are_named(name, value):
    with pytest.raises(InvalidParameterError, match=name):
        FastText(**{**SMALL, name: value}).fit(CORPUS)


def test_shared_negatives_is_refused_with_the_fix():
    with pytest.raises(InvalidParameterError, match="set shared_negatives=False"):
        FastText(**{**SMALL, "shared_negatives": True}).fit(CORPUS)


def test_defaults_are_the_reference_fasttexts():
    params = FastText().get_params()
    assert (params["sample"], params["ns_exponent"], params["min_learning_rate"]) == (1e-4, 0.5, 0)
    assert FastText().effective_learning_rate == 0.05
    assert (params["dim"], params["window"], params["negative"], params["epochs"]) == (100, 5, 5, 5)


def test_only_used_buckets_are_initialised_and_trained(model):
    n = len(model.wv)
    offsets, ids = model._subwords(model.vocabulary_)
    used = np.zeros(model.syn0_.shape[0], bool)
    used[ids] = True
    assert used[:n].all()  # every word row
    nonzero = np.any(model.syn0_ != 0, axis=1)
    np.testing.assert_array_equal(nonzero, used)
    assert np.abs(model.syn0_[~used]).max(initial=0) == 0
    assert 0 < used[n:].sum() < SMALL["bucket"]


def test_hot_input_rows_map_each_entry_to_its_slot(model):
    from embedforge.text.fasttext import _hot_input_rows

    vocab = model.vocabulary_
    offsets, ids = model._subwords(vocab)
    keep = vocab.keep_probabilities(1e-3)
    sub_hot, hot_rows = _hot_input_rows(vocab, keep, offsets, ids, 64)
    assert hot_rows.size == 64 and np.all(np.diff(hot_rows) > 0)
    hot = sub_hot >= 0
    np.testing.assert_array_equal(hot_rows[sub_hot[hot]], ids[hot])
    assert not np.isin(ids[~hot], hot_rows).any()
    uses = np.bincount(ids, np.repeat(vocab.counts * keep, np.diff(offsets)))
    assert uses[hot_rows].min() >= np.delete(uses, hot_rows).max()
    none, empty = _hot_input_rows(vocab, keep, offsets, ids, 0)
    assert (none == -1).all() and empty.size == 0


def test_two_workers_learn_like_one(model):
    m = FastText(**{**SMALL, "workers": 2, "epochs": 2, "batch_words": 2000}).fit(CORPUS)
    assert m.loss_history_[1] < m.loss_history_[0]
    one = FastText(**{**SMALL, "epochs": 2, "batch_words": 2000}).fit(CORPUS)
    assert m.loss_history_[1] == pytest.approx(one.loss_history_[1], rel=0.05)
    offsets, ids = m._subwords(m.vocabulary_)
    unused = np.ones(m.syn0_.shape[0], bool)
    unused[ids] = False
    assert not m.syn0_[unused].any()  # the threads' updates went to used rows only
