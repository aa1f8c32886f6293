"""TF-IDF, LSA and random projections: equal to the scikit-learn pipelines, saved without pickle."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

from embedforge import (
    LSA,
    CorpusError,
    FormatError,
    InvalidParameterError,
    NotFittedError,
    RandomProjection,
    TfIdf,
)
from embedforge.text.classic import load_model
from embedforge.text.documents import iter_documents

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def docs():
    return list(iter_documents(DATA / "wiki_beir_excerpt"))


@pytest.fixture(scope="module")
def texts(docs):
    return [d.text for d in docs]


QUERIES = [
    # the excerpt is lower-case a-z text: the queries bring case, digits, punctuation, Unicode
    "The Greek philosopher Aristotle (384\u2013322 BC) was born in Stagira, Chalkidice.",
    "",
    "zzzz qqqq",
    "Acids, alkanes and the organic chemistry of carbon atoms: e.g. ethane (C2H6) or caf\u00e9",
]


def _models():
    return [
        TfIdf(min_df=1, sublinear_tf=True),
        LSA(dim=12, seed=3, stop_words="english"),
        RandomProjection(dim=24, kind="sparse", seed=5),
        RandomProjection(dim=24, kind="gaussian", seed=5, ngram_range=(1, 2)),
    ]


def _ids(models):
    return [f"{type(m).__name__}-{getattr(m, 'kind', '')}" for m in models]


def test_tfidf_equals_scikit_learn(texts):
    model = TfIdf(min_df=2, max_df=0.9, sublinear_tf=True, ngram_range=(1, 2)).fit(texts)
    reference = TfidfVectorizer(min_df=2, max_df=0.9, sublinear_tf=True, ngram_range=(1, 2),
                                dtype=np.float32).fit(texts)  # fmt: skip
    ours = model.transform(QUERIES)
    assert sp.isspmatrix_csr(ours) and ours.dtype == np.float32
    assert ours.shape == (len(QUERIES), len(reference.vocabulary_)) == (4, model.dim)
    np.testing.assert_array_equal(ours.toarray(), reference.transform(QUERIES).toarray())
    np.testing.assert_array_equal(model.matrix_.toarray(), reference.transform(texts).toarray())
    assert model.vocabulary_ == list(reference.get_feature_names_out())


def test_lsa_equals_truncated_svd_then_normalise(texts):
    model = LSA(dim=10, seed=7).fit(texts)
    tfidf = TfidfVectorizer(dtype=np.float32).fit(texts)
    svd = TruncatedSVD(n_components=10, random_state=7).fit(tfidf.transform(texts))
    expected = normalize(svd.transform(tfidf.transform(QUERIES)))
    ours = model.transform(QUERIES)
    assert ours.shape == (4, 10) and ours.dtype == np.float32
    # randomized SVD in float32: the same algorithm, rounding differs in the 4th decimal
    np.testing.assert_allclose(ours, expected, atol=5e-4)


@pytest.mark.parametrize(
    "kind,cls", [("sparse", SparseRandomProjection), ("gaussian", GaussianRandomProjection)]
)
def test_random_projection_equals_scikit_learn(texts, kind, cls):
    model = RandomProjection(dim=16, kind=kind, seed=11).fit(texts)
    tfidf = TfidfVectorizer(dtype=np.float32).fit(texts)
    projection = cls(n_components=16, random_state=11).fit(tfidf.transform(texts))
    projected = projection.transform(tfidf.transform(QUERIES))
    projected = projected.toarray() if sp.issparse(projected) else projected
    np.testing.assert_allclose(model.transform(QUERIES), normalize(projected), atol=1e-6)


@pytest.mark.parametrize("model", _models(), ids=_ids(_models()))
def test_encode_gives_unit_float32_rows_and_zero_rows_for_empty_texts(model, docs, caplog):
    model.fit(docs)
    with caplog.at_level(logging.WARNING, logger="embedforge.text.classic"):
        vectors = model.encode(QUERIES, batch_size=2)
    assert vectors.shape == (4, model.dim) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(norms[[0, 3]], 1.0, atol=1e-5)
    assert norms[1] == norms[2] == 0.0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "2 of 4 texts have no term" in warnings[0]
    dense = model.transform(QUERIES)
    dense = dense.toarray() if sp.issparse(dense) else dense
    np.testing.assert_allclose(vectors, normalize(dense), atol=1e-6)
    assert model.normalize is True


@pytest.mark.parametrize("model", _models(), ids=_ids(_models()))
def test_save_load_is_exact(model, docs, tmp_path):
    model.fit(docs)
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["class"] == type(model).__name__ and config["format_version"] == 1
    assert not list((tmp_path / "m").glob("*.pkl"))
    again = type(model).load(tmp_path / "m")
    also = load_model(tmp_path / "m")
    assert again.get_params() == model.get_params() == also.get_params()
    a, b = model.transform(QUERIES), again.transform(QUERIES)
    if sp.issparse(a):
        a, b = a.toarray(), b.toarray()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.encode(QUERIES), also.encode(QUERIES))
    assert again.ids_ == model.ids_ == [d.id for d in docs]
    if isinstance(model, TfIdf):
        np.testing.assert_array_equal(again.matrix_.toarray(), model.matrix_.toarray())
    else:
        assert again.embeddings_.keys == model.embeddings_.keys
        np.testing.assert_array_equal(again.embeddings_.vectors, model.embeddings_.vectors)


def test_document_vectors_are_keyed_by_id(docs, texts):
    lsa = LSA(dim=8, seed=0).fit(docs)
    assert lsa.embeddings_.keys == [d.id for d in docs]
    np.testing.assert_allclose(lsa.embeddings_[docs[5].id], lsa.transform([texts[5]])[0], atol=1e-6)
    # plain strings get "0".."n-1", or the ids given
    assert LSA(dim=8).fit(texts).embeddings_.keys == [str(i) for i in range(len(texts))]
    ids = [f"doc{i}" for i in range(len(texts))]
    assert LSA(dim=8).fit(texts, ids=ids).embeddings_.keys == ids
    with pytest.raises(InvalidParameterError, match="unique; 'x' appears twice"):
        TfIdf().fit(["a b", "c d"], ids=["x", "x"])
    with pytest.raises(InvalidParameterError, match="one entry per document"):
        TfIdf().fit(["a b", "c d"], ids=["x"])


def test_same_seed_same_vectors_and_another_seed_differs(texts):
    a = RandomProjection(dim=64, seed=1).fit(texts).transform(QUERIES)
    b = RandomProjection(dim=64, seed=1).fit(texts).transform(QUERIES)
    c = RandomProjection(dim=64, seed=2).fit(texts).transform(QUERIES)
    assert a[0].any()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(
        LSA(dim=8, seed=4).fit(texts).transform(QUERIES),
        LSA(dim=8, seed=4).fit(texts).transform(QUERIES),
    )


@pytest.mark.parametrize("cls", [TfIdf, LSA, RandomProjection])
def test_not_fitted(cls, tmp_path):
    model = cls()
    with pytest.raises(NotFittedError, match=f"this {cls.__name__} is not fitted yet"):
        model.transform(["a"])
    with pytest.raises(NotFittedError):
        model.encode(["a"])
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_stop_words_are_left_out(texts, tmp_path):
    plain = TfIdf().fit(texts)
    english = TfIdf(stop_words="english").fit(texts)
    own = TfIdf(stop_words=["the", "of"]).fit(texts)
    assert "the" in plain.vocabulary_ and "the" not in english.vocabulary_
    assert "the" not in own.vocabulary_ and "and" in own.vocabulary_
    own.save(tmp_path / "own")
    assert TfIdf.load(tmp_path / "own").stop_words == ["the", "of"]


def test_empty_corpus_and_corpus_without_terms():
    with pytest.raises(CorpusError, match="empty corpus"):
        TfIdf().fit([])
    with pytest.raises(CorpusError, match="no usable terms"):
        LSA(dim=2).fit(["", "!", "a"])
    with pytest.raises(InvalidParameterError, match="documents must be an iterable of texts"):
        TfIdf().fit("one string")


def test_empty_documents_warn_once_with_their_count(caplog):
    with caplog.at_level(logging.WARNING, logger="embedforge.text.classic"):
        model = TfIdf().fit(["alpha beta", "", "beta gamma", "  "])
    assert model.matrix_[1].nnz == 0 and model.matrix_[3].nnz == 0
    assert [r.getMessage() for r in caplog.records] == [
        "TfIdf.fit: 2 of 4 documents have no term of the vocabulary; their TF-IDF rows "
        "(and vectors) are zero"
    ]


@pytest.mark.parametrize(
    "model,message",
    [
        (TfIdf(norm="l3"), "norm must be one of 'l2', 'l1', None; got 'l3'"),
        (TfIdf(ngram_range=(2, 1)), r"ngram_range must be a pair .*; got \(2, 1\)"),
        (TfIdf(min_df=0), "min_df must be an integer >= 1 .* got 0"),
        (TfIdf(max_df=1.5), "max_df must be .* got 1.5"),
        (TfIdf(token_pattern="(a)(b)"), "has 2 capturing groups"),
        (LSA(dim=0), "dim must be an integer >= 1; got 0"),
        (LSA(algorithm="exact"), "algorithm must be one of 'randomized', 'arpack'; got 'exact'"),
        (RandomProjection(kind="dense"), "kind must be one of 'sparse', 'gaussian'; got 'dense'"),
        (RandomProjection(seed=-1), "seed must be an integer >= 0; got -1"),
        (TfIdf(sublinear_tf=1), "sublinear_tf must be True or False; got 1"),
        (TfIdf(stop_words="french"), "stop_words must be None, 'english' .* got 'french'"),
    ],
)
def test_invalid_parameters_are_named(model, message, texts):
    with pytest.raises(InvalidParameterError, match=message):
        model.fit(texts)


def test_lsa_dim_must_be_below_the_vocabulary():
    with pytest.raises(InvalidParameterError, match="dim must be smaller than the vocabulary size"):
        LSA(dim=5).fit(["alpha beta", "gamma delta"])


def test_load_errors(texts, tmp_path):
    with pytest.raises(FormatError, match="config.json' is missing"):
        TfIdf.load(tmp_path)
    LSA(dim=4).fit(texts).save(tmp_path / "lsa")
    with pytest.raises(FormatError, match="holds a 'LSA' model, not 'TfIdf'"):
        TfIdf.load(tmp_path / "lsa")
    (tmp_path / "lsa" / "components.npy").write_bytes(b"\x93NUMPY truncated")
    with pytest.raises(FormatError, match="components.npy"):
        LSA.load(tmp_path / "lsa")
    (tmp_path / "lsa" / "config.json").write_text('{"class": "LSA", "format_version": 99}')
    with pytest.raises(FormatError, match="format_version 99 was written by a newer"):
        load_model(tmp_path / "lsa")


def test_save_replaces_atomically(texts, tmp_path):
    first = TfIdf().fit(texts[:10])
    first.save(tmp_path / "m")
    second = TfIdf().fit(texts)
    second.save(tmp_path / "m")
    assert TfIdf.load(tmp_path / "m").n_features_ == second.n_features_
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
