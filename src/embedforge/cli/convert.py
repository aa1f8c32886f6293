"""``embedforge convert``: write word vectors in another tool's format."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ._common import load_vectors, reports_errors


class ConvertTarget(str, Enum):
    word2vec_binary = "word2vec-binary"
    word2vec_text = "word2vec-text"
    fasttext_vec = "fasttext-vec"
    glove_text = "glove-text"


def convert(
    model: Annotated[Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")],
    out: Annotated[Path, typer.Argument(help="File to write.")],
    to: Annotated[ConvertTarget, typer.Option("--to", help="Output format.")],
) -> None:
    """Write word vectors in another tool's format (word2vec C text or binary, fastText .vec, GloVe text)."""
    with reports_errors():
        wv = load_vectors(model)
        wv.save_word2vec_format(
            out,
            binary=to is ConvertTarget.word2vec_binary,
            write_header=to is not ConvertTarget.glove_text,
        )
    typer.echo(f"wrote {len(wv):,} vectors of dim {wv.dim} to {out} ({to.value})")
