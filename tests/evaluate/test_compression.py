"""The compression curve on a real excerpt (Wikipedia BEIR fixture) with LSA, checked against
independent computations: exact retrieval, the quantizers' byte counts, a Collection."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from embedforge import LSA, InvalidParameterError, evaluate_retrieval, read_beir
from embedforge.evaluate import compression_curve, matryoshka_ladder, score_retrieval
from embedforge.search import Collection, VectorIndex, truncate_and_normalize

WIKI = Path(__file__).parents[1] / "data" / "wiki_beir_excerpt"


@pytest.fixture(scope="module")
def wiki():
    return read_beir(WIKI)


@pytest.fixture(scope="module")
def lsa(wiki):
    return LSA(dim=24, seed=0).fit([doc.text for doc in wiki.corpus.values()])


@pytest.fixture(scope="module")
def curve(wiki, lsa):
    return compression_curve(lsa, wiki.queries, wiki.qrels, corpus=wiki.corpus, recall_k=(5, 20))


def test_default_dims_are_the_matryoshka_ladder():
    assert matryoshka_ladder(384) == [384, 256, 128, 64, 32]
    assert matryoshka_ladder(768) == [768, 512, 256, 128, 64, 32]
    assert matryoshka_ladder(100) == [100, 64, 32]
    assert matryoshka_ladder(24) == [24, 16, 8]


def test_rows_cover_dims_precisions_and_rescoring(curve, wiki):
    labels = [(r.dim, r.precision, r.rescore) for r in curve.rows]
    assert labels[0] == (24, "float32", False)  # the baseline first
    # exact float32 at full dim is measured once; every other combination twice
    assert len(labels) == len(set(labels)) == 3 * 3 * 2 - 1
    assert curve.n_docs == len(wiki.corpus) == 40 and curve.n_queries == 12


def test_float32_row_equals_exact_retrieval(curve, wiki, lsa):
    reference = evaluate_retrieval(lsa, wiki.queries, wiki.corpus, wiki.qrels, k=(5, 10, 20))
    base = curve.baseline
    assert base.ndcg == pytest.approx(reference.ndcg[10], abs=1e-9)
    assert base.recall == pytest.approx({5: reference.recall[5], 20: reference.recall[20]})
    assert base.recall_exact == 1.0


def test_truncated_int8_row_equals_an_index_built_by_hand(curve, wiki, lsa):
    """16 dims, int8 codes: the same figures from VectorIndex + score_retrieval directly."""
    doc_ids = list(wiki.corpus)
    qids = [q for q in wiki.queries if q in wiki.qrels]
    docs = truncate_and_normalize(lsa.encode([wiki.corpus[d].text for d in doc_ids]), 16)
    queries = truncate_and_normalize(lsa.encode([wiki.queries[q] for q in qids]), 16)
    index = VectorIndex(16, "flat", "int8")
    index.train(docs)
    index.add(np.arange(len(docs)), docs)
    scores, found = index.search(queries, 20)
    run = {}
    for i, q in enumerate(qids):
        run[q] = {doc_ids[j]: float(s) for s, j in zip(scores[i], found[i], strict=True) if j >= 0}
    expected = score_retrieval(run, wiki.qrels, k=(10, 20))
    (row,) = [r for r in curve.rows if (r.dim, r.precision, r.rescore) == (16, "int8", False)]
    assert row.ndcg == pytest.approx(expected.ndcg[10])
    assert row.recall[20] == pytest.approx(expected.recall[20])


def test_bytes_per_vector_and_index_memory_are_exact(curve):
    for r in curve.rows:
        expected = {"float32": 4 * r.dim, "int8": r.dim, "binary": math.ceil(r.dim / 8)}
        assert r.bytes_per_vector == expected[r.precision]
        assert r.index_bytes == expected[r.precision] * curve.n_docs


def test_rescoring_recovers_what_binary_codes_lose(curve):
    """On real vectors binary codes alone miss part of the exact top 10; rescoring all of the
    (few) candidates with the float32 vectors restores the exact ranking."""
    for dim in (24, 16, 8):
        plain, rescored = (
            next(r for r in curve.rows if (r.dim, r.precision, r.rescore) == (dim, "binary", x))
            for x in (False, True)
        )
        assert plain.recall_exact < 0.8
        assert rescored.recall_exact == 1.0  # 4 x 20 candidates >= 40 documents: all rescored
        assert rescored.ndcg == pytest.approx(curve.baseline.ndcg)
        assert plain.bytes_per_vector == rescored.bytes_per_vector


def test_smallest_keeps_the_share_asked(curve):
    best = curve.smallest(keep=0.99)
    assert best.ndcg >= 0.99 * curve.baseline.ndcg
    assert all(
        r.bytes_per_vector >= best.bytes_per_vector
        for r in curve.rows
        if r.ndcg >= 0.99 * curve.baseline.ndcg
    )
    assert curve.smallest(keep=1.0).bytes_per_vector <= curve.baseline.bytes_per_vector
    with pytest.raises(InvalidParameterError, match="keep"):
        curve.smallest(keep=1.5)


def test_table_csv_and_json_agree(curve):
    md = curve.to_markdown()
    assert md.count("\n| ") == len(curve.rows) + 1  # header + one line per row
    assert "| 24 | float32 | no | 96 | 1x |" in md
    rows = list(csv.DictReader(io.StringIO(curve.to_csv())))
    data = json.loads(curve.to_json())
    assert len(rows) == len(data["rows"]) == len(curve.rows)
    for r, j, row in zip(rows, data["rows"], curve.rows, strict=True):
        assert float(r["ndcg@10"]) == pytest.approx(row.ndcg) == j["ndcg@10"]
        assert float(r["recall@20"]) == pytest.approx(row.recall[20]) == j["recall@20"]
        assert int(r["dim"]) == j["dim"] == row.dim
    assert data["n_docs"] == 40 and data["recall_k"] == [5, 20]


def test_plot_writes_png_and_svg(curve, tmp_path):
    pytest.importorskip("matplotlib")
    fig = curve.plot(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert ax.get_xscale() == "log" and len(lines) == 6  # precision x rescoring
    assert len(lines["binary"].get_xdata()) == 3  # one point per dim
    assert len(lines["float32 + rescore"].get_xdata()) == 2  # 16 and 8: 24 is exact already
    assert sorted({t.get_text() for t in ax.texts}) == ["16", "24", "8"]
    curve.plot(tmp_path / "curve.svg")
    assert b"<svg" in (tmp_path / "curve.svg").read_bytes()[:400]


def test_a_collection_gives_the_same_curve(curve, wiki, lsa, tmp_path):
    col = Collection.create(tmp_path / "col", encoder=lsa)
    col.add([{"id": d, "text": doc.text} for d, doc in wiki.corpus.items()])
    from_collection = compression_curve(col, wiki.queries, wiki.qrels, recall_k=(5, 20))
    for a, b in zip(curve.rows, from_collection.rows, strict=True):
        assert (a.dim, a.precision, a.rescore) == (b.dim, b.precision, b.rescore)
        assert a.ndcg == pytest.approx(b.ndcg, abs=1e-6)
    with pytest.raises(InvalidParameterError, match="corpus must be None"):
        compression_curve(col, wiki.queries, wiki.qrels, corpus=wiki.corpus)
    col.close()


def test_bad_input_is_named(wiki, lsa):
    with pytest.raises(InvalidParameterError, match="corpus is required"):
        compression_curve(lsa, wiki.queries, wiki.qrels)
    with pytest.raises(InvalidParameterError, match="dims"):
        compression_curve(lsa, wiki.queries, wiki.qrels, corpus=wiki.corpus, dims=[48])
    with pytest.raises(InvalidParameterError, match="precisions"):
        compression_curve(lsa, wiki.queries, wiki.qrels, corpus=wiki.corpus, precisions=["fp16"])
    with pytest.raises(InvalidParameterError, match="none of the"):
        compression_curve(lsa, {"x": "no judgements"}, wiki.qrels, corpus=wiki.corpus)
    with pytest.raises(InvalidParameterError, match="source must be an encoder"):
        compression_curve(object(), wiki.queries, wiki.qrels, corpus=wiki.corpus)


def test_rescoring_in_blocks_equals_one_product(wiki, lsa):
    """Many queries (several 32 MB blocks): the re-ranking equals scoring every candidate at once."""
    from embedforge.evaluate.compression import _rescored

    docs = truncate_and_normalize(lsa.encode([d.text for d in wiki.corpus.values()]), 24)
    rng = np.random.default_rng(0)
    queries = truncate_and_normalize(docs[rng.integers(0, len(docs), 20_000)] + 0.1, 24)
    candidates = np.argsort(rng.random((20_000, 40)), axis=1)[:, :38]  # 73 MB: 3 blocks
    candidates[:, -3:] = -1  # padding
    scores, found = _rescored(queries, docs, candidates, 10)
    exact = np.einsum("qd,qcd->qc", queries, docs[np.maximum(candidates, 0)])
    exact[candidates < 0] = -np.inf
    best = np.argsort(-exact, axis=1, kind="stable")[:, :10]
    assert np.array_equal(found, np.take_along_axis(candidates, best, 1))
    assert np.allclose(scores, np.take_along_axis(exact, best, 1), atol=1e-6)
