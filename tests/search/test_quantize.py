"""Quantization: truncation, int8, binary, PCA — properties against plain NumPy references."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from embedforge import Embeddings
from embedforge.errors import FormatError, InvalidParameterError, NotFittedError
from embedforge.search import BinaryQuantizer, PCAReducer, ScalarQuantizer, truncate_and_normalize

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=32)


def matrices(min_rows: int = 1, max_dim: int = 40):
    shape = st.tuples(st.integers(min_rows, 30), st.integers(1, max_dim))
    return shape.flatmap(lambda s: arrays(np.float32, s, elements=finite))


@settings(max_examples=50, deadline=None)
@given(matrices(), st.data())
def test_truncate_is_prefix_then_renormalise(x, data):
    dim = data.draw(st.integers(1, x.shape[1]))
    out = truncate_and_normalize(x, dim)
    prefix = x[:, :dim].astype(np.float64)
    norms = np.linalg.norm(prefix, axis=1, keepdims=True)
    expected = np.divide(prefix, norms, out=np.zeros_like(prefix), where=norms > 0)
    assert out.shape == (x.shape[0], dim) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_truncate_accepts_embeddings_and_rejects_bad_dim():
    emb = Embeddings(["a", "b"], np.array([[3.0, 4.0, 1.0], [0.0, 2.0, 5.0]]))
    np.testing.assert_allclose(truncate_and_normalize(emb, 2), [[0.6, 0.8], [0.0, 1.0]], atol=1e-7)
    with pytest.raises(InvalidParameterError, match="dim must be between 1 and 3; got 4"):
        truncate_and_normalize(emb, 4)
    with pytest.raises(InvalidParameterError, match="finite"):
        truncate_and_normalize(np.array([[1.0, np.nan]]), 1)


@settings(max_examples=50, deadline=None)
@given(matrices(), st.sampled_from([1, 4, 8]), st.sampled_from(["minmax", "percentile"]))
def test_scalar_decode_error_is_at_most_half_a_step(x, bits, calibration):
    sq = ScalarQuantizer(bits=bits, calibration=calibration, percentile=90.0).fit(x)
    codes = sq.encode(x)
    assert codes.dtype == np.uint8 and codes.shape == x.shape
    assert codes.max() <= 2**bits - 1
    decoded = sq.decode(codes)
    inside = (x >= sq.lower_) & (x <= sq.lower_ + sq.width_)
    err = np.abs(decoded.astype(np.float64) - x)
    bound = sq.step_.astype(np.float64) / 2 * (1 + 1e-4) + 1e-4 * np.abs(x)
    assert np.all(err[inside] <= np.broadcast_to(bound, x.shape)[inside])


def test_scalar_codes_are_faiss_qt8bit_codes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 24)).astype(np.float32)
    sq = ScalarQuantizer().fit(x[:300])  # rows 300+ fall partly outside: clipping too
    index = faiss.IndexScalarQuantizer(24, faiss.ScalarQuantizer.QT_8bit)
    index.train(x[:10])
    faiss.copy_array_to_vector(np.concatenate([sq.lower_, sq.width_]), index.sq.trained)
    np.testing.assert_array_equal(sq.encode(x), index.sa_encode(x))
    np.testing.assert_allclose(
        sq.decode(sq.encode(x)), index.sa_decode(index.sa_encode(x)), atol=1e-6
    )


def test_scalar_constant_dimension_and_validation(tmp_path):
    x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    sq = ScalarQuantizer().fit(x)
    np.testing.assert_array_equal(sq.encode(x)[:, 1], 0)
    np.testing.assert_allclose(sq.decode(sq.encode(x))[:, 1], 5.0)
    with pytest.raises(InvalidParameterError, match="bits must be between 1 and 8; got 16"):
        ScalarQuantizer(bits=16).fit(x)
    with pytest.raises(
        InvalidParameterError, match="calibration must be one of 'minmax', 'percentile'"
    ):
        ScalarQuantizer(calibration="max").fit(x)
    with pytest.raises(NotFittedError, match="fit"):
        ScalarQuantizer().encode(x)
    with pytest.raises(InvalidParameterError, match="2 columns"):
        sq.encode(np.zeros((1, 3)))
    with pytest.raises(InvalidParameterError, match=r"codes must lie in \[0, 255\]"):
        sq.decode(np.array([[0, 256]]))


def test_scalar_save_load_roundtrip_and_corruption(tmp_path):
    x = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    sq = ScalarQuantizer(bits=6, calibration="percentile", percentile=99.0).fit(x)
    sq.save(tmp_path / "sq")
    loaded = ScalarQuantizer.load(tmp_path / "sq")
    assert (loaded.bits, loaded.calibration, loaded.percentile) == (6, "percentile", 99.0)
    np.testing.assert_array_equal(loaded.encode(x), sq.encode(x))
    (tmp_path / "sq" / "lower.npy").write_bytes(b"\x93NUMPY")
    with pytest.raises(FormatError, match="lower.npy"):
        ScalarQuantizer.load(tmp_path / "sq")


@settings(max_examples=50, deadline=None)
@given(matrices(min_rows=2))
def test_binary_codes_are_packed_signs_and_hamming_is_sign_agreement(x):
    bq = BinaryQuantizer()
    codes = bq.encode(x)
    dim = x.shape[1]
    assert codes.shape == (x.shape[0], (dim + 7) // 8) and codes.dtype == np.uint8
    signs = np.where(x > 0, 1.0, -1.0)
    np.testing.assert_array_equal(bq.decode(codes), signs)
    hamming = np.unpackbits(codes[:1] ^ codes, axis=1).sum(axis=1).astype(np.int64)
    np.testing.assert_array_equal(dim - 2 * hamming, signs @ signs[0])


def test_binary_bit_order_is_numpy_packbits_and_save_load(tmp_path):
    x = np.array([[1, -1, -1, -1, -1, -1, -1, 2, 3, -1]], dtype=np.float32)
    codes = BinaryQuantizer().encode(x)
    assert codes.tolist() == [[0b10000001, 0b10000000]]
    bq = BinaryQuantizer().fit(x)
    bq.save(tmp_path / "bq")
    assert BinaryQuantizer.load(tmp_path / "bq").dim_ == 10
    with pytest.raises(InvalidParameterError, match="10 columns"):
        bq.encode(np.ones((1, 9)))
    with pytest.raises(FormatError, match="ScalarQuantizer"):
        ScalarQuantizer.load(tmp_path / "bq")


def test_pca_matches_sklearn_and_survives_save_load(tmp_path):
    from sklearn.decomposition import PCA

    x = np.random.default_rng(1).standard_normal((200, 12)).astype(np.float32)
    x[:, 0] *= 10
    reducer = PCAReducer(4).fit(x)
    reference = PCA(4, random_state=0).fit(x).transform(x)
    out = reducer.transform(x)
    assert out.shape == (200, 4) and out.dtype == np.float32
    np.testing.assert_allclose(np.abs(out), np.abs(reference), atol=1e-3)
    reducer.save(tmp_path / "pca")
    np.testing.assert_array_equal(PCAReducer.load(tmp_path / "pca").transform(x), out)
    with pytest.raises(InvalidParameterError, match="dim must be between 1 and 12; got 13"):
        PCAReducer(13).fit(x)


def test_old_name_truncate_still_works_with_a_deprecation_warning():
    import embedforge
    import embedforge.search
    import embedforge.search.quantize

    x = np.array([[3.0, 4.0, 12.0]], dtype=np.float32)
    for module in (embedforge, embedforge.search, embedforge.search.quantize):
        with pytest.warns(DeprecationWarning, match="truncate_and_normalize"):
            old = module.truncate
        np.testing.assert_array_equal(old(x, 2), truncate_and_normalize(x, 2))
        assert "truncate" not in module.__all__
    # the method keeps its meaning: the prefix with its norms, as Embeddings
    emb = Embeddings(["a"], x)
    np.testing.assert_array_equal(emb.truncate(2).vectors, [[3.0, 4.0]])


def test_binary_rotation_is_orthogonal_saved_exactly_and_estimates_the_angle(tmp_path):
    rng = np.random.default_rng(4)
    # variance in the first coordinates, as after a PCA rotation head
    x = (rng.standard_normal((400, 64)) * np.geomspace(8.0, 0.05, 64)).astype(np.float32)
    bq = BinaryQuantizer(rotate=True, seed=7).fit(x)
    r = bq.rotation_
    assert r.shape == (64, 64) and r.dtype == np.float32
    np.testing.assert_allclose(r @ r.T, np.eye(64), atol=1e-5)
    np.testing.assert_array_equal(bq.encode(x), np.packbits(x @ r > 0, axis=1))
    assert not np.array_equal(BinaryQuantizer(rotate=True, seed=8).fit(x).rotation_, r)
    bq.save(tmp_path / "bq")
    back = BinaryQuantizer.load(tmp_path / "bq")
    assert back.rotate and back.seed == 7
    np.testing.assert_array_equal(back.rotation_, r)
    np.testing.assert_array_equal(back.encode(x), bq.encode(x))

    # sign random projections: the Hamming fraction estimates angle / pi, which plain
    # signs of these skewed coordinates do not
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    angle = np.arccos(np.clip(unit @ unit[0], -1, 1))[1:] / np.pi

    def error(codes):
        hamming = np.unpackbits(codes[:1] ^ codes, axis=1).sum(axis=1)[1:] / 64
        return np.abs(hamming - angle).mean()

    assert error(bq.encode(x)) < 0.7 * error(BinaryQuantizer().encode(x))  # 0.039 vs 0.071


def test_binary_rotation_file_that_lies_is_refused(tmp_path):
    bq = BinaryQuantizer(rotate=True).fit(np.ones((2, 16), dtype=np.float32))
    bq.save(tmp_path / "bq")
    np.save(tmp_path / "bq" / "rotation.npy", np.eye(8, dtype=np.float32))
    with pytest.raises(FormatError, match="rotation"):
        BinaryQuantizer.load(tmp_path / "bq")
    with pytest.raises(InvalidParameterError, match="rotate"):
        BinaryQuantizer(rotate="yes").fit(np.ones((2, 16)))
