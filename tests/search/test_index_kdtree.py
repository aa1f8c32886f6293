"""VectorIndex(kind="kdtree") returns what the flat index returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedforge import Embeddings, InvalidParameterError, VectorIndex
from embedforge.maps import project

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"


def _pair(dim: int, vectors: np.ndarray, ids: np.ndarray) -> tuple[VectorIndex, VectorIndex]:
    flat, tree = VectorIndex(dim), VectorIndex(dim, kind="kdtree")
    flat.add(ids, vectors)
    tree.add(ids, vectors)
    return flat, tree


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
    assert np.array_equal(a[1], b[1])
    assert np.allclose(a[0], b[0], atol=1e-5)


@pytest.mark.parametrize("dim", [2, 3, 8])
def test_kdtree_equals_flat_on_map_coordinates(dim, tmp_path):
    vectors = Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")
    coords = project(vectors, "pca", dim=min(dim, 3)) if dim <= 3 else vectors.vectors[:, :dim]
    ids = np.arange(len(coords), dtype=np.int64) * 3 + 1
    flat, tree = _pair(dim, coords, ids)
    queries = coords[::7] + 0.01
    _same(flat.search(queries, 10), tree.search(queries, 10))
    allowed = ids[::2]
    _same(
        flat.search(queries, 5, allowed_ids=allowed), tree.search(queries, 5, allowed_ids=allowed)
    )
    # removal compacts both the same way; save / load keeps the answers
    assert flat.remove(ids[:40]) == tree.remove(ids[:40]) == 40
    _same(flat.search(queries, 10), tree.search(queries, 10))
    tree.save(tmp_path / "kd")
    loaded = VectorIndex.load(tmp_path / "kd")
    assert loaded.kind == "kdtree" and loaded.ntotal == tree.ntotal
    _same(flat.search(queries, 10), loaded.search(queries, 10))


def test_kdtree_pads_when_fewer_than_k_are_stored():
    rng = np.random.default_rng(0)
    flat, tree = _pair(2, rng.normal(size=(4, 2)).astype(np.float32), np.arange(4))
    q = rng.normal(size=(3, 2)).astype(np.float32)
    scores, ids = tree.search(q, 6)
    assert (ids[:, 4:] == -1).all() and np.isneginf(scores[:, 4:]).all()
    _same(flat.search(q, 6), (scores, ids))


@pytest.mark.parametrize(
    "kwargs", [{"precision": "int8"}, {"precision": "binary"}, {"metric": "inner_product"}]
)
def test_kdtree_refuses_what_it_cannot_do_exactly(kwargs):
    with pytest.raises(InvalidParameterError, match="kdtree"):
        VectorIndex(3, kind="kdtree", **kwargs)


def test_euclidean_kdtree_finds_the_nearest_points_of_a_map(tmp_path):
    vectors = Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")
    coords = project(vectors, "pca")
    index = VectorIndex(2, kind="kdtree", metric="euclidean")
    index.add(np.arange(len(coords)), coords)
    cursor = coords[[5, 50]] + np.float32(0.001)
    scores, ids = index.search(cursor, 4, allowed_ids=np.arange(0, len(coords), 2))
    dist = np.linalg.norm(coords[None, :, :] - cursor[:, None, :], axis=2)
    dist[:, 1::2] = np.inf
    expected = np.argsort(dist, axis=1, kind="stable")[:, :4]
    assert np.array_equal(ids, expected)
    assert np.allclose(-scores, np.take_along_axis(dist, expected, 1), atol=1e-5)
    index.save(tmp_path / "kd")
    assert np.array_equal(
        VectorIndex.load(tmp_path / "kd").search(cursor, 4)[1], index.search(cursor, 4)[1]
    )
    with pytest.raises(InvalidParameterError, match="euclidean"):
        VectorIndex(2, metric="euclidean")
