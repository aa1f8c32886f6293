"""The storage interface of a collection (search/_store.py), on SQLite, without the facade."""

from __future__ import annotations

import inspect
import sqlite3

import numpy as np
import pytest

from embedforge.errors import (
    DuplicateKeyError,
    FormatError,
    InvalidParameterError,
    UnknownKeyError,
)
from embedforge.search._store import FORMAT_VERSION, SQLiteStore, Store
from embedforge.text.documents import Document

DIM = 4


def config() -> dict:
    return {
        "class": "Collection",
        "format_version": FORMAT_VERSION,
        "dim": DIM,
        "index": "flat",
        "precision": "float32",
        "metric": "cosine",
        "index_params": {},
        "train_size": None,
        "encoder": None,
    }


def docs(*ids: str, **metadata) -> list[Document]:
    return [Document(x, f"text of {x}", dict(metadata)) for x in ids]


def vecs(n: int, offset: float = 0.0) -> np.ndarray:
    return (np.arange(n * DIM, dtype=np.float32).reshape(n, DIM) + offset) / 10


@pytest.fixture
def store(tmp_path):
    SQLiteStore.create(tmp_path, config())
    s = SQLiteStore.open(tmp_path)
    yield s
    s.close()


def test_sqlite_store_implements_every_method_of_the_interface():
    members = [n for n in vars(Store) if not n.startswith("_")]
    assert {"write", "delete", "snapshot", "rows_changed_since", "filter_rows"} <= set(members)
    for name in members:
        ours = getattr(SQLiteStore, name)
        spec = getattr(Store, name)
        if isinstance(spec, property):
            assert isinstance(ours, property), name
        else:
            # The same parameters (names, kinds, defaults); return annotations may be narrower.
            assert inspect.signature(ours).parameters == inspect.signature(spec).parameters, name


def test_a_new_store_is_empty_and_keeps_its_configuration(store, tmp_path):
    assert store.config == config() and store.dim == DIM
    assert store.revision() == 0 and store.count() == 0 and store.ids() == []
    assert (tmp_path / "collection.sqlite").is_file()


def test_each_batch_bumps_the_revision_and_rows_are_stable(store):
    assert store.write(docs("a", "b", "c"), vecs(3), "add") == 3
    assert store.revision() == 1 and store.count() == 3
    rows = [int(r) for r, _ in zip(*next(store.iter_row_ids()), strict=True)]
    store.write(docs("b"), vecs(1, offset=5.0), "upsert")  # replaced: keeps its row
    store.delete(["a"], missing_ok=False)
    store.write(docs("d"), vecs(1), "add")  # a new row; the deleted one is not reused
    assert store.revision() == 4 and store.count() == 3
    assert store.ids() == ["b", "c", "d"]
    got_rows, got_ids = next(store.iter_row_ids())
    assert got_ids == ["b", "c", "d"]
    assert got_rows.tolist()[:2] == rows[1:] and got_rows[2] > max(rows)
    np.testing.assert_array_equal(store.vectors(["b"]), vecs(1, offset=5.0))
    assert store.documents(["c", "b"]) == docs("c", "b")


def test_the_revision_log_replays_the_changes_since_a_revision(store):
    store.write(docs("a", "b", "c"), vecs(3), "add")  # revision 1
    (rows, _ids) = next(store.iter_row_ids())
    row = dict(zip(_ids, rows.tolist(), strict=True))
    store.write(docs("b"), vecs(1, offset=5.0), "upsert")  # 2
    store.delete(["c"], missing_ok=False)  # 3
    store.write(docs("d"), vecs(1, offset=9.0), "add")  # 4
    assert sorted(store.rows_changed_since(1).tolist()) == [row["b"], row["c"]]
    assert store.rows_changed_since(3).tolist() == []
    assert store.rows_changed_since(4).tolist() == []
    changed = list(store.iter_vectors(since=1))
    assert [ids for _, ids, _ in changed] == [["b", "d"]]
    np.testing.assert_array_equal(
        changed[0][2], np.concatenate([vecs(1, offset=5.0), vecs(1, offset=9.0)])
    )
    assert [ids for _, ids, _ in store.iter_vectors()] == [["a", "b", "d"]]


def test_a_failed_batch_writes_nothing(store):
    store.write(docs("a"), vecs(1), "add")
    with pytest.raises(DuplicateKeyError, match="'a' is already in the collection"):
        store.write(docs("b", "a"), vecs(2), "add")
    with pytest.raises(UnknownKeyError, match="cannot delete 'zz'"):
        store.delete(["a", "zz"], missing_ok=False)
    assert store.revision() == 1 and store.ids() == ["a"]
    assert store.delete(["a", "zz"], missing_ok=True) == 1
    assert store.delete(["zz"], missing_ok=True) == 0
    assert store.revision() == 2  # a batch that removed nothing is not a revision


def test_reads_by_id_name_the_missing_id(store):
    store.write(docs("a"), vecs(1), "add")
    with pytest.raises(UnknownKeyError, match="e.g. 'nope'"):
        store.documents(["a", "nope"])
    with pytest.raises(UnknownKeyError):
        store.vectors(["nope"])
    assert store.vectors([]).shape == (0, DIM)
    assert store.contains("a") and not store.contains("nope")


def test_reads_by_row_skip_rows_not_stored(store):
    store.write(docs("a", "b"), vecs(2), "add")
    rows, _ = next(store.iter_row_ids())
    store.delete(["a"], missing_ok=False)
    got = store.vectors_by_row(np.array([rows[1], -1, rows[0], rows[1]]))
    np.testing.assert_array_equal(
        got, np.stack([vecs(2)[1], np.zeros(DIM), np.zeros(DIM), vecs(2)[1]])
    )
    assert store.documents_by_row([int(rows[0]), int(rows[1])]) == {int(rows[1]): docs("b")[0]}


def test_metadata_filters_select_rows_by_equality(store):
    store.write(
        [
            Document("a", "x", {"lang": "en", "year": 2020, "ok": True, "note": None}),
            Document("b", "y", {"lang": "fr", "year": 2020, "ok": False}),
            Document("c", "z", {"lang": "en", "year": 2021, "ok": True, "note": "n"}),
        ],
        vecs(3),
        "add",
    )
    rows, ids = next(store.iter_row_ids())
    row = dict(zip(ids, rows.tolist(), strict=True))

    def select(conditions):
        return sorted(store.filter_rows(store.compile_filter(conditions)).tolist())

    assert select({"lang": "en"}) == [row["a"], row["c"]]
    assert select({"lang": "en", "year": 2020}) == [row["a"]]
    assert select({"ok": False}) == [row["b"]]
    assert select({"note": None}) == [row["a"]]
    assert select({"lang": "de"}) == []
    assert store.compile_filter(None) is None and store.compile_filter({}) is None
    for bad in ([("lang", "en")], {"": 1}, {"year": [2020]}, {"x": float("nan")}):
        with pytest.raises(InvalidParameterError, match="filter"):
            store.compile_filter(bad)


def test_data_version_changes_only_when_another_connection_commits(store, tmp_path):
    before = store.data_version()
    store.write(docs("a"), vecs(1), "add")
    assert store.data_version() == before  # our own commit
    other = SQLiteStore.open(tmp_path)
    try:
        other.write(docs("b"), vecs(1), "add")
        assert store.data_version() != before
    finally:
        other.close()


def test_a_snapshot_does_not_see_a_concurrent_commit(store, tmp_path):
    store.write(docs("a"), vecs(1), "add")
    other = SQLiteStore.open(tmp_path)
    try:
        with store.snapshot():
            assert store.count() == 1
            other.write(docs("b"), vecs(1), "add")
            assert store.count() == 1 and store.ids() == ["a"]
            with store.snapshot():  # nested: joins the open one
                assert store.revision() == 1
        assert store.count() == 2 and store.revision() == 2
    finally:
        other.close()


def test_a_closed_store_refuses_calls(store):
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(InvalidParameterError, match="is closed"):
        store.count()


def test_open_refuses_what_is_not_a_store(tmp_path):
    with pytest.raises(FormatError, match="does not exist"):
        SQLiteStore.open(tmp_path)
    conn = sqlite3.connect(tmp_path / "collection.sqlite")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('config', '{\"class\": \"Collection\"}')")
    conn.commit()
    conn.close()
    with pytest.raises(FormatError, match="format_version None"):
        SQLiteStore.open(tmp_path)
