"""normalize_rows and top_k against plain NumPy / Python references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from embedforge._linalg import normalize_rows, top_k

# ----------------------------------------------------------------------------- references


def reference_normalize(x: np.ndarray) -> np.ndarray:
    """Row by row in float64 with Python's math, rounded to float32 once."""
    out = np.zeros(x.shape, dtype=np.float32)
    for i, row in enumerate(np.asarray(x, dtype=np.float64)):
        norm = math.sqrt(math.fsum(v * v for v in row))
        out[i] = row / norm if norm > 0 else row
    return out


def reference_top_k(scores: np.ndarray, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row's candidates by (score descending, column ascending); pad with -1 / -inf."""
    n_queries, n = scores.shape
    ids = np.full((n_queries, k), -1, dtype=np.int64)
    top = np.full((n_queries, k), -np.inf, dtype=np.float32)
    for r in range(n_queries):
        if exclude is None:
            banned = set()
        else:
            ex = np.asarray(exclude)
            banned = set((ex if ex.ndim == 1 else ex[r]).tolist())
        cands = [
            (-float(scores[r, j]), j)
            for j in range(n)
            if j not in banned and not math.isnan(scores[r, j]) and scores[r, j] > -math.inf
        ]
        for slot, (neg, j) in enumerate(sorted(cands)[:k]):
            ids[r, slot] = j
            top[r, slot] = -neg
    return ids, top


# ----------------------------------------------------------------------------- normalize_rows

finite_rows = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12),
    elements=st.floats(-1e6, 1e6, width=32),
)


@settings(max_examples=200, deadline=None)
@given(finite_rows)
def test_normalize_rows_matches_reference(x):
    got = normalize_rows(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_array_max_ulp(got, reference_normalize(x), maxulp=1)
    zero = ~x.any(axis=1)
    assert not got[zero].any()  # zero rows stay zero
    norms = np.linalg.norm(got[~zero].astype(np.float64), axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(finite_rows)
def test_normalize_rows_float32_path_is_gensims(x):
    # gensim's KeyedVectors.fill_norms / get_normed_vectors, written out
    norms = np.linalg.norm(x, axis=1)
    expected = x / np.where(norms > 0, norms, np.float32(1.0))[:, None]
    got = normalize_rows(x, accumulate=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    moderate = np.linalg.norm(x.astype(np.float64), axis=1) > 1e-15  # no float32 underflow
    np.testing.assert_array_max_ulp(got[moderate], normalize_rows(x)[moderate], maxulp=4)


# What the callers computed before normalize_rows replaced their copies, written out: each
# mode must stay bit-identical to the code it replaced.


def former_embeddings_and_quantize(x):  # Embeddings._unit_vectors, quantize.l2_normalize
    x64 = x.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", x64, x64))
    norms[norms == 0.0] = 1.0
    return (x64 / norms[:, None]).astype(np.float32)


def former_classic(matrix):  # text/classic.py _unit_rows (TF-IDF, LSA, random projection)
    out = np.ascontiguousarray(matrix, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", out, out, dtype=np.float64))
    norms[norms == 0.0] = 1.0
    out /= norms.astype(np.float32)[:, None]
    return out


wide_rows = hnp.arrays(
    st.sampled_from([np.float32, np.float64]),
    st.tuples(st.integers(0, 6), st.integers(1, 700)),
    elements=st.floats(-1e3, 1e3, width=32),
)


@settings(max_examples=100, deadline=None)
@given(wide_rows)
def test_each_mode_is_bit_identical_to_the_code_it_replaced(x):
    np.testing.assert_array_equal(normalize_rows(x), former_embeddings_and_quantize(x))
    np.testing.assert_array_equal(normalize_rows(x, divide=np.float32), former_classic(x))
    x32 = x.astype(np.float32)
    norms = np.linalg.norm(x32, axis=1)  # docvectors, retrieval, analogies (gensim's rule)
    former = x32 / np.where(norms > 0, norms, np.float32(1.0))[:, None]
    np.testing.assert_array_equal(normalize_rows(x, accumulate=np.float32), former)


def test_normalize_rows_in_place_and_dtypes():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-30, 0.0]], dtype=np.float32)
    same = normalize_rows(x, out=x)
    assert same is x
    np.testing.assert_array_equal(x, np.array([[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]], np.float32))
    # float64 and integer input give float32 output with the same values
    ints = np.array([[3, 4], [0, 0]])
    np.testing.assert_array_equal(normalize_rows(ints), np.array([[0.6, 0.8], [0, 0]], np.float32))
    np.testing.assert_array_equal(normalize_rows(ints.astype(np.float64)), normalize_rows(ints))
    # a float64 out keeps the float64 quotients
    third = np.array([[1.0, 1.0, 1.0]])
    wide = normalize_rows(third, out=np.empty((1, 3)))
    assert wide.dtype == np.float64
    np.testing.assert_allclose(wide, 1 / np.sqrt(3), rtol=1e-15)


def test_normalize_rows_eps_leaves_tiny_rows_alone():
    x = np.array([[1e-9, 0.0], [2.0, 0.0]], dtype=np.float32)
    expected = np.array([[1e-9, 0.0], [1.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(normalize_rows(x, eps=1e-6), expected)


def test_normalize_rows_leaves_input_alone_and_checks_shapes():
    x = np.array([[3.0, 4.0]], dtype=np.float32)
    normalize_rows(x)
    np.testing.assert_array_equal(x, [[3.0, 4.0]])
    with pytest.raises(ValueError, match="2-D"):
        normalize_rows(np.ones(3))
    with pytest.raises(ValueError, match="out must be a float32 or float64 array"):
        normalize_rows(x, out=np.empty((1, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="out must be a float32 or float64 array"):
        normalize_rows(x, out=np.empty((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="accumulate must be"):
        normalize_rows(x, accumulate=np.float16)
    with pytest.raises(ValueError, match="divide must be"):
        normalize_rows(x, divide=int)


def test_normalize_rows_in_blocks(monkeypatch):
    import embedforge._linalg as linalg

    monkeypatch.setattr(linalg, "_BLOCK_ROWS", 3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 4)).astype(np.float32)
    x[4] = 0
    np.testing.assert_array_max_ulp(normalize_rows(x), reference_normalize(x), maxulp=1)


# ----------------------------------------------------------------------------- top_k

# Small integers make ties frequent; -inf and NaN mark non-candidates.
score_values = st.one_of(
    st.integers(-3, 3).map(float), st.just(-math.inf), st.just(math.nan), st.floats(-1, 1)
)
score_arrays = hnp.arrays(
    st.sampled_from([np.float32, np.float64]),
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=9),
    elements=score_values,
)


@settings(max_examples=300, deadline=None)
@given(score_arrays, st.integers(0, 12))
def test_top_k_matches_reference(scores, k):
    ids, top = top_k(scores, k)
    ref_ids, ref_top = reference_top_k(scores, k)
    assert ids.dtype == np.int64 and top.dtype == np.float32
    assert ids.shape == top.shape == (scores.shape[0], k)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(top, ref_top)


@settings(max_examples=200, deadline=None)
@given(score_arrays, st.integers(0, 12), st.data())
def test_top_k_with_exclusions_matches_reference(scores, k, data):
    n_queries, n = scores.shape
    columns = st.integers(-1, max(n, 1) + 1)
    if data.draw(st.booleans()):
        exclude = np.array(data.draw(st.lists(columns, max_size=4)), dtype=np.int64)
    else:
        exclude = data.draw(hnp.arrays(np.int64, (n_queries, 3), elements=columns))
    before = scores.copy()
    ids, top = top_k(scores, k, exclude=exclude)
    ref_ids, ref_top = reference_top_k(scores, k, exclude)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(top, ref_top)
    np.testing.assert_array_equal(scores, before)  # the caller's scores are not modified


def test_top_k_pads_when_k_exceeds_candidates():
    scores = np.array([[0.5, -np.inf, 0.9], [-np.inf, -np.inf, -np.inf]], dtype=np.float32)
    ids, top = top_k(scores, 4)
    np.testing.assert_array_equal(ids, [[2, 0, -1, -1], [-1, -1, -1, -1]])
    expected = np.array([[0.9, 0.5, -np.inf, -np.inf], [-np.inf] * 4], dtype=np.float32)
    np.testing.assert_array_equal(top, expected)


def test_top_k_ties_are_broken_by_lower_index_even_at_the_boundary():
    scores = np.zeros((2, 1000), dtype=np.float32)
    scores[1, 700] = 1.0
    ids, top = top_k(scores, 3)
    np.testing.assert_array_equal(ids, [[0, 1, 2], [700, 0, 1]])
    np.testing.assert_array_equal(top, [[0, 0, 0], [1, 0, 0]])
    ids, _ = top_k(scores, 1)
    np.testing.assert_array_equal(ids, [[0], [700]])


def test_top_k_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        top_k(np.zeros(3), 1)
    with pytest.raises(ValueError, match="k must be at least 0"):
        top_k(np.zeros((1, 3)), -1)
    with pytest.raises(ValueError, match="exclude must have shape"):
        top_k(np.zeros((2, 3)), 1, exclude=np.zeros((3, 1), dtype=np.int64))
