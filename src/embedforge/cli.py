"""The ``embedforge`` command line: a thin layer over the library.

Each subcommand parses its arguments and calls one public function; errors
from embedforge are printed as one line (``error: ...``) with exit status 2,
never as a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .errors import EmbedforgeError

#: Errors reported as one line: embedforge's own, and missing or unreadable files.
USER_ERRORS = (EmbedforgeError, OSError)

app = typer.Typer(
    name="embedforge",
    help="Train, evaluate, query and convert embeddings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Train a model and save it to a directory.", no_args_is_help=True)
app.add_typer(train_app, name="train")
datasets_app = typer.Typer(help="List and fetch the named public data sets.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


class Arch(str, Enum):
    skipgram = "skipgram"
    cbow = "cbow"


class Objective(str, Enum):
    negative_sampling = "negative_sampling"
    hierarchical_softmax = "hierarchical_softmax"


class ConvertTarget(str, Enum):
    word2vec_binary = "word2vec-binary"
    word2vec_text = "word2vec-text"


def _fail(exc: BaseException) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


def _load(path: Path):
    """Word vectors from a saved model or Embeddings directory, or a word2vec file."""
    from .embeddings import Embeddings

    if path.is_dir():
        return Embeddings.load(path)
    binary = path.suffix == ".bin" or path.name.endswith((".bin.gz", ".bin.bz2"))
    return Embeddings.load_word2vec_format(path, binary=binary)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """embedforge: vectors that keep your data's meaning."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@train_app.command("word2vec")
def train_word2vec(
    corpus: Annotated[
        str,
        typer.Argument(
            help="Text file (one sentence per line; .gz/.bz2 ok) or a data set name "
            "(text8, text8_prefix, enwiki2015, enwiki2015_text8size)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to save the model to.")],
    arch: Annotated[Arch, typer.Option(help="Skip-gram or CBOW.")] = Arch.skipgram,
    objective: Annotated[Objective, typer.Option()] = Objective.negative_sampling,
    dim: Annotated[int, typer.Option(help="Vector width.")] = 100,
    window: Annotated[int, typer.Option(help="Largest context distance.")] = 5,
    negative: Annotated[int, typer.Option(help="Noise words per prediction.")] = 5,
    min_count: Annotated[int, typer.Option(help="Drop words seen fewer times.")] = 5,
    sample: Annotated[float, typer.Option(help="Subsampling threshold (0: off).")] = 1e-3,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.")] = 5,
    learning_rate: Annotated[
        float | None, typer.Option(help="Starting rate [default: 0.025 skipgram, 0.05 cbow].")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Threads [default: all cores].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    continue_from: Annotated[
        Path | None,
        typer.Option(help="A saved model to keep training on CORPUS (its vocabulary grows)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train word2vec on CORPUS and save the model to OUTPUT."""
    from .text.corpus import open_corpus
    from .text.word2vec import Word2Vec

    try:
        text = open_corpus(corpus)
        if continue_from is not None:
            model = Word2Vec.load(continue_from)
            model.epochs, model.workers, model.progress = epochs, workers, progress
            if learning_rate is not None:
                model.learning_rate = learning_rate
            model.fit(text, update_vocab=True)
        else:
            model = Word2Vec(
                arch=arch.value, objective=objective.value, dim=dim, window=window,
                negative=negative, min_count=min_count, sample=sample, epochs=epochs,
                learning_rate=learning_rate, workers=workers, seed=seed, progress=progress,
            )  # fmt: skip
            model.fit(text)
        model.save(output)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"trained {len(model.wv):,} word vectors of dim {model.wv.dim} "
        f"({model.words_per_second_:,.0f} words/s, final loss {model.loss_history_[-1]:.4f}); "
        f"saved to {output}"
    )


@app.command()
def similar(
    model: Annotated[Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")],
    word: Annotated[str, typer.Argument(help="The query word.")],
    k: Annotated[int, typer.Option("-k", help="Neighbours to show.")] = 10,
) -> None:
    """Print the K nearest neighbours of WORD by cosine similarity."""
    try:
        for key, score in _load(model).most_similar(word, k=k):
            typer.echo(f"{score:.4f}  {key}")
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@app.command()
def analogy(
    model: Annotated[Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")],
    a: Annotated[str, typer.Argument()],
    b: Annotated[str, typer.Argument()],
    c: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option("-k", help="Answers to show.")] = 5,
    cosmul: Annotated[bool, typer.Option(help="Use 3CosMul instead of 3CosAdd.")] = False,
) -> None:
    """A is to B as C is to ?  (e.g. man king woman -> queen)."""
    try:
        wv = _load(model)
        search = wv.most_similar_cosmul if cosmul else wv.most_similar
        for key, score in search(positive=[b, c], negative=[a], k=k):
            typer.echo(f"{score:.4f}  {key}")
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@app.command()
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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Analogy accuracy and word-similarity correlations of a model."""
    from .evaluate import evaluate_analogies, evaluate_word_similarity

    sets = similarity or ["wordsim353", "simlex999", "men"]
    try:
        wv = _load(model)
        result = evaluate_analogies(wv, analogies, restrict_vocab=restrict_vocab)
        sims = {name: evaluate_word_similarity(wv, name) for name in sets}
    except USER_ERRORS as exc:
        raise _fail(exc) from None
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


@app.command()
def convert(
    model: Annotated[Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")],
    out: Annotated[Path, typer.Argument(help="File to write.")],
    to: Annotated[ConvertTarget, typer.Option("--to", help="Output format.")],
) -> None:
    """Write word vectors in another tool's format (word2vec C text or binary)."""
    try:
        wv = _load(model)
        wv.save_word2vec_format(out, binary=to is ConvertTarget.word2vec_binary)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {len(wv):,} vectors of dim {wv.dim} to {out} ({to.value})")


@datasets_app.command("list")
def datasets_list() -> None:
    """Show the registered data sets and where each comes from."""
    from .datasets import list_datasets

    for info in list_datasets():
        typer.echo(f"{info.name:22s} {info.description}")


@datasets_app.command("fetch")
def datasets_fetch(
    name: Annotated[str, typer.Argument(help="A registered data set name.")],
) -> None:
    """Find NAME in the local mirror or download it (checksum verified); print its path."""
    from .datasets import fetch

    try:
        typer.echo(str(fetch(name)))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


def run() -> None:  # pragma: no cover - console entry point
    app(prog_name="embedforge")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
