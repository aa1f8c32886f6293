"""``embedforge train ...``: fit a model and save it to a directory."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import (
    CorpusArg,
    OutputOpt,
    ProgressOpt,
    SeedOpt,
    WorkersOpt,
    enum_values,
    reports_errors,
    with_options,
)

train_app = typer.Typer(help="Train a model and save it to a directory.", no_args_is_help=True)


class Arch(str, Enum):
    skipgram = "skipgram"
    cbow = "cbow"


class Objective(str, Enum):
    negative_sampling = "negative_sampling"
    hierarchical_softmax = "hierarchical_softmax"


class GloVeCombine(str, Enum):
    sum = "sum"
    input = "input"


class DocFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    text = "text"


class ProjectionKind(str, Enum):
    sparse = "sparse"
    gaussian = "gaussian"


DimOpt = Annotated[int, typer.Option(help="Vector width.")]
MinCountOpt = Annotated[int, typer.Option(help="Drop words seen fewer times.")]


# ---------------------------------------------------------------------- word vectors


def _word_options(
    arch: Annotated[Arch, typer.Option(help="Skip-gram or CBOW.")] = Arch.skipgram,
    objective: Annotated[Objective, typer.Option()] = Objective.negative_sampling,
    dim: DimOpt = 100,
    window: Annotated[int, typer.Option(help="Largest context distance.")] = 5,
    negative: Annotated[int, typer.Option(help="Noise words per prediction.")] = 5,
    min_count: MinCountOpt = 5,
    sample: Annotated[float, typer.Option(help="Subsampling threshold (0: off).")] = 1e-3,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.")] = 5,
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """The options of ``train word2vec`` and ``train fasttext`` (named as the constructors' arguments)."""


#: What a continued run takes from the command line; every other parameter is the saved model's.
_CONTINUE_PARAMS = ("epochs", "workers", "progress", "learning_rate")


def _fit_words(fresh, corpus: str, continue_from: Path | None, load):
    """Fit ``fresh`` on CORPUS, or continue training the model ``load(continue_from)`` on it.

    A continued model keeps its own hyper-parameters except this run's epochs,
    workers, progress and (when given) learning rate; its vocabulary grows.
    """
    from ..text.corpus import open_corpus

    text = open_corpus(corpus)
    if continue_from is None:
        return fresh.fit(text)
    run = {name: getattr(fresh, name) for name in _CONTINUE_PARAMS}
    if run["learning_rate"] is None:
        del run["learning_rate"]
    return load(continue_from).set_params(**run).fit(text, update_vocab=True)


@train_app.command("word2vec")
@with_options(_word_options)
def train_word2vec(
    corpus: CorpusArg,
    output: OutputOpt,
    learning_rate: Annotated[
        float | None, typer.Option(help="Starting rate (default: 0.025 skipgram, 0.05 cbow).")
    ] = None,
    continue_from: Annotated[
        Path | None,
        typer.Option(help="A saved model to keep training on CORPUS (its vocabulary grows)."),
    ] = None,
    shared_negatives: Annotated[
        bool,
        typer.Option(
            help="Skip-gram with negative sampling: noise words drawn once per window and shared "
            "by its context words (HogBatch; faster at wide windows)."
        ),
    ] = False,
    **options: Any,
) -> None:
    """Train word2vec on CORPUS and save the model to OUTPUT."""
    from ..text.word2vec import Word2Vec

    with reports_errors():
        fresh = Word2Vec(
            learning_rate=learning_rate, shared_negatives=shared_negatives, **enum_values(options)
        )
        model = _fit_words(fresh, corpus, continue_from, Word2Vec.load)
        model.save(output)
    typer.echo(
        f"trained {len(model.wv):,} word vectors of dim {model.wv.dim} "
        f"({model.words_per_second_:,.0f} words/s, final loss {model.loss_history_[-1]:.4f}); "
        f"saved to {output}"
    )


@train_app.command("fasttext")
@with_options(_word_options, sample=1e-4)
def train_fasttext(
    corpus: CorpusArg,
    output: OutputOpt,
    learning_rate: Annotated[
        float | None, typer.Option(help="Starting rate (default: 0.05).")
    ] = None,
    min_n: Annotated[int, typer.Option(help="Shortest character n-gram.")] = 3,
    max_n: Annotated[int, typer.Option(help="Longest character n-gram (< min-n: none).")] = 6,
    bucket: Annotated[int, typer.Option(help="N-gram hash buckets.")] = 2_000_000,
    continue_from: Annotated[
        Path | None,
        typer.Option(help="A saved model directory or a fastText .bin to keep training on CORPUS."),
    ] = None,
    **options: Any,
) -> None:
    """Train fastText subword vectors on CORPUS and save the model to OUTPUT."""
    from ..text.fasttext import FastText

    def load(path: Path) -> FastText:
        return FastText.load(path) if path.is_dir() else FastText.load_facebook(path)

    with reports_errors():
        fresh = FastText(learning_rate=learning_rate, min_n=min_n, max_n=max_n, bucket=bucket,
                         **enum_values(options))  # fmt: skip
        model = _fit_words(fresh, corpus, continue_from, load)
        model.save(output)
    typer.echo(
        f"trained {len(model.wv):,} word vectors and {model.wv.bucket:,} n-gram rows of dim "
        f"{model.wv.dim} ({model.words_per_second_:,.0f} words/s, final loss "
        f"{model.loss_history_[-1]:.4f}); saved to {output}"
    )


@train_app.command("glove")
def train_glove(
    corpus: Annotated[
        str,
        typer.Argument(
            help="Text file (one sentence per line; .gz/.bz2 ok), a data set name "
            "(text8, text8_prefix, enwiki2015, enwiki2015_text8size), or a directory saved by "
            "Cooccurrence.save (its counts are reused)."
        ),
    ],
    output: OutputOpt,
    dim: DimOpt = 100,
    window: Annotated[int, typer.Option(help="Co-occurrence window (tokens each side).")] = 15,
    min_count: MinCountOpt = 5,
    x_max: Annotated[float, typer.Option(help="Count where the weight reaches 1.")] = 100.0,
    weighting_power: Annotated[float, typer.Option(help="Exponent of the weight.")] = 0.75,
    epochs: Annotated[int, typer.Option(help="Passes over the nonzero counts.")] = 25,
    learning_rate: Annotated[float, typer.Option(help="AdaGrad's initial step.")] = 0.05,
    combine: Annotated[
        GloVeCombine,
        typer.Option(
            "--combine",
            "--vectors",  # its name in embedforge 0.1
            help="Word vectors from W + W~ (sum) or W alone (input).",
        ),
    ] = GloVeCombine.sum,
    memory: Annotated[
        str, typer.Option(help="Memory bound of the counting: bytes, or 512M, 4G (1G = 2**30).")
    ] = "4G",
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """Train GloVe on CORPUS and save the model to OUTPUT."""
    from ..text.cooccurrence import Cooccurrence
    from ..text.corpus import open_corpus
    from ..text.glove import GloVe

    with reports_errors():
        model = GloVe(
            dim=dim, window=window, min_count=min_count, x_max=x_max,
            weighting_power=weighting_power, epochs=epochs, learning_rate=learning_rate,
            combine=combine.value, memory=memory.strip(), workers=workers, seed=seed,
            progress=progress,
        )  # fmt: skip
        data = Cooccurrence.load(corpus) if Path(corpus).is_dir() else open_corpus(corpus)
        model.fit(data).save(output)
    typer.echo(
        f"trained {len(model.wv):,} word vectors of dim {model.wv.dim} on "
        f"{model.cooccurrence_.matrix_.nnz:,} co-occurrences ({model.pairs_per_second_:,.0f} "
        f"pairs/s, final cost {model.loss_history_[-1]:.4f}); saved to {output}"
    )


# ---------------------------------------------------------------------- document vectors

_DOCS_HELP = (
    "Documents: JSONL (BEIR corpus.jsonl), CSV/TSV with a header row, or plain text with one "
    "document per line (.gz ok); or a BEIR data set name or directory (scifact)."
)
_DocsArg = Annotated[str, typer.Argument(help=_DOCS_HELP)]


def _document_options(
    id_field: Annotated[
        str, typer.Option(help="Id field of JSONL/CSV records ('' numbers the documents).")
    ] = "_id",
    text_fields: Annotated[
        str, typer.Option(help="Comma-separated text fields, joined with a space.")
    ] = "title,text",
    fmt: Annotated[
        DocFormat | None, typer.Option("--format", help="File format (default: from the suffix).")
    ] = None,
    min_df: Annotated[int, typer.Option(help="Drop terms in fewer documents.")] = 1,
    max_df: Annotated[
        float, typer.Option(help="Drop terms in more than this fraction of documents.")
    ] = 1.0,
    max_features: Annotated[
        int | None, typer.Option(help="Keep only the most frequent terms (default: all).")
    ] = None,
    sublinear_tf: Annotated[bool, typer.Option(help="Use 1 + log(tf) term weights.")] = False,
    encoding: Annotated[str, typer.Option(help="Text encoding of DOCS.")] = "utf-8",
    stop_words: Annotated[
        str | None, typer.Option(help="'english' drops scikit-learn's English stop words.")
    ] = None,
) -> None:
    """The options of the classic document models: how to read DOCS, then TF-IDF's parameters."""


#: Options of _document_options that say how to read DOCS; the others are TF-IDF parameters.
_READ_OPTIONS = ("id_field", "text_fields", "fmt", "encoding")


def _fit_documents(model_class, docs: str, output: Path, options: dict[str, Any], **params):
    """Build ``model_class(**params, **tfidf_options)``, fit it on DOCS and save it to OUTPUT."""
    from ..text.documents import iter_documents

    options = enum_values(options)
    read = {name: options.pop(name) for name in _READ_OPTIONS}
    with reports_errors():
        model = model_class(**params, **options)
        documents = iter_documents(
            docs,
            id_field=read["id_field"] or None,
            text_fields=tuple(f.strip() for f in read["text_fields"].split(",") if f.strip()),
            format=read["fmt"],
            encoding=read["encoding"],
        )
        model.fit(documents).save(output)
    return model


@train_app.command("tfidf")
@with_options(_document_options)
def train_tfidf(docs: _DocsArg, output: OutputOpt, **options: Any) -> None:
    """Fit TF-IDF on DOCS and save the model to OUTPUT."""
    from ..text.classic import TfIdf

    model = _fit_documents(TfIdf, docs, output, options)
    typer.echo(
        f"fitted TF-IDF on {len(model.ids_):,} documents: {model.n_features_:,} terms; "
        f"saved to {output}"
    )


@train_app.command("lsa")
@with_options(_document_options)
def train_lsa(
    docs: _DocsArg,
    output: OutputOpt,
    dim: Annotated[int, typer.Option(help="Singular vectors kept.")] = 256,
    seed: SeedOpt = 0,
    **options: Any,
) -> None:
    """Fit LSA (TF-IDF + truncated SVD) on DOCS and save the model to OUTPUT."""
    from ..text.classic import LSA

    model = _fit_documents(LSA, docs, output, options, dim=dim, seed=seed)
    typer.echo(
        f"fitted LSA on {len(model.ids_):,} documents: {model.n_features_:,} terms -> "
        f"dim {model.dim}; saved to {output}"
    )


@train_app.command("random-projection")
@with_options(_document_options)
def train_random_projection(
    docs: _DocsArg,
    output: OutputOpt,
    dim: Annotated[int, typer.Option(help="Output width.")] = 256,
    kind: Annotated[ProjectionKind, typer.Option(help="Random matrix.")] = ProjectionKind.sparse,
    seed: SeedOpt = 0,
    **options: Any,
) -> None:
    """Fit TF-IDF and a random projection on DOCS and save the model to OUTPUT."""
    from ..text.classic import RandomProjection

    model = _fit_documents(RandomProjection, docs, output, options, dim=dim, kind=kind.value,
                           seed=seed)  # fmt: skip
    typer.echo(
        f"fitted a {kind.value} random projection on {len(model.ids_):,} documents: "
        f"{model.n_features_:,} terms -> dim {model.dim}; saved to {output}"
    )
