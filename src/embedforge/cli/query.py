"""``embedforge similar`` and ``embedforge analogy``: ask word vectors a question."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import load_vectors, reports_errors

VectorsArg = Annotated[
    Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")
]


def similar(
    model: VectorsArg,
    word: Annotated[str, typer.Argument(help="The query word.")],
    k: Annotated[int, typer.Option("-k", help="Neighbours to show.")] = 10,
) -> None:
    """Print the K nearest neighbours of WORD by cosine similarity."""
    with reports_errors():
        for key, score in load_vectors(model).most_similar(word, k=k):
            typer.echo(f"{score:.4f}  {key}")


def analogy(
    model: VectorsArg,
    a: Annotated[str, typer.Argument()],
    b: Annotated[str, typer.Argument()],
    c: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option("-k", help="Answers to show.")] = 5,
    cosmul: Annotated[bool, typer.Option(help="Use 3CosMul instead of 3CosAdd.")] = False,
) -> None:
    """A is to B as C is to ?  (e.g. man king woman -> queen)."""
    with reports_errors():
        wv = load_vectors(model)
        search = wv.most_similar_cosmul if cosmul else wv.most_similar
        for key, score in search(positive=[b, c], negative=[a], k=k):
            typer.echo(f"{score:.4f}  {key}")
