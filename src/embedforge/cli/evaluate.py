"""``embedforge evaluate`` (word vectors) and ``embedforge evaluate-retrieval`` (encoders)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._common import JsonOpt, load_vectors, parse_numbers, reports_errors


def evaluate(
    model: Annotated[Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")],
    analogies: Annotated[
        str, typer.Option(help="Analogy file or data set name.")
    ] = "google_analogy",
    similarity: Annotated[
        list[str] | None,
        typer.Option(help="Word-similarity file or data set name; repeatable."),
    ] = None,
    restrict_vocab: Annotated[
        int, typer.Option(help="Analogy candidates: the most frequent N words.")
    ] = 30_000,
    as_json: JsonOpt = False,
) -> None:
    """Analogy accuracy and word-similarity correlations of a model."""
    from ..evaluate import evaluate_analogies, evaluate_word_similarity

    sets = similarity or ["wordsim353", "simlex999", "men"]
    with reports_errors():
        wv = load_vectors(model)
        result = evaluate_analogies(wv, analogies, restrict_vocab=restrict_vocab)
        sims = {name: evaluate_word_similarity(wv, name) for name in sets}
    if as_json:
        out = {
            "analogies": result.to_dict(),
            "similarity": {n: r.to_dict() for n, r in sims.items()},
        }
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(str(result))
    for name, r in sims.items():
        typer.echo(f"{name}: {r}")


def evaluate_retrieval_command(
    model: Annotated[
        str,
        typer.Argument(
            help="Encoder: a saved TfIdf/LSA/RandomProjection/MeanEncoder/SIFEncoder directory, "
            "a word-vector model directory (mean pooling), a sentence-transformers directory, "
            "or 'minilm'."
        ),
    ],
    dataset: Annotated[
        str, typer.Argument(help="BEIR directory or data set name (scifact).")
    ] = "scifact",
    split: Annotated[str, typer.Option(help="Qrels split.")] = "test",
    k: Annotated[str, typer.Option("-k", help="Comma-separated cut-offs.")] = "1,10,100",
    batch_size: Annotated[int, typer.Option(help="Texts encoded at a time.")] = 64,
    as_json: JsonOpt = False,
) -> None:
    """nDCG@k, recall@k, MRR@k and MAP of MODEL on a BEIR data set (exact search)."""
    from ..evaluate.retrieval import evaluate_retrieval, read_beir
    from ..search.encoders import load_encoder

    with reports_errors():
        ks = parse_numbers(k, "-k")
        encoder = load_encoder(model)
        data = read_beir(dataset, split=split)
        result = evaluate_retrieval(
            encoder, data.queries, data.corpus, data.qrels, k=ks, batch_size=batch_size
        )
    typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))
