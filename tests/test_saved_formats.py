"""Frozen saved directories (tests/data/saved_v1) load forever, and answer real queries.

Each fixture was written once by the embedforge of commit 6b608b6 (see
``tests/data/saved_v1/make_saved_v1.py``).  Every one must load through
``embedforge.load`` and through its class's own ``load`` (``Collection.open``),
return the right class, and answer a query whose answer is known from the
files themselves or from the data they were made from.  The fixtures are never
rewritten: collections (which opening may write to) are copied first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import embedforge as ef
from embedforge.errors import FormatError, InvalidParameterError
from embedforge.text.fasttext import ngram_buckets

DATA = Path(__file__).parent / "data"
SAVED = DATA / "saved_v1"

# Fixture folder -> the class that wrote it.
KINDS: dict[str, type] = {
    "embeddings": ef.Embeddings,
    "fasttext_vectors": ef.FastTextVectors,
    "word2vec": ef.Word2Vec,
    "word2vec_hs": ef.Word2Vec,
    "fasttext": ef.FastText,
    "cooccurrence": ef.Cooccurrence,
    "glove": ef.GloVe,
    "tfidf": ef.TfIdf,
    "lsa": ef.LSA,
    "random_projection": ef.RandomProjection,
    "mean_encoder": ef.MeanEncoder,
    "sif_encoder": ef.SIFEncoder,
    "scalar_quantizer": ef.ScalarQuantizer,
    "binary_quantizer": ef.BinaryQuantizer,
    "pca_reducer": ef.PCAReducer,
    "vector_index": ef.VectorIndex,
    "collection_vectors": ef.Collection,
    "collection_tfidf": ef.Collection,
}
WORD_MODELS = ("word2vec", "word2vec_hs", "fasttext", "glove")


# ---------------------------------------------------------------------- what the fixtures hold


def sample() -> np.ndarray:
    """The (64, 8) float32 sample the quantizers, the index and the collection were made from."""
    return np.random.default_rng(3).standard_normal((64, 8)).astype(np.float32)


def documents() -> list[str]:
    """The 40 documents the classic models and the TF-IDF collection were fitted on."""
    texts = []
    with open(DATA / "wiki_beir_excerpt" / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            texts.append(f"{row.get('title', '')} {row['text']}")
    return texts[:40]


def stored_vectors(directory: Path) -> tuple[list[str], np.ndarray]:
    """keys.txt and vectors.npy of an Embeddings directory, read with plain numpy."""
    keys = (directory / "keys.txt").read_text(encoding="utf-8").splitlines()
    return keys, np.load(directory / "vectors.npy")


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


@pytest.fixture
def fixture_dir(request, tmp_path) -> Path:
    """The fixture folder; a collection is copied to tmp_path first (opening may write)."""
    name = request.param
    if KINDS[name] is ef.Collection:
        copy = tmp_path / name
        shutil.copytree(SAVED / name, copy)
        return copy
    return SAVED / name


def open_own(cls: type, path: Path):
    return cls.open(path) if cls is ef.Collection else cls.load(path)


def close(obj) -> None:
    if isinstance(obj, ef.Collection):
        obj.close()


def test_every_fixture_folder_is_tested():
    folders = {p.name for p in SAVED.iterdir() if p.is_dir()}
    assert folders == set(KINDS)


@pytest.mark.parametrize("fixture_dir", sorted(KINDS), indirect=True)
def test_loads_through_embedforge_load_and_its_own_class(fixture_dir):
    cls = KINDS[fixture_dir.name]
    generic = ef.load(fixture_dir)
    try:
        assert type(generic) is cls
    finally:
        close(generic)
    own = open_own(cls, fixture_dir)
    try:
        assert type(own) is cls
    finally:
        close(own)


# ---------------------------------------------------------------------- word vectors


@pytest.mark.parametrize("name", ["embeddings", "fasttext_vectors"])
def test_embeddings_hold_the_stored_keys_and_vectors(name):
    keys, vectors = stored_vectors(SAVED / name)
    counts = np.load(SAVED / name / "counts.npy")
    for emb in (ef.load(SAVED / name), KINDS[name].load(SAVED / name)):
        assert emb.keys == keys
        np.testing.assert_array_equal(emb.vectors, vectors)
        np.testing.assert_array_equal(emb.counts, counts)
        # nearest neighbours: brute-force cosine over the stored matrix
        word = keys[5]
        scores = unit(vectors) @ unit(vectors[5])
        scores[5] = -np.inf
        expected = [keys[i] for i in np.argsort(-scores, kind="stable")[:5]]
        assert [key for key, _ in emb.most_similar(word, k=5)] == expected
        # a stored vector finds its own key first
        top, score = emb.most_similar(vectors[17], k=1)[0]
        assert top == keys[17] and score == pytest.approx(1.0, abs=1e-5)


def test_embeddings_load_mmap_reads_the_same_matrix():
    keys, vectors = stored_vectors(SAVED / "embeddings")
    emb = ef.load(SAVED / "embeddings", mmap=True)
    assert isinstance(emb.vectors, np.memmap) or isinstance(emb.vectors.base, np.memmap)
    np.testing.assert_array_equal(emb.vectors, vectors)


def test_fasttext_vectors_build_unseen_words_from_the_stored_ngrams():
    config = json.loads((SAVED / "fasttext_vectors" / "config.json").read_text())
    ngrams = np.load(SAVED / "fasttext_vectors" / "ngram_vectors.npy")
    _, rows = ngram_buckets(["anarchisms"], config["min_n"], config["max_n"], config["bucket"])
    expected = ngrams[rows].mean(axis=0, dtype=np.float32)
    wv = ef.load(SAVED / "fasttext_vectors")
    assert "anarchisms" not in wv
    np.testing.assert_allclose(wv.vector("anarchisms"), expected, rtol=1e-6)


@pytest.mark.parametrize("name", WORD_MODELS)
def test_word_models_hold_their_stored_word_vectors(name):
    keys, vectors = stored_vectors(SAVED / name / "wv")
    model = ef.load(SAVED / name)
    assert model.wv.keys == keys
    np.testing.assert_array_equal(model.wv.vectors, vectors)
    assert model.wv.most_similar(vectors[3], k=1)[0][0] == keys[3]
    # Embeddings.load of a model directory gives its word vectors, of the saved class
    wv = ef.Embeddings.load(SAVED / name)
    assert type(wv) is type(model.wv)
    assert wv.keys == keys
    np.testing.assert_array_equal(wv.vectors, vectors)


def test_word2vec_keeps_its_output_weights_and_objective():
    # (n_words, dim) for negative sampling, (n_words - 1, dim) for the Huffman tree's inner nodes
    for name, objective, rows in (
        ("word2vec", "negative_sampling", 202),
        ("word2vec_hs", "hierarchical_softmax", 201),
    ):
        model = ef.load(SAVED / name)
        assert model.objective == objective and model.dim == 8
        syn1 = np.load(SAVED / name / "syn1.npy")
        assert syn1.shape == (rows, 8)
        np.testing.assert_array_equal(model.syn1_, syn1)
        assert model.get_params() == ef.Word2Vec.load(SAVED / name).get_params()


def test_cooccurrence_holds_the_stored_counts():
    folder = SAVED / "cooccurrence"
    stored = sp.csr_matrix(
        (
            np.load(folder / "data.npy"),
            np.load(folder / "indices.npy"),
            np.load(folder / "indptr.npy"),
        )
    )
    words = (folder / "words.txt").read_text(encoding="utf-8").splitlines()
    for cooc in (ef.load(folder), ef.Cooccurrence.load(folder)):
        matrix = sp.csr_matrix(cooc.matrix_)
        assert matrix.shape == (len(words), len(words)) == stored.shape
        assert (matrix != stored).nnz == 0
        assert list(cooc.vocabulary_.words) == words


# ---------------------------------------------------------------------- document encoders


@pytest.mark.parametrize("name", ["tfidf", "lsa", "random_projection"])
def test_classic_models_find_each_fitted_document_by_its_own_text(name):
    docs = documents()
    model = ef.load(SAVED / name)
    assert model.ids_ == [str(i) for i in range(40)]
    encoded = model.encode(docs)
    assert encoded.shape == (40, model.dim) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded, KINDS[name].load(SAVED / name).encode(docs))
    if name == "tfidf":
        stored = sp.load_npz(SAVED / name / "matrix.npz").toarray()
    else:
        stored = np.load(SAVED / name / "vectors.npy")
    # each document's encoding is closest to its own stored row
    assert (np.argmax(unit(encoded) @ unit(stored).T, axis=1) == np.arange(40)).all()


def test_mean_encoder_is_the_mean_of_the_stored_word_vectors():
    keys, vectors = stored_vectors(SAVED / "mean_encoder" / "word_vectors")
    index = {k: i for i, k in enumerate(keys)}
    text = "The anarchism of the first state and the war"
    rows = [index[w] for w in text.lower().split() if w in index]
    assert len(rows) >= 5
    expected = unit(vectors[rows].astype(np.float64).mean(axis=0))
    for encoder in (ef.load(SAVED / "mean_encoder"), ef.MeanEncoder.load(SAVED / "mean_encoder")):
        np.testing.assert_allclose(encoder.encode([text])[0], expected, atol=1e-5)


def test_sif_encoder_weights_and_removes_the_stored_component():
    folder = SAVED / "sif_encoder"
    keys, vectors = stored_vectors(folder / "word_vectors")
    counts = np.load(folder / "word_vectors" / "counts.npy").astype(np.float64)
    component = np.load(folder / "components.npy").astype(np.float64)
    a = json.loads((folder / "config.json").read_text())["params"]["a"]
    index = {k: i for i, k in enumerate(keys)}
    text = "The anarchism of the first state and the war"
    rows = [index[w] for w in text.lower().split() if w in index]
    weights = a / (a + counts[rows] / counts.sum())
    mean = (weights[:, None] * vectors[rows]).sum(axis=0) / len(rows)
    expected = unit(mean - (mean @ component.T) @ component)
    for encoder in (ef.load(folder), ef.SIFEncoder.load(folder)):
        assert encoder.components_.shape == (1, 8)
        np.testing.assert_allclose(encoder.encode([text])[0], expected, atol=1e-5)


# ---------------------------------------------------------------------- quantizers and index


@pytest.mark.parametrize("name", ["scalar_quantizer", "binary_quantizer"])
def test_quantizers_encode_as_when_fitted_on_the_same_sample(name):
    x = sample()
    fresh = KINDS[name]().fit(x)
    loaded, own = ef.load(SAVED / name), KINDS[name].load(SAVED / name)
    np.testing.assert_array_equal(loaded.encode(x), fresh.encode(x))
    np.testing.assert_array_equal(own.encode(x), fresh.encode(x))
    np.testing.assert_array_equal(loaded.decode(loaded.encode(x)), fresh.decode(fresh.encode(x)))


def test_scalar_quantizer_round_trip_stays_within_half_a_step():
    q = ef.load(SAVED / "scalar_quantizer")
    x = sample()
    width = np.load(SAVED / "scalar_quantizer" / "width.npy")
    assert np.all(np.abs(q.decode(q.encode(x)) - x) <= width / 2 + 1e-6)


def test_pca_reducer_projects_with_the_stored_components():
    folder = SAVED / "pca_reducer"
    x = sample()
    expected = (x - np.load(folder / "mean.npy")) @ np.load(folder / "components.npy").T
    for reducer in (ef.load(folder), ef.PCAReducer.load(folder)):
        np.testing.assert_allclose(reducer.transform(x), expected, atol=1e-5)
    np.testing.assert_allclose(
        ef.load(folder).transform(x), ef.PCAReducer(dim=4, seed=3).fit(x).transform(x), atol=1e-4
    )


def test_vector_index_finds_each_stored_vector_first():
    x = sample()
    for index in (ef.load(SAVED / "vector_index"), ef.VectorIndex.load(SAVED / "vector_index")):
        assert len(index) == 64
        scores, ids = index.search(x, k=3)
        np.testing.assert_array_equal(ids[:, 0], np.arange(64))
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


# ---------------------------------------------------------------------- collections


@pytest.mark.parametrize("fixture_dir", ["collection_vectors"], indirect=True)
def test_vector_collection_finds_documents_by_their_stored_vectors(fixture_dir):
    x = sample()[:16]
    with ef.load(fixture_dir) as collection:
        assert collection.count == 16 and collection.dim == 8
        results = collection.search(x, k=1)
        assert list(results.ids[:, 0]) == [f"d{i}" for i in range(16)]
        doc = collection.get("d7")[0]
        assert doc.text == "vector 7" and doc.metadata == {"n": 7}
        np.testing.assert_array_equal(collection.get_vectors("d7")[0], x[7])


@pytest.mark.parametrize("fixture_dir", ["collection_tfidf"], indirect=True)
def test_tfidf_collection_finds_documents_by_their_text(fixture_dir):
    docs = documents()[:12]
    with ef.load(fixture_dir) as collection:
        assert type(collection.encoder) is ef.TfIdf
        results = collection.search(docs, k=1)
        assert list(results.ids[:, 0]) == [f"d{i}" for i in range(12)]
    with ef.Collection.open(fixture_dir) as again:
        assert again.get("d3")[0].text == docs[3]


# ---------------------------------------------------------------------- embedforge.load errors


def test_load_names_an_unknown_class_and_the_fix(tmp_path):
    (tmp_path / "config.json").write_text('{"class": "Doc2Vec", "format_version": 1}')
    with pytest.raises(FormatError, match=r"config.json: names class 'Doc2Vec'.*Word2Vec.*upgrade"):
        ef.load(tmp_path)


def test_load_of_a_directory_without_config_says_what_it_found(tmp_path):
    (tmp_path / "vectors.txt").write_text("1 2\na 1 2\n")
    with pytest.raises(FormatError, match=r"no config.json.*'vectors.txt'.*read_word2vec"):
        ef.load(tmp_path)
    with pytest.raises(FormatError, match=r"is a file.*read_word2vec"):
        ef.load(tmp_path / "vectors.txt")
    with pytest.raises(FileNotFoundError):
        ef.load(tmp_path / "missing")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        ef.load(tmp_path)


def test_load_passes_keywords_to_the_class_and_rejects_unknown_ones():
    with pytest.raises(InvalidParameterError, match=r"holds a TfIdf.*no keywords.*got mmap"):
        ef.load(SAVED / "tfidf", mmap=True)
    with pytest.raises(InvalidParameterError, match=r"holds a Word2Vec.*mmap.*got device"):
        ef.load(SAVED / "word2vec", device="cpu")
    assert ef.load(SAVED / "word2vec", mmap=True).wv.keys == ef.load(SAVED / "word2vec").wv.keys


def test_a_newer_format_version_asks_for_an_upgrade(tmp_path):
    shutil.copytree(SAVED / "binary_quantizer", tmp_path / "q")
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    (tmp_path / "q" / "config.json").write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(FormatError, match="format_version 99 was written by a newer"):
        ef.load(tmp_path / "q")


def test_round_trip_through_embedforge_load(tmp_path):
    x = sample()
    ef.ScalarQuantizer(bits=4).fit(x).save(tmp_path / "q")
    again = ef.load(tmp_path / "q")
    assert type(again) is ef.ScalarQuantizer and again.bits == 4
    np.testing.assert_array_equal(again.encode(x), ef.ScalarQuantizer(bits=4).fit(x).encode(x))


def test_a_saved_class_name_registers_once():
    from embedforge._registry import register

    with pytest.raises(InvalidParameterError, match="'Word2Vec' is already registered by"):

        @register("Word2Vec")
        class Impostor:
            @classmethod
            def load(cls, path):
                return cls()

    assert type(ef.load(SAVED / "word2vec")) is ef.Word2Vec
