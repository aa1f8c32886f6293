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


# Options shared by the trainers: type and help here, each command keeps its own default.
CorpusArg = Annotated[
    str,
    typer.Argument(
        help="Text file (one sentence per line; .gz/.bz2 ok) or a data set name "
        "(text8, text8_prefix, enwiki2015, enwiki2015_text8size)."
    ),
]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory to save the model to.")]
ArchOpt = Annotated[Arch, typer.Option(help="Skip-gram or CBOW.")]
ObjectiveOpt = Annotated[Objective, typer.Option()]
DimOpt = Annotated[int, typer.Option(help="Vector width.")]
WindowOpt = Annotated[int, typer.Option(help="Largest context distance.")]
NegativeOpt = Annotated[int, typer.Option(help="Noise words per prediction.")]
MinCountOpt = Annotated[int, typer.Option(help="Drop words seen fewer times.")]
SampleOpt = Annotated[float, typer.Option(help="Subsampling threshold (0: off).")]
EpochsOpt = Annotated[int, typer.Option(help="Passes over the corpus.")]
WorkersOpt = Annotated[int | None, typer.Option(help="Threads [default: all cores].")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress bar.")]


class GloVeVectors(str, Enum):
    sum = "sum"
    input = "input"


class ConvertTarget(str, Enum):
    word2vec_binary = "word2vec-binary"
    word2vec_text = "word2vec-text"
    fasttext_vec = "fasttext-vec"
    glove_text = "glove-text"


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
    corpus: CorpusArg,
    output: OutputOpt,
    arch: ArchOpt = Arch.skipgram,
    objective: ObjectiveOpt = Objective.negative_sampling,
    dim: DimOpt = 100,
    window: WindowOpt = 5,
    negative: NegativeOpt = 5,
    min_count: MinCountOpt = 5,
    sample: SampleOpt = 1e-3,
    epochs: EpochsOpt = 5,
    learning_rate: Annotated[
        float | None, typer.Option(help="Starting rate [default: 0.025 skipgram, 0.05 cbow].")
    ] = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    continue_from: Annotated[
        Path | None,
        typer.Option(help="A saved model to keep training on CORPUS (its vocabulary grows)."),
    ] = None,
    progress: ProgressOpt = True,
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
    vectors: Annotated[
        GloVeVectors, typer.Option(help="Saved vectors: W + W~ (sum) or W (input).")
    ] = GloVeVectors.sum,
    memory: Annotated[
        str, typer.Option(help="Memory bound of the counting: bytes, or 512M, 4G (1G = 2**30).")
    ] = "4G",
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """Train GloVe on CORPUS and save the model to OUTPUT."""
    from .text.cooccurrence import Cooccurrence
    from .text.corpus import open_corpus
    from .text.glove import GloVe

    try:
        model = GloVe(
            dim=dim, window=window, min_count=min_count, x_max=x_max,
            weighting_power=weighting_power, epochs=epochs, learning_rate=learning_rate,
            vectors=vectors.value, memory=memory.strip(), workers=workers, seed=seed,
            progress=progress,
        )  # fmt: skip
        if Path(corpus).is_dir():
            model.fit(Cooccurrence.load(corpus))
        else:
            model.fit(open_corpus(corpus))
        model.save(output)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"trained {len(model.wv):,} word vectors of dim {model.wv.dim} on "
        f"{model.cooccurrence_.matrix_.nnz:,} co-occurrences ({model.pairs_per_second_:,.0f} "
        f"pairs/s, final cost {model.loss_history_[-1]:.4f}); saved to {output}"
    )


@train_app.command("fasttext")
def train_fasttext(
    corpus: CorpusArg,
    output: OutputOpt,
    arch: ArchOpt = Arch.skipgram,
    objective: ObjectiveOpt = Objective.negative_sampling,
    dim: DimOpt = 100,
    window: WindowOpt = 5,
    negative: NegativeOpt = 5,
    min_count: MinCountOpt = 5,
    sample: SampleOpt = 1e-4,
    epochs: EpochsOpt = 5,
    learning_rate: Annotated[
        float | None, typer.Option(help="Starting rate [default: 0.05].")
    ] = None,
    min_n: Annotated[int, typer.Option(help="Shortest character n-gram.")] = 3,
    max_n: Annotated[int, typer.Option(help="Longest character n-gram (< min-n: none).")] = 6,
    bucket: Annotated[int, typer.Option(help="N-gram hash buckets.")] = 2_000_000,
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    continue_from: Annotated[
        Path | None,
        typer.Option(help="A saved model directory or a fastText .bin to keep training on CORPUS."),
    ] = None,
    progress: ProgressOpt = True,
) -> None:
    """Train fastText subword vectors on CORPUS and save the model to OUTPUT."""
    from .text.corpus import open_corpus
    from .text.fasttext import FastText

    try:
        text = open_corpus(corpus)
        if continue_from is not None:
            if continue_from.is_dir():
                model = FastText.load(continue_from)
            else:
                model = FastText.load_facebook(continue_from)
            model.epochs, model.workers, model.progress = epochs, workers, progress
            if learning_rate is not None:
                model.learning_rate = learning_rate
            model.fit(text, update_vocab=True)
        else:
            model = FastText(
                arch=arch.value, objective=objective.value, dim=dim, window=window,
                negative=negative, min_count=min_count, sample=sample, epochs=epochs,
                learning_rate=learning_rate, min_n=min_n, max_n=max_n, bucket=bucket,
                workers=workers, seed=seed, progress=progress,
            )  # fmt: skip
            model.fit(text)
        model.save(output)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"trained {len(model.wv):,} word vectors and {model.wv.bucket:,} n-gram rows of dim "
        f"{model.wv.dim} ({model.words_per_second_:,.0f} words/s, final loss "
        f"{model.loss_history_[-1]:.4f}); saved to {output}"
    )


class DocFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    text = "text"


class ProjectionKind(str, Enum):
    sparse = "sparse"
    gaussian = "gaussian"


_DOCS_HELP = (
    "Documents: JSONL (BEIR corpus.jsonl), CSV/TSV with a header row, or plain text with one "
    "document per line (.gz ok); or a BEIR data set name or directory (scifact)."
)
_DocsArg = Annotated[str, typer.Argument(help=_DOCS_HELP)]
_OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory to save the model to.")]
_IdFieldOpt = Annotated[
    str, typer.Option(help="Id field of JSONL/CSV records ('' numbers the documents).")
]
_TextFieldsOpt = Annotated[
    str, typer.Option(help="Comma-separated text fields, joined with a space.")
]
_FormatOpt = Annotated[
    DocFormat | None, typer.Option("--format", help="File format (default: from the suffix).")
]
_MinDfOpt = Annotated[int, typer.Option(help="Drop terms in fewer documents.")]
_MaxDfOpt = Annotated[
    float, typer.Option(help="Drop terms in more than this fraction of documents.")
]
_MaxFeaturesOpt = Annotated[
    int | None, typer.Option(help="Keep only the most frequent terms (default: all).")
]
_SublinearOpt = Annotated[bool, typer.Option(help="Use 1 + log(tf) term weights.")]
_EncodingOpt = Annotated[str, typer.Option(help="Text encoding of DOCS.")]
_StopWordsOpt = Annotated[
    str | None, typer.Option(help="'english' drops scikit-learn's English stop words.")
]


def _fit_documents(
    model, docs: str, output: Path, id_field: str, text_fields: str, fmt, encoding: str
):
    """Fit a classic model on the documents of DOCS and save it (shared by the train commands)."""
    from .text.documents import iter_documents

    documents = iter_documents(
        docs,
        id_field=id_field or None,
        text_fields=tuple(f.strip() for f in text_fields.split(",") if f.strip()),
        format=fmt.value if fmt is not None else None,
        encoding=encoding,
    )
    model.fit(documents)
    model.save(output)
    return model


@train_app.command("tfidf")
def train_tfidf(
    docs: _DocsArg,
    output: _OutputOpt,
    id_field: _IdFieldOpt = "_id",
    text_fields: _TextFieldsOpt = "title,text",
    fmt: _FormatOpt = None,
    min_df: _MinDfOpt = 1,
    max_df: _MaxDfOpt = 1.0,
    max_features: _MaxFeaturesOpt = None,
    sublinear_tf: _SublinearOpt = False,
    encoding: _EncodingOpt = "utf-8",
    stop_words: _StopWordsOpt = None,
) -> None:
    """Fit TF-IDF on DOCS and save the model to OUTPUT."""
    from .text.classic import TfIdf

    model = TfIdf(min_df=min_df, max_df=max_df, max_features=max_features,
                  sublinear_tf=sublinear_tf, stop_words=stop_words)  # fmt: skip
    try:
        _fit_documents(model, docs, output, id_field, text_fields, fmt, encoding)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"fitted TF-IDF on {len(model.ids_):,} documents: {model.n_features_:,} terms; "
        f"saved to {output}"
    )


@train_app.command("lsa")
def train_lsa(
    docs: _DocsArg,
    output: _OutputOpt,
    dim: Annotated[int, typer.Option(help="Singular vectors kept.")] = 256,
    seed: SeedOpt = 0,
    id_field: _IdFieldOpt = "_id",
    text_fields: _TextFieldsOpt = "title,text",
    fmt: _FormatOpt = None,
    min_df: _MinDfOpt = 1,
    max_df: _MaxDfOpt = 1.0,
    max_features: _MaxFeaturesOpt = None,
    sublinear_tf: _SublinearOpt = False,
    encoding: _EncodingOpt = "utf-8",
    stop_words: _StopWordsOpt = None,
) -> None:
    """Fit LSA (TF-IDF + truncated SVD) on DOCS and save the model to OUTPUT."""
    from .text.classic import LSA

    model = LSA(dim=dim, seed=seed, min_df=min_df, max_df=max_df, max_features=max_features,
                sublinear_tf=sublinear_tf, stop_words=stop_words)  # fmt: skip
    try:
        _fit_documents(model, docs, output, id_field, text_fields, fmt, encoding)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"fitted LSA on {len(model.ids_):,} documents: {model.n_features_:,} terms -> "
        f"dim {model.dim}; saved to {output}"
    )


@train_app.command("random-projection")
def train_random_projection(
    docs: _DocsArg,
    output: _OutputOpt,
    dim: Annotated[int, typer.Option(help="Output width.")] = 256,
    kind: Annotated[ProjectionKind, typer.Option(help="Random matrix.")] = ProjectionKind.sparse,
    seed: SeedOpt = 0,
    id_field: _IdFieldOpt = "_id",
    text_fields: _TextFieldsOpt = "title,text",
    fmt: _FormatOpt = None,
    min_df: _MinDfOpt = 1,
    max_df: _MaxDfOpt = 1.0,
    max_features: _MaxFeaturesOpt = None,
    sublinear_tf: _SublinearOpt = False,
    encoding: _EncodingOpt = "utf-8",
    stop_words: _StopWordsOpt = None,
) -> None:
    """Fit TF-IDF and a random projection on DOCS and save the model to OUTPUT."""
    from .text.classic import RandomProjection

    model = RandomProjection(dim=dim, kind=kind.value, seed=seed, min_df=min_df, max_df=max_df,
                             max_features=max_features, sublinear_tf=sublinear_tf,
                             stop_words=stop_words)  # fmt: skip
    try:
        _fit_documents(model, docs, output, id_field, text_fields, fmt, encoding)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"fitted a {kind.value} random projection on {len(model.ids_):,} documents: "
        f"{model.n_features_:,} terms -> dim {model.dim}; saved to {output}"
    )


@app.command("evaluate-retrieval")
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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """nDCG@k, recall@k, MRR@k and MAP of MODEL on a BEIR data set (exact search)."""
    from .errors import InvalidParameterError
    from .evaluate.retrieval import evaluate_retrieval, read_beir
    from .search.encoders import load_encoder

    try:
        try:
            ks = tuple(int(x) for x in k.split(",") if x.strip())
        except ValueError:
            raise InvalidParameterError(
                f"-k must be comma-separated integers such as 1,10,100; got {k!r}"
            ) from None
        encoder = load_encoder(model)
        data = read_beir(dataset, split=split)
        result = evaluate_retrieval(
            encoder, data.queries, data.corpus, data.qrels, k=ks, batch_size=batch_size
        )
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))


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
    """Write word vectors in another tool's format (word2vec C text or binary, fastText .vec, GloVe text)."""
    try:
        wv = _load(model)
        wv.save_word2vec_format(
            out,
            binary=to is ConvertTarget.word2vec_binary,
            write_header=to is not ConvertTarget.glove_text,
        )
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


# ---------------------------------------------------------------------- collections (search)

index_app = typer.Typer(
    help="Create, fill and inspect a searchable collection of documents.", no_args_is_help=True
)
app.add_typer(index_app, name="index")


class IndexKind(str, Enum):
    flat = "flat"
    hnsw = "hnsw"
    ivf = "ivf"
    ivf_pq = "ivf-pq"


class Precision(str, Enum):
    float32 = "float32"
    int8 = "int8"
    binary = "binary"


def _parse_filter(pairs: list[str] | None) -> dict | None:
    """``field=value`` options to a metadata filter; values are JSON when they parse (2020, true)."""
    from .errors import InvalidParameterError

    if not pairs:
        return None
    out = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field:
            raise InvalidParameterError(f"--filter expects FIELD=VALUE; got {pair!r}")
        try:
            out[field] = json.loads(value)
        except ValueError:
            out[field] = value
    return out


@index_app.command("create")
def index_create(
    directory: Annotated[Path, typer.Argument(help="New directory for the collection.")],
    encoder: Annotated[
        str,
        typer.Option(
            help="minilm, tfidf or lsa (with --fit), or a directory: saved word vectors or "
            "word2vec/fastText/GloVe model (mean of word vectors), a sentence-transformers "
            "model, or a saved TF-IDF/LSA/SIF encoder."
        ),
    ] = "minilm",
    index: Annotated[IndexKind, typer.Option(help="FAISS index kind.")] = IndexKind.flat,
    precision: Annotated[Precision, typer.Option(help="How the index stores vectors.")] = (
        Precision.float32
    ),
    fit: Annotated[
        Path | None,
        typer.Option(help="Documents (JSONL/CSV) to fit a tfidf or lsa encoder on."),
    ] = None,
) -> None:
    """Create an empty collection in DIRECTORY with an encoder and an index kind."""
    from .search.collection import Collection

    try:
        with Collection.create(
            directory, encoder=encoder, index=index.value, precision=precision.value,
            fit_documents=fit,
        ) as col:  # fmt: skip
            info = col.info()
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"created collection {directory} (encoder {json.dumps(info['encoder'])}, dim "
        f"{info['dim']}, index {info['index']}, precision {info['precision']})"
    )


@index_app.command("add")
def index_add(
    directory: Annotated[Path, typer.Argument(help="A collection directory.")],
    documents: Annotated[Path, typer.Argument(help="JSONL (e.g. BEIR corpus.jsonl) or CSV/TSV.")],
    id_field: Annotated[str, typer.Option(help="Field holding the document id.")] = "_id",
    text_fields: Annotated[
        str, typer.Option(help="Comma-separated fields joined into the text.")
    ] = "title,text",
    upsert: Annotated[bool, typer.Option(help="Replace documents whose id is stored.")] = False,
    batch_size: Annotated[int, typer.Option(help="Documents per transaction.")] = 256,
    progress: ProgressOpt = True,
) -> None:
    """Add the documents of a file to a collection (each batch is committed whole or not at all)."""
    from .search.collection import Collection

    fields = tuple(f.strip() for f in text_fields.split(",") if f.strip())
    try:
        with Collection.open(directory) as col:
            write = col.upsert if upsert else col.add
            n = write(
                documents, id_field=id_field, text_fields=fields, batch_size=batch_size,
                progress=progress,
            )  # fmt: skip
            total = col.count
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(f"{'upserted' if upsert else 'added'} {n:,} documents; {directory} holds {total:,}")


@index_app.command("info")
def index_info(
    directory: Annotated[Path, typer.Argument(help="A collection directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Count, dim, encoder, index kind, precision and size on disk of a collection."""
    from .search.collection import Collection

    try:
        with Collection.open(directory) as col:
            info = col.info()
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        shown = json.dumps(value) if isinstance(value, (dict, list)) or value is None else value
        typer.echo(f"{key:24s} {shown}")


@app.command("search")
def search_command(
    directory: Annotated[Path, typer.Argument(help="A collection directory.")],
    query: Annotated[str | None, typer.Argument(help="The query text.")] = None,
    k: Annotated[int, typer.Option("-k", help="Results per query.")] = 10,
    queries: Annotated[
        Path | None,
        typer.Option(help="JSONL of queries ({'_id': ..., 'text': ...}, e.g. BEIR queries.jsonl)."),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="Metadata condition FIELD=VALUE; repeatable."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per query.")] = False,
    batch_size: Annotated[int, typer.Option(help="Queries encoded per batch.")] = 64,
) -> None:
    """Search a collection with QUERY, or with every query of --queries FILE."""
    from .errors import InvalidParameterError
    from .search.collection import Collection
    from .text.documents import Document, iter_document_batches

    try:
        if (query is None) == (queries is None):
            raise InvalidParameterError("give either a QUERY argument or --queries FILE, not both")
        where = _parse_filter(filter_)
        with Collection.open(directory) as col:
            if query is not None:
                batches = [[Document("query", query)]]
            else:
                batches = iter_document_batches(
                    queries, batch_size=batch_size, id_field="_id", text_fields=("text",)
                )
            for batch in batches:
                res = col.search([q.text for q in batch], k=k, filter=where)
                for i, (q, hits) in enumerate(
                    zip(batch, res.to_list(documents=False), strict=True)
                ):
                    if as_json:
                        out = {"query_id": q.id, "ids": hits["ids"], "scores": hits["scores"]}
                        typer.echo(json.dumps(out))
                        continue
                    if queries is not None:
                        typer.echo(f"# {q.id}: {q.text}")
                    for rank, (doc, score) in enumerate(
                        zip(res.documents[i], hits["scores"], strict=True)
                    ):
                        text = " ".join(doc.text.split())
                        typer.echo(f"{rank + 1:3d}  {score:.4f}  {doc.id}  {text[:90]}")
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@app.command("serve")
def serve_command(
    directory: Annotated[Path, typer.Argument(help="A collection directory.")],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the API key that writes must send."),
    ] = None,
    max_request_bytes: Annotated[int, typer.Option(help="Largest request body (bytes).")] = (
        4 * 2**20
    ),
    max_batch: Annotated[int, typer.Option(help="Most queries/documents per request.")] = 256,
) -> None:
    """Serve a collection over HTTP (POST /search, /embed, /documents; GET /health; /docs)."""
    import os

    from .errors import InvalidParameterError
    from .search.server import serve

    try:
        api_key = None
        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise InvalidParameterError(
                    f"--api-key-env {api_key_env}: the environment variable {api_key_env} is "
                    "not set or empty; export it first"
                )
        serve(
            directory, host=host, port=port, api_key=api_key,
            max_request_bytes=max_request_bytes, max_batch=max_batch,
        )  # fmt: skip
    except USER_ERRORS as exc:
        raise _fail(exc) from None


# graph commands (embedforge._cli_graph): train deepwalk|node2vec, evaluate-nodes, evaluate-links
from . import _cli_graph  # noqa: E402 - registered after the app exists

train_app.command("deepwalk")(_cli_graph.train_deepwalk)
train_app.command("node2vec")(_cli_graph.train_node2vec)
app.command("evaluate-nodes")(_cli_graph.evaluate_nodes)
app.command("evaluate-links")(_cli_graph.evaluate_links)


def run() -> None:  # pragma: no cover - console entry point
    app(prog_name="embedforge")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
