"""Interactions: building, readers (MovieLens layouts, CSV/TSV headers), bad input, filters, splits."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import scipy.sparse as sp
from _planted import planted

from embedforge.errors import FormatError, InvalidParameterError, UnknownKeyError
from embedforge.recommend import Interactions, read_interactions

# four users, five items, MovieLens u.data layout (own-made lines, not MovieLens data)
UDATA = "1\t10\t5\t100\n1\t20\t3\t101\n2\t10\t4\t102\n3\t30\t1\t103\n3\t40\t2\t99\n4\t50\t5\t104\n"


def test_from_arrays_sorts_keys_sums_duplicates_and_keeps_times():
    data = Interactions.from_arrays(
        ["b", "a", "b", "a"], [2, 1, 2, 3], [1.0, 2.0, 3.0, 1.0], [10, 20, 30, 40]
    )
    assert data.users == ["a", "b"] and data.items == [1, 2, 3]
    dense = data.matrix.toarray()
    np.testing.assert_array_equal(dense, [[2, 0, 1], [0, 4, 0]])
    assert data.matrix.dtype == np.float32 and data.matrix.indices.dtype == np.int32
    # CSR order: (a,1)=20, (a,3)=40, (b,2)=mean(10,30)
    np.testing.assert_array_equal(data.timestamps, [20, 40, 20])
    assert data.user_rows(["b", "a"]).tolist() == [1, 0]
    assert data.item_columns("3").tolist() == [2]  # str(key) works too


def test_bad_values_are_rejected_with_the_fix():
    with pytest.raises(InvalidParameterError, match="finite"):
        Interactions.from_arrays([1, 2], [1, 2], [1.0, float("nan")])
    with pytest.raises(InvalidParameterError, match="same after str"):
        Interactions.from_arrays([1, "1"], [1, 2])
    with pytest.raises(InvalidParameterError, match="scipy.sparse"):
        Interactions(np.ones((2, 2)))
    with pytest.raises(UnknownKeyError, match="recommend_new_user"):
        planted().user_rows("nobody")


def test_read_udata_with_and_without_compression(tmp_path):
    path = tmp_path / "u.data"
    path.write_text(UDATA)
    data = read_interactions(path)
    assert (data.n_users, data.n_items, data.nnz) == (4, 5, 6)
    assert data.users == [1, 2, 3, 4] and data.items == [10, 20, 30, 40, 50]
    assert data.matrix[0].toarray().tolist() == [[5, 3, 0, 0, 0]]
    assert data.timestamps.dtype == np.int64 and data.timestamps.tolist()[:2] == [100, 101]
    gz = tmp_path / "ratings.tsv.gz"
    gz.write_bytes(gzip.compress(UDATA.encode()))
    again = read_interactions(gz)
    assert (again.matrix != data.matrix).nnz == 0


def test_read_csv_headers_by_name(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("user,item,rating\nann,x,4\nbob,y,2.5\nann,y,1\n")
    data = read_interactions(plain)
    assert data.users == ["ann", "bob"] and data.items == ["x", "y"]
    assert data.matrix.toarray().tolist() == [[4, 1], [0, 2.5]] and data.timestamps is None
    ml = tmp_path / "ratings.csv"
    ml.write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n")
    data = read_interactions(ml, min_weight=3)
    assert data.nnz == 1 and data.items == [1029] and data.timestamps.tolist() == [1260759179]
    custom = tmp_path / "plays.tsv"
    custom.write_text("when\tcustomer\tsku\tqty\n5\tc1\ts1\t2\n6\tc2\ts1\t1\n")
    data = read_interactions(custom, columns={"user": "customer", "item": "sku", "weight": "qty"})
    assert data.matrix.toarray().ravel().tolist() == [2, 1]
    binary = read_interactions(plain, binary=True)
    assert set(binary.matrix.data.tolist()) == {1.0}


def test_read_dat_double_colon(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::1193::5::978300760\n2::661::3::978302109\n")
    assert read_interactions(path).nnz == 2


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("user,item,rating\na,x,4\nb,y\n", r"line 3: expected 3 fields"),
        ("user,item,rating\na,x,4\nb,y,nan\n", r"line 3: the weight 'nan' must be a finite"),
        ("user,item,rating\na,x,four\n", r"line 2: the weight 'four' is not a number"),
        ("user,item,rating\na,x,-1\n", r"line 2: .* >= 0"),
        ("name,thing\na,x\n", "names no user column"),
        ("user,item,rating,timestamp\na,x,4,yesterday\n", r"line 2: the timestamp"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=match) as info:
        read_interactions(path)
    assert "bad.csv" in str(info.value)


def test_empty_after_filtering_is_an_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\na,x,1\n")
    with pytest.raises(InvalidParameterError, match="no interaction is left"):
        read_interactions(path, min_weight=4)
    with pytest.raises(InvalidParameterError, match="no interaction is left"):
        planted().filter(min_user_interactions=100)


def test_filter_is_a_k_core_and_drops_empty_keys():
    data = planted()
    core = data.filter(min_user_interactions=5, min_item_interactions=11)
    counts_u = np.diff(core.matrix.indptr)
    counts_i = np.bincount(core.matrix.indices, minlength=core.n_items)
    assert counts_u.min() >= 5 and counts_i.min() >= 11
    assert core.n_users <= data.n_users and core.n_items < data.n_items
    assert core.timestamps.shape == (core.nnz,)
    liked = data.filter(min_weight=4)
    assert liked.matrix.data.min() >= 4


def test_random_split_is_per_user_and_seeded():
    data = planted()
    train, test = data.split_random(0.25, seed=3)
    assert train.nnz + test.nnz == data.nnz
    assert (train.matrix.multiply(test.matrix)).nnz == 0
    assert ((train.matrix + test.matrix) != data.matrix).nnz == 0
    per_user = np.diff(train.matrix.indptr)
    assert (per_user == round(0.75 * 9)).all()  # 9 interactions per user -> 7 train (round)
    again, _ = data.split_random(0.25, seed=3)
    assert (again.matrix != train.matrix).nnz == 0
    other, _ = data.split_random(0.25, seed=4)
    assert (other.matrix != train.matrix).nnz > 0


def test_leave_last_out_takes_the_latest():
    data = planted()
    train, test = data.split_last(1)
    assert np.diff(test.matrix.indptr).tolist() == [1] * data.n_users
    for u in range(data.n_users):
        lo, hi = data.matrix.indptr[u], data.matrix.indptr[u + 1]
        t = test.matrix.indptr[u]
        assert test.timestamps[t] == data.timestamps[lo:hi].max()
    with pytest.raises(InvalidParameterError, match="timestamps"):
        Interactions(sp.csr_matrix(np.eye(3))).split_last()


def test_reindex_drops_unknown_keys():
    data = Interactions.from_arrays(["a", "b", "c"], ["x", "y", "z"])
    moved = data.reindex(["c", "a"], ["z", "x", "w"])
    assert moved.users == ["c", "a"] and moved.items == ["z", "x", "w"]
    assert moved.matrix.toarray().tolist() == [[1, 0, 0], [0, 1, 0]]


def test_mutated_files_raise_only_embedforge_errors(tmp_path):
    """Seeded byte mutations of a small ratings file: a clean read or a FormatError/InvalidParameterError."""
    from embedforge.errors import EmbedforgeError

    base = ("user,item,rating,timestamp\n" + "".join(
        f"u{u},i{(u * 7 + k) % 11},{1 + (u + k) % 5},{1000 + k}\n" for u in range(6) for k in range(4)
    )).encode()  # fmt: skip
    rng = np.random.default_rng(0)
    outcomes = {"ok": 0, "error": 0}
    for case in range(150):
        data = bytearray(base)
        for _ in range(int(rng.integers(1, 6))):
            pos = int(rng.integers(0, len(data)))
            op = int(rng.integers(0, 3))
            if op == 0:
                data[pos] = int(rng.integers(0, 256))
            elif op == 1:
                del data[pos]
            else:
                data.insert(pos, int(rng.choice(list(b",\n\t:-.e0x\x00"))))
        path = tmp_path / f"m{case}.csv"
        path.write_bytes(bytes(data))
        try:
            result = read_interactions(path)
        except EmbedforgeError:
            outcomes["error"] += 1
            continue
        assert result.nnz > 0 and np.isfinite(result.matrix.data).all()
        assert (result.matrix.data > 0).all()
        outcomes["ok"] += 1
    assert outcomes["ok"] > 0 and outcomes["error"] > 0
