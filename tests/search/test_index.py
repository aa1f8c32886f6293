"""VectorIndex: brute-force equivalence, binary = sign agreement, filters, padding, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedforge.errors import FormatError, InvalidParameterError, NotFittedError
from embedforge.search import VectorIndex

COMBOS = [
    ("flat", "float32"),
    ("flat", "int8"),
    ("flat", "binary"),
    ("hnsw", "float32"),
    ("hnsw", "int8"),
    ("hnsw", "binary"),
    ("ivf", "float32"),
    ("ivf", "int8"),
    ("ivf", "binary"),
    ("ivf-pq", "float32"),
]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 32)).astype(np.float32)
    ids = np.arange(600, dtype=np.int64) * 5 + 3
    queries = rng.standard_normal((7, 32)).astype(np.float32)
    return ids, x, queries


def build(kind, precision, ids, x, **kw):
    index = VectorIndex(x.shape[1], kind, precision, **kw)
    if index.needs_training:
        index.train(x)
    index.add(ids, x)
    return index


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 60), st.integers(1, 12), st.integers(1, 70), st.integers(0, 2**32 - 1))
def test_flat_index_equals_brute_force(n, dim, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    q = rng.standard_normal((3, dim)).astype(np.float32)
    ids = rng.permutation(10 * n)[:n]
    scores, found = build("flat", "float32", ids, x).search(q, k)
    exact = unit(q.astype(np.float64)) @ unit(x.astype(np.float64)).T
    order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
    width = min(k, n)
    np.testing.assert_allclose(scores[:, :width], np.take_along_axis(exact, order, 1), atol=1e-5)
    # ids agree wherever the exact scores are not tied
    expected_ids = ids[order]
    gaps = np.abs(np.diff(np.sort(exact, axis=1), axis=1)).min(initial=1.0)
    if gaps > 1e-5:
        np.testing.assert_array_equal(found[:, :width], expected_ids)
    assert (found[:, width:] == -1).all() and np.isneginf(scores[:, width:]).all()


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_binary_ranking_equals_sign_agreement(kind, data):
    ids, x, q = data
    index = build(kind, "binary", ids, x, ef_search=600)
    scores, found = index.search(q, 20)
    sx, sq = np.where(x > 0, 1, -1), np.where(q > 0, 1, -1)
    agreement = sq @ sx.T  # = dim - 2 * hamming
    expected = np.sort(agreement, axis=1)[:, ::-1][:, :20]
    np.testing.assert_array_equal(scores, expected.astype(np.float32))
    rows = (found - 3) // 5
    np.testing.assert_array_equal(np.take_along_axis(agreement, rows, 1), expected)
    assert index.nbytes_per_vector() == 4.0


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_rotated_binary_ranks_by_rotated_signs_and_survives_save_load(kind, data, tmp_path):
    ids, x, q = data
    x = x * np.geomspace(4.0, 0.1, 32).astype(np.float32)  # variance in the first coordinates
    index = build(kind, "binary", ids, x, rotate=True, seed=3, ef_search=600, nprobe=64)
    r = index.quantizer_.rotation_
    scores, found = index.search(q, 20)
    sx, sq = np.where(unit(x) @ r > 0, 1, -1), np.where(unit(q) @ r > 0, 1, -1)
    agreement = sq @ sx.T
    expected = np.sort(agreement, axis=1)[:, ::-1][:, :20]
    np.testing.assert_array_equal(scores, expected.astype(np.float32))
    allowed = ids[::3]  # the exhaustive path (a filter) uses the same rotated signs
    fs, ff = index.search(q, 5, allowed_ids=allowed)
    rows = (allowed - 3) // 5
    np.testing.assert_array_equal(fs, np.sort(agreement[:, rows], axis=1)[:, ::-1][:, :5])
    assert np.isin(ff, allowed).all()
    index.save(tmp_path / "index")
    back = VectorIndex.load(tmp_path / "index")
    assert back.rotate
    np.testing.assert_array_equal(back.quantizer_.rotation_, r)
    np.testing.assert_array_equal(back.search(q, 20)[0], scores)
    with pytest.raises(InvalidParameterError, match="rotate=True .* precision='binary'"):
        VectorIndex(32, precision="int8", rotate=True)


@pytest.mark.parametrize(("kind", "precision"), COMBOS)
def test_every_kind_finds_near_duplicates_and_rescoring_is_exact(kind, precision, data):
    ids, x, _ = data
    index = build(kind, precision, ids, x, nprobe=4, ef_search=128)
    q = x[[10, 200, 400]] + 0.01 * np.random.default_rng(1).standard_normal((3, 32)).astype(
        np.float32
    )
    _, found = index.search(q, 5)
    assert found[:, 0].tolist() == ids[[10, 200, 400]].tolist()
    scores, found = index.search(q, 5, rescore=lambda u: x[(u - 3) // 5], rescore_multiplier=10)
    exact = np.sum(unit(q)[:, None, :] * unit(x[(found - 3) // 5]), axis=2)
    np.testing.assert_allclose(scores, exact, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-7).all()


@pytest.mark.parametrize(("kind", "precision"), COMBOS)
def test_allowed_ids_and_remove_and_save_load(kind, precision, data, tmp_path):
    ids, x, q = data
    index = build(kind, precision, ids, x)
    for allowed in (ids[::97], ids[::2], np.append(ids[:3], [10**9])):
        _, found = index.search(q, 10, allowed_ids=allowed)
        n_allowed = len(np.intersect1d(allowed, ids))
        assert np.isin(found[found >= 0], allowed).all()
        assert ((found >= 0).sum(axis=1) == min(10, n_allowed)).all()
    assert index.remove(np.concatenate([ids[:50], [10**9]])) == 50
    assert index.remove(ids[:50]) == 0
    assert index.ntotal == 550
    before = index.search(q, 10)
    assert not np.isin(before[1], ids[:50]).any()
    index.save(tmp_path / "index")
    loaded = VectorIndex.load(tmp_path / "index")
    after = loaded.search(q, 10)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_array_equal(after[0], before[0])
    loaded.add(ids[:5], x[:5])  # removed ids can come back
    assert loaded.ntotal == 555


def test_padding_when_fewer_than_k(data):
    ids, x, q = data
    scores, found = build("hnsw", "float32", ids[:3], x[:3]).search(q[:2], 5)
    assert (found[:, 3:] == -1).all() and np.isneginf(scores[:, 3:]).all()
    assert sorted(found[0, :3].tolist()) == sorted(ids[:3].tolist())
    empty = VectorIndex(32)
    scores, found = empty.search(q, 4)
    assert found.shape == (7, 4) and (found == -1).all() and np.isneginf(scores).all()


def test_int8_index_uses_the_scalar_quantizer_codes(data):
    ids, x, _ = data
    index = build("flat", "int8", ids, x)
    codes = index.quantizer_.encode(unit(x))
    np.testing.assert_array_equal(index._index.sa_encode(unit(x)), codes)
    assert index.nbytes_per_vector() == 32.0


def test_validation_messages(data):
    ids, x, q = data
    index = build("flat", "float32", ids[:10], x[:10])
    with pytest.raises(InvalidParameterError, match="must have 32 columns"):
        index.search(q[:, :31], 3)
    with pytest.raises(InvalidParameterError, match="k must be an int >= 1"):
        index.search(q, 0)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        index.add(np.array([-1]), x[:1])
    with pytest.raises(InvalidParameterError, match="finite"):
        index.add(np.array([99]), np.full((1, 32), np.inf, dtype=np.float32))
    with pytest.raises(InvalidParameterError, match="3 is already in the index"):
        index.add(ids[:1], x[:1])
    with pytest.raises(InvalidParameterError, match="same length"):
        index.add(np.array([1000, 1001]), x[:1])
    with pytest.raises(
        InvalidParameterError, match="kind must be one of 'flat', 'hnsw', 'ivf', 'ivf-pq'"
    ):
        VectorIndex(32, kind="lsh")
    with pytest.raises(InvalidParameterError, match="precision must be 'float32'"):
        VectorIndex(32, kind="ivf-pq", precision="binary")
    with pytest.raises(InvalidParameterError, match="pq_m must divide dim=32"):
        VectorIndex(32, kind="ivf-pq", pq_m=5)
    with pytest.raises(NotFittedError, match="train"):
        VectorIndex(32, precision="int8").add(ids[:1], x[:1])
    with pytest.raises(InvalidParameterError, match="at least 256 rows"):
        VectorIndex(32, kind="ivf-pq").train(x[:100])
    with pytest.raises(InvalidParameterError, match="shape"):
        build("flat", "int8", ids, x).search(q, 3, rescore=lambda u: x[:1], rescore_multiplier=2)


def test_corrupt_or_truncated_file_is_a_format_error(data, tmp_path):
    ids, x, _ = data
    build("hnsw", "binary", ids, x).save(tmp_path / "index")
    blob = (tmp_path / "index" / "index.faiss").read_bytes()
    (tmp_path / "index" / "index.faiss").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(FormatError, match="truncated or corrupt"):
        VectorIndex.load(tmp_path / "index")
    (tmp_path / "index" / "config.json").write_text("{not json")
    with pytest.raises(FormatError, match="config.json"):
        VectorIndex.load(tmp_path / "index")


@pytest.mark.parametrize(("kind", "precision"), COMBOS)
def test_allowed_ids_through_faiss_selectors_and_fallbacks(kind, precision, data, monkeypatch):
    """With the exhaustive shortcut disabled, filters go through FAISS (or over-fetching)."""
    import embedforge.search.index as index_module

    monkeypatch.setattr(index_module, "_EXHAUSTIVE_LIMIT", 0)
    ids, x, q = data
    index = build(kind, precision, ids, x, nprobe=1, ef_search=16)
    index.remove(ids[1::10])
    for allowed in (ids[::3], ids[:12], ids[1::10][:20]):
        _, found = index.search(q, 10, allowed_ids=allowed)
        live_allowed = np.setdiff1d(allowed, ids[1::10])
        assert np.isin(found[found >= 0], live_allowed).all()
        assert ((found >= 0).sum(axis=1) == min(10, len(live_allowed))).all()
