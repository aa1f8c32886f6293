"""The collection suite every storage backend passes: SQLite and PostgreSQL + pgvector (a real server).

Each test takes the ``backend`` fixture (tests/search/conftest.py), so it runs
once on a directory and once on a DSN of a real PostgreSQL server.  The
PostgreSQL runs also cover both of its search paths where it matters
(pgvector in the database, the default, and a local FAISS index kept in step
through the revision log, ``search=faiss``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter

import numpy as np
import pytest

from embedforge.errors import DuplicateKeyError, InvalidParameterError, UnknownKeyError
from embedforge.search.collection import Collection

DIM = 16
BATCH = 40


def vector_of(text: str) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(400, 24)).astype(np.float32)


def raw_docs(n: int, start: int = 0) -> list[dict]:
    return [
        {"id": f"d{i}", "text": f"document {i}",
         "metadata": {"parity": i % 2, "tag": f"t{i % 5}", "flag": i % 3 == 0,
                      "maybe": None if i % 4 == 0 else "x"}}
        for i in range(start, start + n)
    ]  # fmt: skip


def brute_force(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    sims = q @ unit.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), order


def names(order: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda i: f"d{i}")(order)


# ---------------------------------------------------------------------- CRUD


@pytest.mark.parametrize("search", ["pgvector", "faiss"])
def test_add_get_upsert_delete(backend, vectors, search):
    loc = backend(search=search)
    col = Collection.create(loc, encoder=None, dim=24)
    assert col.count == 0 and col.revision == 0
    assert col.add(raw_docs(100), vectors=vectors[:100], batch_size=40, progress=False) == 100
    assert col.count == 100 and col.revision == 3  # one revision per batch
    assert col.ids() == [f"d{i}" for i in range(100)]
    assert "d7" in col and "zz" not in col and 7 not in col
    doc = col.get("d7")[0]
    assert (doc.id, doc.text) == ("d7", "document 7")
    assert doc.metadata == {"parity": 1, "tag": "t2", "flag": False, "maybe": "x"}
    np.testing.assert_array_equal(col.get_vectors(["d9", "d3"]), vectors[[9, 3]])
    with pytest.raises(UnknownKeyError, match="'nope'"):
        col.get(["d1", "nope"])

    assert (
        col.upsert([("d3", "new text", {"tag": "new"})], vectors=vectors[300:301], progress=False)
        == 1
    )
    assert col.count == 100 and col.revision == 4
    assert col.get("d3")[0].text == "new text" and col.get("d3")[0].metadata == {"tag": "new"}
    np.testing.assert_array_equal(col.get_vectors("d3")[0], vectors[300])
    assert col.search(vectors[300], k=1).ids[0, 0] == "d3"

    assert col.delete(["d5", "d6"]) == 2
    assert col.count == 98 and col.revision == 5 and "d5" not in col
    res = col.search(vectors[5], k=3)
    assert "d5" not in set(res.ids[0])
    with pytest.raises(UnknownKeyError, match="'d5'"):
        col.delete(["d7", "d5"])
    assert "d7" in col and col.revision == 5  # nothing of that batch was deleted
    assert col.delete(["d7", "d5"], missing_ok=True) == 1
    col.add(raw_docs(1, start=5), vectors=vectors[5:6], progress=False)  # an id comes back
    assert col.search(vectors[5], k=1).ids[0, 0] == "d5"
    col.close()

    again = Collection.open(loc)
    assert again.count == 98 and again.revision == 7
    assert again.search(vectors[300], k=1).ids[0, 0] == "d3"
    info = again.info()
    assert info["count"] == info["index_count"] == 98 and info["bytes_on_disk"] > 0
    again.close()


def test_a_duplicate_id_rolls_back_its_batch_only(backend, vectors):
    col = Collection.create(backend(), encoder=None, dim=24)
    col.add(raw_docs(10), vectors=vectors[:10], progress=False)
    with pytest.raises(DuplicateKeyError, match="'d5'"):
        col.add(raw_docs(10, start=8)[::-1][:5] + raw_docs(1, start=5), vectors=vectors[:6],
                batch_size=3, progress=False)  # fmt: skip
    # batches of 3: [d17, d16, d15] commits, [d14, d13, d5] fails, so d14 and d13 are not stored
    assert col.count == 13 and "d15" in col and "d14" not in col and "d13" not in col
    assert col.revision == 2
    col.close()


def test_results_carry_the_revision_and_see_other_connections(backend, vectors):
    loc = backend()
    col = Collection.create(loc, encoder=None, dim=24)
    col.add(raw_docs(10), vectors=vectors[:10], progress=False)
    assert col.search(vectors[0], k=1).revision == 1
    with Collection.open(loc) as other:
        other.add(raw_docs(1, start=10), vectors=vectors[10:11], progress=False)
        other.delete("d0")
    res = col.search(vectors[10], k=2)
    assert res.revision == 3 and res.ids[0, 0] == "d10"
    assert "d0" not in set(col.search(vectors[0], k=10).ids[0])
    assert [d.id for d in res.documents[0]] == list(res.ids[0])
    col.close()


# ---------------------------------------------------------------------- search


@pytest.mark.parametrize("search", ["pgvector", "faiss"])
def test_flat_index_equals_brute_force_and_pads(backend, vectors, search):
    col = Collection.create(backend(search=search), encoder=None, dim=24)
    col.add(raw_docs(400), vectors=vectors, batch_size=128, progress=False)
    queries = vectors[:20] + 0.3
    res = col.search(queries, k=10)
    scores, order = brute_force(vectors, queries, 10)
    np.testing.assert_array_equal(res.ids, names(order))
    np.testing.assert_allclose(res.scores, scores, atol=1e-5)
    assert res.scores.dtype == np.float32
    small = Collection.create(backend(search=search), encoder=None, dim=24)
    small.add(raw_docs(3), vectors=vectors[:3], progress=False)
    padded = small.search(vectors[:2], k=5)
    assert padded.ids.shape == (2, 5) and (padded.ids[:, 3:] == None).all()  # noqa: E711
    assert np.isneginf(padded.scores[:, 3:]).all() and len(padded.documents[0]) == 3
    col.close()
    small.close()


@pytest.mark.parametrize(
    "kind,precision",
    [("hnsw", "float32"), ("flat", "int8"), ("hnsw", "int8"), ("flat", "binary"),
     ("hnsw", "binary"), ("ivf", "float32")],
)  # fmt: skip
def test_every_precision_finds_the_query_itself(backend, vectors, kind, precision):
    loc = backend()
    col = Collection.create(
        loc, encoder=None, dim=24, index=kind, precision=precision, train_size=300
    )
    col.add(raw_docs(400), vectors=vectors, batch_size=100, progress=False)
    assert col.info()["index_trained"] is True
    res = col.search(vectors[::10], k=5)
    expected = np.array([f"d{i}" for i in range(0, 400, 10)], dtype=object)
    # rescoring with the stored float32 vectors puts the exact match first
    assert np.mean(res.ids[:, 0] == expected) >= 0.95
    np.testing.assert_allclose(res.scores[:, 0][res.ids[:, 0] == expected], 1.0, atol=1e-5)
    assert np.all(np.diff(res.scores, axis=1) <= 1e-6)
    col.close()
    with Collection.open(loc) as again:
        np.testing.assert_array_equal(again.search(vectors[::10], k=5).ids, res.ids)


@pytest.mark.parametrize("search", ["pgvector", "faiss"])
def test_filters_return_the_top_k_among_matching_documents(backend, vectors, search):
    col = Collection.create(backend(search=search), encoder=None, dim=24, index="hnsw")
    col.add(raw_docs(400), vectors=vectors, progress=False)
    queries = vectors[:5]
    conditions = [
        ({"parity": 1, "tag": "t3"}, lambda i: i % 2 == 1 and i % 5 == 3),
        ({"flag": True}, lambda i: i % 3 == 0),
        ({"flag": False, "parity": 0}, lambda i: i % 3 != 0 and i % 2 == 0),
        ({"maybe": None}, lambda i: i % 4 == 0),
        ({"parity": 1.0}, lambda i: i % 2 == 1),  # numbers compare by value
    ]
    for where, keep in conditions:
        res = col.search(queries, k=10, filter=where)
        matching = np.array([i for i in range(400) if keep(i)])
        scores, order = brute_force(vectors[matching], queries, 10)
        np.testing.assert_array_equal(res.ids, names(matching[order]), err_msg=str(where))
        np.testing.assert_allclose(res.scores, scores, atol=1e-5)
    none = col.search(queries, k=3, filter={"tag": "no such tag"})
    assert (none.ids == None).all() and np.isneginf(none.scores).all()  # noqa: E711
    assert (col.search(queries, k=3, filter={"absent": "x"}).ids == None).all()  # noqa: E711
    with pytest.raises(InvalidParameterError, match="filter value for 'tag'"):
        col.search(vectors[0], filter={"tag": ["t1", "t2"]})
    with pytest.raises(InvalidParameterError, match="filter must be a dict"):
        col.search(vectors[0], filter="tag=t1")
    col.close()


def test_wrong_dimension_is_refused(backend, vectors):
    col = Collection.create(backend(), encoder=None, dim=24)
    with pytest.raises(InvalidParameterError, match="dim 16"):
        col.add(raw_docs(2), vectors=np.ones((2, 16), dtype=np.float32), progress=False)
    with pytest.raises(InvalidParameterError, match="dim 8"):
        col.search(np.ones(8, dtype=np.float32))
    assert col.count == 0
    col.close()


# ---------------------------------------------------------------------- processes

# Each add() call writes 3 batches (3 transactions), so a kill can land inside one.
WRITER = f"""
import sys, zlib
import numpy as np
from embedforge.search.collection import Collection

def vector_of(text):
    return np.random.default_rng(zlib.crc32(text.encode())).normal(size={DIM}).astype(np.float32)

name = sys.argv[2] if len(sys.argv) > 2 else "b"
col = Collection.open(sys.argv[1])
for call in range(int(sys.argv[3]) if len(sys.argv) > 3 else 10_000):
    ids = [f"{{name}}{{3 * call + j}}-{{i}}" for j in range(3) for i in range({BATCH})]
    col.add([(x, "text of " + x, {{"call": call}}) for x in ids],
            vectors=np.stack([vector_of(x) for x in ids]), batch_size={BATCH}, progress=False)
    print(call, flush=True)
col.close()
"""


def check_whole_batches(col: Collection, prefix: str = "b") -> list[str]:
    ids = [x for x in col.ids() if x.startswith(prefix)]
    per_batch = Counter(x.split("-")[0] for x in ids)
    assert set(per_batch.values()) <= {BATCH}, "a batch was stored in part"
    assert sorted(per_batch) == sorted(f"{prefix}{i}" for i in range(len(per_batch)))
    np.testing.assert_array_equal(col.get_vectors(ids), np.stack([vector_of(x) for x in ids]))
    return ids


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_killed_writer_leaves_whole_batches(backend, tmp_path):
    loc = backend()
    Collection.create(loc, encoder=None, dim=DIM, index="hnsw").close()
    log = tmp_path / "writer.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with (
        log.open("wb") as err,
        subprocess.Popen(
            [sys.executable, "-c", WRITER, loc], stdout=subprocess.PIPE, stderr=err, env=env
        ) as proc,
    ):
        try:
            first = proc.stdout.readline()  # the writer has committed 3 batches
            time.sleep(0.15)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert first.strip() == b"0", log.read_text()
    col = Collection.open(loc)
    ids = check_whole_batches(col)
    assert len(ids) >= 3 * BATCH and col.count == len(ids)
    info = col.info()
    assert info["index_count"] == info["count"]
    sample = ids[:: max(1, len(ids) // 20)]
    assert list(col.search(col.get_vectors(sample), k=1).ids[:, 0]) == sample
    col.add([("after", "after the crash")], vectors=vector_of("after")[None], progress=False)
    assert col.count == len(ids) + 1
    col.close()


def test_concurrent_writers_and_a_reader(backend):
    loc = backend()
    Collection.create(loc, encoder=None, dim=DIM, index="hnsw").close()
    reader = Collection.open(loc)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, loc, name, "4"], stdout=subprocess.PIPE)
        for name in ("a", "b")
    ]
    seen = []
    while any(w.poll() is None for w in writers):
        info = reader.info()
        assert info["index_count"] == info["count"] and info["count"] % BATCH == 0
        if info["count"]:
            res = reader.search(reader.get_vectors(reader.ids()[:1]), k=1)
            assert res.ids[0, 0] == reader.ids()[0]
        seen.append(info["count"])
        time.sleep(0.02)
    for w in writers:
        w.communicate(timeout=240)
        assert w.returncode == 0
    assert reader.count == 2 * 4 * 3 * BATCH and reader.revision == 2 * 4 * 3
    for name in ("a", "b"):
        assert len(check_whole_batches(reader, name)) == 4 * 3 * BATCH
    probe = [f"a{i}-0" for i in range(12)] + [f"b{i}-0" for i in range(12)]
    assert list(reader.search(reader.get_vectors(probe), k=1).ids[:, 0]) == probe
    assert len(set(seen)) >= 2  # the reader saw the collection grow
    reader.close()
