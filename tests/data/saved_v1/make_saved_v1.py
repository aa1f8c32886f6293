"""Write one saved directory of every kind embedforge saves, format version 1.

These directories are frozen: they were written once, by the embedforge of
commit 6b608b6 (before the persistence layer was unified), and the tests
check that every later embedforge still loads them with ``embedforge.load``
and with each class's own ``load``.  Do not run this script again to
"refresh" them; a new format version gets a new folder (``saved_v2``).

Run from the repository root:  python tests/data/saved_v1/make_saved_v1.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import embedforge as ef

HERE = Path(__file__).parent
TEXT8_HEAD = HERE.parent / "text8_head.txt"
BEIR_CORPUS = HERE.parent / "wiki_beir_excerpt" / "corpus.jsonl"


def sentences() -> list[list[str]]:
    tokens = TEXT8_HEAD.read_text(encoding="ascii").split()[:6000]
    return [tokens[i : i + 200] for i in range(0, len(tokens), 200)]


def documents() -> list[str]:
    texts = []
    with open(BEIR_CORPUS, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            texts.append(f"{row.get('title', '')} {row['text']}")
            if len(texts) == 40:
                break
    return texts


def main() -> None:
    corpus = sentences()
    docs = documents()
    small = {"dim": 8, "epochs": 1, "min_count": 5, "workers": 1, "seed": 3, "progress": False}

    w2v = ef.Word2Vec(**small).fit(corpus)
    w2v.save(HERE / "word2vec")
    ef.Word2Vec(**small, objective="hierarchical_softmax").fit(corpus).save(HERE / "word2vec_hs")
    w2v.wv.save(HERE / "embeddings")

    ft = ef.FastText(**small, bucket=64, min_n=3, max_n=4).fit(corpus)
    ft.save(HERE / "fasttext")
    ft.wv.save(HERE / "fasttext_vectors")

    cooc = ef.Cooccurrence(window=5, min_count=5, progress=False).fit(corpus)
    cooc.save(HERE / "cooccurrence")
    ef.GloVe(dim=8, window=5, epochs=2, min_count=5, workers=1, seed=3, progress=False).fit(
        cooc
    ).save(HERE / "glove")

    ef.TfIdf().fit(docs).save(HERE / "tfidf")
    ef.LSA(dim=4, seed=3).fit(docs).save(HERE / "lsa")
    ef.RandomProjection(dim=4, seed=3).fit(docs).save(HERE / "random_projection")
    ef.MeanEncoder(w2v.wv).fit().save(HERE / "mean_encoder")
    ef.SIFEncoder(w2v.wv).fit(docs).save(HERE / "sif_encoder")

    sample = np.random.default_rng(3).standard_normal((64, 8)).astype(np.float32)
    ef.ScalarQuantizer().fit(sample).save(HERE / "scalar_quantizer")
    ef.BinaryQuantizer().fit(sample).save(HERE / "binary_quantizer")
    ef.PCAReducer(dim=4, seed=3).fit(sample).save(HERE / "pca_reducer")

    index = ef.VectorIndex(8)
    index.add(np.arange(64), sample)
    index.save(HERE / "vector_index")

    with ef.Collection.create(HERE / "collection_vectors", encoder=None, dim=8) as collection:
        collection.add(
            [{"id": f"d{i}", "text": f"vector {i}", "metadata": {"n": i}} for i in range(16)],
            vectors=sample[:16],
            progress=False,
        )
    with ef.Collection.create(
        HERE / "collection_tfidf",
        encoder="tfidf",
        fit_documents=[{"id": str(i), "text": t} for i, t in enumerate(docs)],
    ) as collection:
        collection.add(
            [{"id": f"d{i}", "text": text} for i, text in enumerate(docs[:12])], progress=False
        )


if __name__ == "__main__":
    main()
