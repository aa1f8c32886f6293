"""Classic document vectors (TF-IDF, LSA, random projections, mean and SIF word vectors) vs gensim.

Quality on three tasks, each encoder fitted as the literature does:

- SciFact (BEIR, test split): fit on the corpus (title + " " + text), exact
  cosine search over all 5,183 abstracts; nDCG@10, recall@100, MRR@10, MAP.
- STS-B test: fit on the train sentences; Spearman of cosine vs gold.
- Lee corpus: fit on the 300 background documents; Pearson over the 1,225
  pairs of the 50 test documents.

Speed on SciFact: fit time (s, with CPU s / wall s) and encode throughput
(documents/s; sparse rows for TF-IDF, which is how search uses it), in
``--repeats`` interleaved rounds (every encoder once per round): median
(min-max), and the fit speed ratio against gensim per round.  Round ``i``
uses seed ``i`` for every seeded encoder (LSA, gensim LSI, random
projections) and scores that round's models, so quality is a mean (min-max)
over the seeds.  The peer is gensim (TfidfModel, LsiModel) fed the same
tokens (scikit-learn's default tokeniser, lower-cased) and scored by the
same evaluators, so that only the models differ.  Threads (BLAS/OpenMP,
numba) are held at ``--workers`` for every encoder.

Mean and SIF use word vectors from ``--word-vectors DIR`` (a saved Word2Vec
or Embeddings directory), or train a Word2Vec (dim 100, 5 epochs) on
``enwiki2015_text8size`` once and cache it in ``--cache-dir``.

    EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/document_vectors.py --repeats 3

Writes its section of BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from _harness import (
    cpu_cell,
    cpu_note,
    mean_range,
    measure,
    med_range,
    publish,
    ratio_verdict,
    rounds,
    section,
    threads,
    versions,
)

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class GensimLsi:
    """gensim TfidfModel, followed by LsiModel when lsi_dim is set, behind the encoder interface."""

    normalize = True

    def __init__(self, lsi_dim: int | None = None, seed: int = 0) -> None:
        self.lsi_dim, self.seed = lsi_dim, seed

    def fit(self, texts: list[str]) -> GensimLsi:
        from gensim.corpora import Dictionary
        from gensim.models import LsiModel, TfidfModel

        tokens = [_tokens(t) for t in texts]
        self.dictionary = Dictionary(tokens)
        bows = [self.dictionary.doc2bow(t) for t in tokens]
        self.tfidf = TfidfModel(bows, id2word=self.dictionary)
        self.lsi = None
        if self.lsi_dim:
            self.lsi = LsiModel(self.tfidf[bows], id2word=self.dictionary,
                                num_topics=self.lsi_dim, random_seed=self.seed)  # fmt: skip
        return self

    @property
    def dim(self) -> int:
        return self.lsi_dim or len(self.dictionary)

    def _vectors(self, texts):
        return self.tfidf[[self.dictionary.doc2bow(_tokens(t)) for t in texts]]

    def _sparse(self, texts) -> sp.csr_matrix:
        from gensim.matutils import corpus2csc

        matrix = corpus2csc(self._vectors(texts), num_terms=len(self.dictionary),
                            num_docs=len(texts), dtype=np.float32).T.tocsr()  # fmt: skip
        return matrix

    def encode(self, texts, batch_size: int = 256) -> np.ndarray:
        from gensim.matutils import corpus2dense

        if self.lsi is None:
            dense = self._sparse(texts).toarray()
        else:
            dense = corpus2dense(self.lsi[self._vectors(texts)], self.lsi_dim,
                                 num_docs=len(texts)).T  # fmt: skip
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (dense / norms).astype(np.float32)


class GensimTfidf(GensimLsi):
    """gensim TfidfModel with sparse rows (searched like our TfIdf, without densifying)."""

    def encode_sparse(self, texts) -> sp.csr_matrix:
        return self._sparse(texts)


def word_vectors(args: argparse.Namespace):
    from embedforge import Embeddings, Word2Vec, open_corpus

    if args.word_vectors:
        return Embeddings.load(args.word_vectors)
    cache = Path(args.cache_dir) / "word2vec_enwiki2015_text8size_dim100"
    if (cache / "config.json").is_file():
        return Embeddings.load(cache)
    print(f"training Word2Vec on enwiki2015_text8size (cached in {cache}) ...", flush=True)
    model = Word2Vec(dim=100, epochs=5, workers=args.workers, seed=1, progress=False)
    model.fit(open_corpus("enwiki2015_text8size"))
    model.save(cache)
    return model.wv


def make_encoders(args: argparse.Namespace, wv, seed: int) -> dict[str, object]:
    """Fresh, unfitted encoders by name, seeded with ``seed`` (fitting happens per task)."""
    from embedforge import LSA, MeanEncoder, RandomProjection, SIFEncoder, TfIdf

    d = args.dim
    return {
        "TF-IDF (sparse)": lambda: TfIdf(),
        "gensim TF-IDF (sparse)": lambda: GensimTfidf(),
        f"LSA {d}": lambda: LSA(dim=d, seed=seed),
        f"gensim LSI {d}": lambda: GensimLsi(lsi_dim=d, seed=seed),
        "TF-IDF, English stop words (sparse)": lambda: TfIdf(stop_words="english"),
        f"LSA {d}, English stop words": lambda: LSA(dim=d, seed=seed, stop_words="english"),
        f"random projection sparse {d}": lambda: RandomProjection(dim=d, kind="sparse", seed=seed),
        f"random projection gaussian {d}": lambda: RandomProjection(
            dim=d, kind="gaussian", seed=seed
        ),
        "mean word2vec": lambda: MeanEncoder(wv),
        "SIF word2vec": lambda: SIFEncoder(wv, a=1e-3),
    }


def fit(encoder, texts: list[str]):
    return encoder.fit(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved rounds, one seed each; median and range")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2,
                        help="threads for every encoder and for Word2Vec training")  # fmt: skip
    parser.add_argument("--word-vectors", help="a saved Word2Vec / Embeddings directory")
    parser.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "embedforge-bench"))
    parser.add_argument("--no-record", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()

    from embedforge import evaluate_lee, evaluate_retrieval, evaluate_sts, read_beir, read_stsb
    from embedforge.evaluate.sts import read_lee

    scifact = read_beir("scifact", split="test")
    corpus_texts = [doc.text for doc in scifact.corpus.values()]
    corpus_ids = list(scifact.corpus)
    corpus = dict(zip(corpus_ids, corpus_texts, strict=True))
    sts_train = read_stsb("stsb", "train")
    sts_test = read_stsb("stsb", "test")
    lee = read_lee("lee_corpus")

    runs: dict[str, list[dict]] = {}
    with threads(args.workers):
        wv = word_vectors(args)
        for round_ in range(1, args.repeats + 1):  # interleaved: every encoder once per round
            for name, make in make_encoders(args, wv, seed=round_).items():
                encoder = make()
                _, fit_t = measure(lambda encoder=encoder: fit(encoder, corpus_texts))
                if hasattr(encoder, "encode_sparse"):
                    _, enc_t = measure(lambda encoder=encoder: encoder.encode_sparse(corpus_texts))
                else:
                    _, enc_t = measure(
                        lambda encoder=encoder: encoder.encode(corpus_texts, batch_size=256)
                    )
                ret = evaluate_retrieval(encoder, scifact.queries, corpus, scifact.qrels,
                                         k=(10, 100))  # fmt: skip
                sts_model = fit(make(), sts_train.sentences1 + sts_train.sentences2)
                sts = evaluate_sts(sts_model, *sts_test, dataset="stsb")
                lee_result = evaluate_lee(fit(make(), lee.background), lee)
                runs.setdefault(name, []).append({
                    "fit_s": fit_t.wall_s, "fit_cpu_per_wall": fit_t.cpu_per_wall,
                    "docs_per_s": len(corpus_texts) / enc_t.wall_s,
                    "ndcg10": ret.ndcg[10], "recall100": ret.recall[100], "mrr10": ret.mrr[10],
                    "map": ret.map_full, "stsb": sts.spearman, "lee": lee_result.pearson,
                })  # fmt: skip
                print(f"seed {round_} {name:34s} fit {fit_t.wall_s:7.2f} s  "
                      f"cpu/wall {fit_t.cpu_per_wall:.2f}  "
                      f"encode {len(corpus_texts) / enc_t.wall_s:9,.0f} docs/s  "
                      f"nDCG@10 {ret.ndcg[10]:.4f}  STS-B {sts.spearman:.4f}  "
                      f"Lee {lee_result.pearson:.4f}", flush=True)  # fmt: skip

    peers = {
        "TF-IDF (sparse)": "gensim TF-IDF (sparse)",
        f"LSA {args.dim}": f"gensim LSI {args.dim}",
    }
    lines = [
        *section(
            f"document vectors: SciFact, STS-B, Lee; dim {args.dim}, {args.workers} threads, "
            f"{rounds(args.repeats)}",
            key=f"document_vectors dim={args.dim}",
            versions=versions("embedforge", "sklearn", "gensim", "numpy"),
            n_threads=args.workers,
        ),
        f"Word vectors (mean, SIF): {args.word_vectors or 'Word2Vec dim 100, 5 epochs, enwiki2015_text8size'}"
        f" ({len(wv):,} words).  ",
        "SciFact: fit on the corpus, exact cosine search; STS-B: fit on train, Spearman on test; "
        "Lee: fit on the 300 background documents, Pearson on 1,225 pairs.  ",
        "Speed on SciFact (5,183 documents): fit s, encode docs/s (TF-IDF: sparse rows), "
        "fit speed vs gensim = gensim fit s / ours, per round.  Times: median (min-max) over "
        "the rounds; quality: mean (min-max) over the seeds.  " + cpu_note(args.workers) + "\n",
        "| encoder | nDCG@10 | recall@100 | MRR@10 | MAP | STS-B Spearman | Lee Pearson "
        "| fit s | fit CPU s / wall s | fit speed vs gensim | encode docs/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = []
    for name, rs in runs.items():
        ratio = ""
        if name in peers:
            speed = [p["fit_s"] / r["fit_s"] for p, r in zip(runs[peers[name]], rs, strict=True)]
            ratio = med_range(speed, ".2f", "x")
            summary.append(f"- {ratio_verdict(f'{name}: fit speed vs {peers[name]}', speed)}")
        quality = " | ".join(
            mean_range([r[q] for r in rs], ".4f")
            for q in ("ndcg10", "recall100", "mrr10", "map", "stsb", "lee")
        )
        lines.append(
            f"| {name} | {quality} | {med_range([r['fit_s'] for r in rs], '.2f')} | "
            f"{cpu_cell([r['fit_cpu_per_wall'] for r in rs], args.workers)} | {ratio} | "
            f"{med_range([r['docs_per_s'] for r in rs], ',.0f')} |"
        )
    lines += ["", *summary]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
