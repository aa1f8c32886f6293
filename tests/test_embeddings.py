"""Tests of the Embeddings container: validation, lookup, similarity, derived views, persistence."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from embedforge.embeddings import Embeddings
from embedforge.errors import (
    EmbedforgeError,
    FormatError,
    InvalidParameterError,
    MissingDependencyError,
    UnknownKeyError,
)

DATA = Path(__file__).parent / "data"


def _stable_hash(text: str) -> int:
    # gensim seeds each initial vector from hash(key); Python's str hash changes per process.
    return zlib.crc32(text.encode("utf-8"))


@pytest.fixture(scope="module")
def kv():
    """gensim KeyedVectors trained on the shipped text8 excerpt (1,467 keys, dim 32)."""
    models = pytest.importorskip("gensim.models")
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()
    sentences = [tokens[i : i + 1000] for i in range(0, len(tokens), 1000)]
    model = models.Word2Vec(
        sentences,
        vector_size=32,
        window=5,
        min_count=5,
        sg=1,
        epochs=20,
        workers=1,
        seed=1,
        hashfxn=_stable_hash,
    )
    return model.wv


@pytest.fixture(scope="module")
def emb(kv) -> Embeddings:
    counts = [kv.get_vecattr(key, "count") for key in kv.index_to_key]
    return Embeddings(kv.index_to_key, kv.vectors, counts=counts)


def small(n: int = 4, dim: int = 3, counts: bool = False) -> Embeddings:
    rng = np.random.default_rng(n * 100 + dim)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return Embeddings(
        [f"k{i}" for i in range(n)],
        vectors,
        counts=rng.integers(0, 50, n) if counts else None,
    )


def assert_same_ranking(ours, theirs, tol=1e-5):
    """Same length, same scores to ``tol``, same keys except where two scores are within ``tol``."""
    assert len(ours) == len(theirs)
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=tol, rtol=0)
    their_scores = dict(theirs)
    for (key, score), (their_key, _) in zip(ours, theirs, strict=True):
        if key != their_key:
            assert key in their_scores and abs(their_scores[key] - score) <= tol


# ---------------------------------------------------------------------- construction


def test_float32_c_contiguous_vectors_are_used_without_copy():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    e = Embeddings(["a", "b", "c", "d"], vectors)
    assert np.shares_memory(e.vectors, vectors)
    assert e.vectors.dtype == np.float32 and e.vectors.flags.c_contiguous
    assert not e.vectors.flags.writeable
    assert vectors.flags.writeable  # the caller's array is left alone


def test_other_dtypes_and_layouts_are_converted():
    vectors = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(4, 3))
    e = Embeddings(("a", "b", "c", "d"), vectors, counts=[3.0, 2, 1, 0])
    assert e.vectors.dtype == np.float32 and e.vectors.flags.c_contiguous
    np.testing.assert_array_equal(e.vectors, vectors.astype(np.float32))
    assert e.counts.dtype == np.int64 and e.counts.tolist() == [3, 2, 1, 0]
    assert e.keys == ["a", "b", "c", "d"] and isinstance(e.keys, list)


@pytest.mark.parametrize(
    ("keys", "vectors", "counts", "match"),
    [
        (["a", "b"], np.zeros(2, np.float32), None, r"2-D array .* got shape \(2,\)"),
        (["a", "b", "c"], np.zeros((2, 3), np.float32), None, "3 keys and vectors of shape"),
        (["a", "b", "c", "b"], np.zeros((4, 2)), None, r"'b' appears at positions 1 and 3"),
        (["a", "b"], np.zeros((2, 2)), [1, 2, 3], r"counts must have shape \(2,\)"),
        (["a", "b"], np.zeros((2, 2)), [1, -1], r"non-negative; counts\[1\] = -1"),
        (["a", "b"], np.zeros((2, 2)), [1.5, 2], "whole numbers"),
        (["a", 7], np.zeros((2, 2)), None, r"keys\[1\] is int 7"),
        ("ab", np.zeros((2, 2)), None, "single str"),
        (["a", "b"], np.array([["x", "y"], ["z", "w"]]), None, "real numeric"),
    ],
)
def test_invalid_construction_is_rejected(keys, vectors, counts, match):
    with pytest.raises(InvalidParameterError, match=match):
        Embeddings(keys, vectors, counts=counts)


def test_container_protocol():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    e = Embeddings(["a", "b", "c", "d"], vectors, counts=[4, 3, 2, 1])
    assert len(e) == 4 and e.dim == 3
    assert "c" in e and "z" not in e and ["a"] not in e
    assert list(e) == ["a", "b", "c", "d"]
    assert e.key_to_index == {"a": 0, "b": 1, "c": 2, "d": 3}
    assert e.index("c") == 2
    np.testing.assert_array_equal(e["b"], [3, 4, 5])
    np.testing.assert_array_equal(e.vector("d"), [9, 10, 11])
    assert e["b"].shape == (3,) and e["b"].dtype == np.float32
    np.testing.assert_array_equal(e[["d", "a"]], vectors[[3, 0]])
    assert e[[]].shape == (0, 3)
    assert repr(e) == "Embeddings(n=4, dim=3, has_counts=True)"
    with pytest.raises(TypeError):
        e[0]


# ---------------------------------------------------------------------- unknown keys


def test_unknown_key_message_names_the_closest_keys(emb):
    with pytest.raises(UnknownKeyError) as info:
        emb["anarchismm"]
    message = str(info.value)
    assert message.startswith(f"'anarchismm' is not in the vocabulary of {len(emb):,} keys")
    assert "closest keys by spelling: 'anarchism'" in message
    # a typo in the first letter is found too, and the error is also a KeyError
    with pytest.raises(KeyError, match="'anarchism'"):
        emb.vector("qnarchism")
    with pytest.raises(UnknownKeyError, match="'government'"):
        emb.similarity("war", "govenrment")
    with pytest.raises(UnknownKeyError, match="no key is close in spelling"):
        emb.index("zzzzqqqq")


def test_unknown_key_suggestions_scale_to_large_vocabularies():
    n = 300_000
    keys = [f"w{i:06d}" for i in range(n)]  # one shared first letter: the worst case
    e = Embeddings(keys, np.zeros((n, 1), np.float32))
    with pytest.raises(UnknownKeyError, match="closest keys by spelling: 'w123456',"):
        e.index("w123456z")
    assert isinstance(UnknownKeyError("x"), EmbedforgeError)


# ---------------------------------------------------------------------- similarity vs gensim


def test_similarity_matches_gensim(emb, kv):
    for a, b in [("war", "civil"), ("king", "son"), ("one", "anarchism"), ("the", "the")]:
        assert emb.similarity(a, b) == pytest.approx(float(kv.similarity(a, b)), abs=1e-5)
    others = ["civil", "battle", "the", "war"]
    sims = emb.similarities("war", others)
    assert sims.shape == (4,) and sims.dtype == np.float32
    np.testing.assert_allclose(sims, [emb.similarity("war", o) for o in others], atol=1e-6)
    assert sims[3] == pytest.approx(1.0, abs=1e-6)
    # a raw vector is the same query as its key
    assert emb.similarity(emb["war"], "civil") == pytest.approx(emb.similarity("war", "civil"))


@pytest.mark.parametrize(
    "query",
    [
        {"positive": "anarchism"},
        {"positive": ["war"]},
        {"positive": ["two", "three"], "negative": ["one"]},
        {"positive": ["king", "woman"], "negative": ["man"]},
        {"negative": ["government"]},
        {"positive": ["france", "english"], "negative": ["french"], "restrict_vocab": 300},
    ],
)
def test_most_similar_matches_gensim(emb, kv, query):
    restrict_vocab = query.get("restrict_vocab")
    ours = emb.most_similar(
        query.get("positive"), query.get("negative"), k=10, restrict_vocab=restrict_vocab
    )
    theirs = kv.most_similar(
        positive=query.get("positive"),
        negative=query.get("negative"),
        topn=10,
        restrict_vocab=restrict_vocab,
    )
    assert_same_ranking(ours, theirs)
    inputs = set()
    for side in ("positive", "negative"):
        value = query.get(side) or []
        inputs.update([value] if isinstance(value, str) else value)
    assert inputs and not inputs & {key for key, _ in ours}
    if restrict_vocab:
        assert all(emb.index(key) < restrict_vocab for key, _ in ours)


def test_most_similar_finds_real_neighbours(emb):
    assert "anarchists" in [key for key, _ in emb.most_similar("anarchism")]
    assert "civil" in [key for key, _ in emb.most_similar("war", k=3)]
    scores = [score for _, score in emb.most_similar("war", k=20)]
    assert scores == sorted(scores, reverse=True)


def test_raw_vector_query_equals_key_query(emb):
    by_key = emb.most_similar("war", k=5)
    by_vector = emb.most_similar(emb["war"] * 3.0, k=6)  # raw vectors are normalised
    assert by_vector[0][0] == "war" and by_vector[0][1] == pytest.approx(1.0, abs=1e-5)
    assert_same_ranking(by_vector[1:], by_key)


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        (["two", "three"], ["one"]),
        (["king", "woman"], ["man"]),
        (["war"], []),
        ("anarchism", None),
    ],
)
def test_most_similar_cosmul_matches_gensim(emb, kv, positive, negative):
    ours = emb.most_similar_cosmul(positive, negative, k=10)
    with warnings.catch_warnings():  # gensim 4.4 calls its own deprecated init_sims() here
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = kv.most_similar_cosmul(positive=positive, negative=negative, topn=10)
    assert_same_ranking(ours, theirs)


def test_most_similar_cosmul_follows_levy_goldberg_formula(emb):
    unit = emb.normalized()
    a, b, c = unit["king"], unit["woman"], unit["man"]
    cos = unit.vectors.astype(np.float64)
    expected = (
        (1 + cos @ a) / 2 * ((1 + cos @ b) / 2) / ((1 + cos @ c) / 2 + 1e-6)
    )  # Levy & Goldberg 2014, eq. 4 with footnote 7
    expected[[emb.index("king"), emb.index("woman"), emb.index("man")]] = -np.inf
    top = np.argsort(-expected, kind="stable")[:5]
    ours = emb.most_similar_cosmul(["king", "woman"], ["man"], k=5)
    np.testing.assert_allclose([s for _, s in ours], expected[top], rtol=1e-5)
    restricted = emb.most_similar_cosmul(["king", "woman"], ["man"], k=5, restrict_vocab=50)
    assert all(emb.index(key) < 50 for key, _ in restricted)


def test_doesnt_match_matches_gensim(emb, kv):
    for group in (
        ["one", "two", "three", "anarchism"],
        ["war", "battle", "civil", "seven"],
        ["france", "spain", "french", "king"],
    ):
        assert emb.doesnt_match(group) == kv.doesnt_match(group)
    assert emb.doesnt_match(["one", "two", "three", "anarchism"]) == "anarchism"


def test_similarity_queries_validate_their_arguments(emb):
    with pytest.raises(InvalidParameterError, match="at least one positive or negative"):
        emb.most_similar()
    with pytest.raises(InvalidParameterError, match="k must be at least 0; got -1"):
        emb.most_similar("war", k=-1)
    with pytest.raises(InvalidParameterError, match="restrict_vocab must be at least 1"):
        emb.most_similar("war", restrict_vocab=0)
    with pytest.raises(InvalidParameterError, match=r"shape \(32,\)"):
        emb.most_similar(np.zeros(5, np.float32))
    with pytest.raises(InvalidParameterError, match="at least one positive"):
        emb.most_similar_cosmul(negative=["war"])
    with pytest.raises(InvalidParameterError, match="at least 2 keys"):
        emb.doesnt_match(["war"])
    with pytest.raises(UnknownKeyError, match="'battle'"):
        emb.doesnt_match(["war", "battel"])
    assert emb.most_similar("war", k=0) == []
    assert len(emb.most_similar("war", k=10_000)) == len(emb) - 1


def test_zero_vectors_have_zero_similarity_and_no_warnings():
    vectors = np.array([[1, 0], [0, 0], [1, 1], [-1, 0]], dtype=np.float32)
    e = Embeddings(["a", "zero", "b", "c"], vectors)
    np.testing.assert_array_equal(e.normalized()["zero"], [0, 0])
    assert e.similarity("a", "zero") == 0.0
    assert e.most_similar("a", k=3) == [
        ("b", pytest.approx(2**-0.5)),
        ("zero", 0.0),
        ("c", pytest.approx(-1.0)),
    ]


# ---------------------------------------------------------------------- derived embeddings


matrices = hnp.arrays(
    np.float32,
    st.tuples(st.integers(1, 8), st.integers(1, 6)),
    elements=st.floats(-1e4, 1e4, width=32),
)


@given(matrices)
def test_normalized_rows_have_unit_norm_or_stay_zero(vectors):
    e = Embeddings([f"k{i}" for i in range(len(vectors))], vectors, counts=np.arange(len(vectors)))
    unit = e.normalized()
    norms = np.linalg.norm(unit.vectors.astype(np.float64), axis=1)
    zero = ~vectors.any(axis=1)
    np.testing.assert_allclose(norms[~zero], 1.0, atol=1e-6)
    assert not unit.vectors[zero].any()
    assert unit.keys == e.keys and unit.counts is e.counts
    # same direction
    np.testing.assert_allclose(
        unit.vectors * np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True),
        vectors,
        rtol=1e-5,
        atol=1e-3,
    )


def test_normalized_matrix_is_computed_once(emb):
    first = emb.normalized()
    assert np.shares_memory(first.vectors, emb.normalized().vectors)
    assert np.shares_memory(first.normalized().vectors, first.vectors)


@given(matrices, st.data())
def test_truncate_keeps_the_prefix_columns(vectors, data):
    e = Embeddings([f"k{i}" for i in range(len(vectors))], vectors)
    dim = data.draw(st.integers(1, vectors.shape[1]))
    cut = e.truncate(dim)
    assert cut.dim == dim and cut.keys == e.keys
    np.testing.assert_array_equal(cut.vectors, vectors[:, :dim])
    assert cut.vectors.flags.c_contiguous
    # Matryoshka use: truncate then renormalise
    np.testing.assert_allclose(
        cut.normalized().vectors, Embeddings(e.keys, vectors[:, :dim]).normalized().vectors
    )


@pytest.mark.parametrize("dim", [0, 4, -1, 2.0])
def test_truncate_rejects_bad_widths(dim):
    with pytest.raises(InvalidParameterError, match="dim must be"):
        small(dim=3).truncate(dim)


def test_restrict_keeps_the_most_frequent_keys():
    vectors = np.arange(10, dtype=np.float32).reshape(5, 2)
    e = Embeddings(["a", "b", "c", "d", "e"], vectors, counts=[1, 5, 3, 5, 0])
    top = e.restrict(3)
    assert top.keys == ["b", "d", "c"]  # ties keep their order
    assert top.counts.tolist() == [5, 5, 3]
    np.testing.assert_array_equal(top["d"], [6, 7])
    assert top.key_to_index == {"b": 0, "d": 1, "c": 2}
    plain = Embeddings(e.keys, vectors).restrict(2)
    assert plain.keys == ["a", "b"] and plain.counts is None
    np.testing.assert_array_equal(plain.vectors, vectors[:2])
    assert len(e.restrict(99)) == 5
    with pytest.raises(InvalidParameterError, match="at least 1"):
        e.restrict(0)


# ---------------------------------------------------------------------- save / load


def assert_identical(a: Embeddings, b: Embeddings) -> None:
    assert a.keys == b.keys
    assert a.vectors.dtype == b.vectors.dtype == np.float32
    assert a.vectors.tobytes() == b.vectors.tobytes()
    if a.counts is None:
        assert b.counts is None
    else:
        assert b.counts.dtype == np.int64
        np.testing.assert_array_equal(a.counts, b.counts)


def test_save_load_is_bit_exact(emb, tmp_path):
    path = tmp_path / "emb"
    emb.save(path)
    assert sorted(os.listdir(path)) == ["config.json", "counts.npy", "keys.txt", "vectors.npy"]
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    assert config == {
        "class": "Embeddings",
        "format_version": 1,
        "n": len(emb),
        "dim": 32,
        "has_counts": True,
    }
    assert (path / "keys.txt").read_text(encoding="utf-8").split("\n")[:3] == ["the", "of", "and"]
    assert_identical(emb, Embeddings.load(path))
    mapped = Embeddings.load(str(path), mmap=True)
    assert isinstance(mapped.vectors, np.memmap) or isinstance(mapped.vectors.base, np.memmap)
    assert_identical(emb, mapped)
    assert mapped.most_similar("war", k=3) == emb.most_similar("war", k=3)
    assert os.listdir(tmp_path) == ["emb"]  # no temporary directories left behind


def test_save_load_without_counts_and_with_unusual_keys(tmp_path):
    keys = ["café", "北京", "a b", "tab\tkey", "line\u2028sep", "\x0bvt", "x" * 500]
    vectors = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    e = Embeddings(keys, vectors)
    e.save(tmp_path / "e")
    assert not (tmp_path / "e" / "counts.npy").exists()
    assert_identical(e, Embeddings.load(tmp_path / "e"))


keys_strategy = st.lists(
    st.text(
        st.characters(exclude_characters="\n\r", exclude_categories=("Cs",)),
        min_size=1,
        max_size=12,
    ),
    min_size=1,
    max_size=10,
    unique=True,
)


@settings(max_examples=40, deadline=None)
@given(keys_strategy, st.data())
def test_save_load_round_trip_property(keys, data):
    vectors = data.draw(
        hnp.arrays(
            np.float32,
            (len(keys), data.draw(st.integers(1, 4))),
            elements=st.floats(width=32, allow_nan=True, allow_infinity=True),
        )
    )
    counts = data.draw(
        st.none() | st.lists(st.integers(0, 2**62), min_size=len(keys), max_size=len(keys))
    )
    e = Embeddings(keys, vectors, counts=counts)
    with tempfile.TemporaryDirectory() as tmp:
        e.save(Path(tmp) / "e")
        assert_identical(e, Embeddings.load(Path(tmp) / "e"))


@pytest.mark.parametrize("bad", ["", "two\nlines", "carriage\rreturn"])
def test_save_rejects_keys_that_break_keys_txt(tmp_path, bad):
    e = Embeddings(["ok", bad], np.zeros((2, 2), np.float32))
    with pytest.raises(InvalidParameterError, match="line break"):
        e.save(tmp_path / "e")
    assert not (tmp_path / "e").exists()


def test_save_replaces_a_previous_save(tmp_path):
    path = tmp_path / "e"
    small(4, 3, counts=True).save(path)
    newer = small(6, 2)
    newer.save(path)
    assert_identical(newer, Embeddings.load(path))
    assert not (path / "counts.npy").exists()
    assert os.listdir(tmp_path) == ["e"]


def test_failed_save_leaves_the_previous_copy_loadable(tmp_path, monkeypatch):
    path = tmp_path / "e"
    old = small(4, 3, counts=True)
    old.save(path)
    real_save = np.save

    def failing_save(file, arr, *args, **kwargs):
        if Path(file).name == "vectors.npy":
            with open(file, "wb") as fh:  # half a file, then the disk fills up
                fh.write(b"\x93NUMPY")
            raise OSError(28, "No space left on device")
        return real_save(file, arr, *args, **kwargs)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="No space left"):
        small(9, 5).save(path)
    monkeypatch.undo()
    assert_identical(old, Embeddings.load(path))
    assert os.listdir(tmp_path) == ["e"]


def test_save_refuses_to_replace_a_foreign_directory(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="not written by embedforge"):
        small().save(tmp_path / "notes")
    assert (tmp_path / "notes" / "thesis.tex").read_text(encoding="utf-8") == "precious"


def test_load_follows_a_model_directory_to_its_wv(tmp_path):
    model_dir = tmp_path / "w2v"
    e = small(5, 4, counts=True)
    e.save(model_dir / "wv")
    (model_dir / "config.json").write_text(
        json.dumps({"class": "Word2Vec", "format_version": 1}), encoding="utf-8"
    )
    assert_identical(e, Embeddings.load(model_dir))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"class": "GloVe"}', encoding="utf-8")
    with pytest.raises(FormatError, match="names class 'GloVe', not 'Embeddings'"):
        Embeddings.load(tmp_path / "other")


def _corrupt(path: Path, name: str, how: str) -> None:
    target = path / name
    if how == "delete":
        target.unlink()
    elif how == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) - 7])
    else:
        target.write_text(how, encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "how", "match"),
    [
        ("config.json", "delete", "config.json' is missing"),
        ("config.json", "{not json", "config.json: not valid JSON"),
        ("config.json", "[1, 2]", "config.json: expected a JSON object"),
        (
            "config.json",
            '{"class": "Embeddings", "format_version": 2, "n": 4, "dim": 3, "has_counts": true}',
            "format_version 2 was written by a newer embedforge",
        ),
        (
            "config.json",
            '{"class": "Embeddings", "format_version": 1, "n": 5, "dim": 3, "has_counts": true}',
            r"vectors.npy: holds a float32 array of shape \(4, 3\); config.json says",
        ),
        ("config.json", '{"class": "Embeddings", "format_version": 1}', "'n' must be an int"),
        ("vectors.npy", "truncate", "vectors.npy: not a complete .npy array"),
        ("vectors.npy", "delete", "vectors.npy is missing"),
        ("counts.npy", "truncate", "counts.npy: not a complete .npy array"),
        ("keys.txt", "k0\nk1\nk2\n", "keys.txt: has 3 keys but config.json says n=4"),
        ("keys.txt", "delete", "keys.txt is missing"),
    ],
)
@pytest.mark.parametrize("mmap", [False, True])
def test_load_reports_damaged_directories(tmp_path, name, how, match, mmap):
    path = tmp_path / "e"
    small(4, 3, counts=True).save(path)
    _corrupt(path, name, how)
    with pytest.raises(FormatError, match=match):
        Embeddings.load(path, mmap=mmap)


def test_load_missing_or_wrong_kind_of_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        Embeddings.load(tmp_path / "nowhere")
    (tmp_path / "vectors.txt").write_text("1 2\na 0.5 0.5\n", encoding="utf-8")
    with pytest.raises(FormatError, match="load_word2vec_format"):
        Embeddings.load(tmp_path / "vectors.txt")


def test_load_reports_duplicate_keys_in_keys_txt(tmp_path):
    small(3, 2).save(tmp_path / "e")
    (tmp_path / "e" / "keys.txt").write_text("k0\nk1\nk0\n", encoding="utf-8")
    with pytest.raises(FormatError, match="'k0' appears at positions 0 and 2"):
        Embeddings.load(tmp_path / "e")


# ---------------------------------------------------------------------- torch


def test_to_torch_lookup_equals_vectors(emb):
    torch = pytest.importorskip("torch")
    layer = emb.to_torch()
    assert layer.weight.shape == (len(emb), 32) and not layer.weight.requires_grad
    rows = torch.tensor([emb.index("war"), emb.index("the")])
    np.testing.assert_array_equal(layer(rows).detach().numpy(), emb[["war", "the"]])
    trainable = emb.to_torch(trainable=True)
    assert trainable.weight.requires_grad
    with torch.no_grad():
        trainable.weight[0] += 1.0  # the layer owns a copy
    assert emb.vectors[0, 0] == np.float32(emb[emb.keys[0]][0])
    assert not np.array_equal(trainable.weight[0].detach().numpy(), emb.vectors[0])


def test_to_torch_without_torch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(MissingDependencyError, match=r"pip install torch==2\.13\.0") as info:
        small().to_torch()
    assert "embedforge[torch]" in str(info.value)
    assert isinstance(info.value, ImportError)


# ---------------------------------------------------------------------- hostile .npy headers


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        np.asfortranarray(np.arange(12, dtype=np.float32).reshape(4, 3)),
        np.arange(12, dtype=">f4").reshape(4, 3),
        np.arange(12, dtype=np.float64).reshape(4, 3),
    ],
    ids=["fortran", "big-endian", "float64"],
)
def test_load_accepts_every_npy_layout_numpy_writes(tmp_path, array, mmap):
    path = tmp_path / "e"
    small(4, 3).save(path)
    np.save(path / "vectors.npy", array)
    loaded = Embeddings.load(path, mmap=mmap)
    np.testing.assert_array_equal(loaded.vectors, array.astype(np.float32))


@pytest.mark.parametrize("mmap", [False, True])
def test_load_checks_npy_headers_against_the_file_before_reading(tmp_path, mmap):
    import tracemalloc

    path = tmp_path / "e"
    small(4, 3, counts=True).save(path)
    vectors = path / "vectors.npy"
    data = vectors.read_bytes()
    vectors.write_bytes(data + b"\0" * 4)  # bytes beyond what the header declares
    with pytest.raises(
        FormatError, match=r"vectors.npy: not a complete .npy array.*holds 52 bytes"
    ):
        Embeddings.load(path, mmap=mmap)
    # A header declaring 99,999,999,999 x 300 float32 (about 112 TiB) over 48 bytes of data.
    end = data.index(b"\n")  # the header (padded with spaces) ends with the first line break
    header = data[10:end].replace(b"(4, 3)", b"(99999999999, 300)").rstrip(b" ")
    vectors.write_bytes(data[:10] + header.ljust(end - 10) + data[end:])
    tracemalloc.start()
    try:
        with pytest.raises(FormatError) as info:
            Embeddings.load(path, mmap=mmap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(vectors) in message and "'shape' declares (99999999999, 300)" in message
    assert "holds 48 bytes" in message and "truncated or corrupt; save it again" in message
    assert peak < 1 << 20
