"""Collections: ``embedforge index create|add|info``, ``embedforge search`` and ``embedforge serve``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ._common import JsonOpt, ProgressOpt, reports_errors

index_app = typer.Typer(
    help="Create, fill and inspect a searchable collection of documents.", no_args_is_help=True
)

CollectionArg = Annotated[
    str,
    typer.Argument(
        help="A collection directory, or a PostgreSQL DSN: postgresql://user@host/db?table=name."
    ),
]


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
    from ..errors import InvalidParameterError

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
    directory: Annotated[
        str,
        typer.Argument(
            help="New directory for the collection, or a PostgreSQL DSN naming a new table: "
            "postgresql://user@host/db?table=name (pgvector searches in the database; add "
            "&search=faiss for a local FAISS index per process)."
        ),
    ],
    encoder: Annotated[
        str,
        typer.Option(
            help="minilm, tfidf or lsa (with --fit), or a directory: saved word vectors or "
            "word2vec/fastText/GloVe model (mean of word vectors), a sentence-transformers "
            "model, or a saved TF-IDF/LSA/SIF encoder."
        ),
    ] = "minilm",
    index: Annotated[
        IndexKind, typer.Option(help="Index kind (FAISS; on PostgreSQL pgvector's HNSW/IVFFlat).")
    ] = IndexKind.flat,
    precision: Annotated[Precision, typer.Option(help="How the index stores vectors.")] = (
        Precision.float32
    ),
    fit: Annotated[
        Path | None,
        typer.Option(help="Documents (JSONL/CSV) to fit a tfidf or lsa encoder on."),
    ] = None,
    rotate: Annotated[
        bool,
        typer.Option(
            help="With --precision binary: sign codes after a random rotation (for Matryoshka "
            "models with a PCA rotation head)."
        ),
    ] = False,
) -> None:
    """Create an empty collection in DIRECTORY (or a PostgreSQL table) with an encoder and an index kind."""
    from ..search.collection import Collection

    with reports_errors(), Collection.create(
        directory, encoder=encoder, index=index.value, precision=precision.value,
        fit_documents=fit, **({"rotate": True} if rotate else {}),
    ) as col:  # fmt: skip
        info = col.info()
    typer.echo(
        f"created collection {info['path']} (encoder {json.dumps(info['encoder'])}, dim "
        f"{info['dim']}, index {info['index']}, precision {info['precision']})"
    )


@index_app.command("add")
def index_add(
    directory: CollectionArg,
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
    from ..search.collection import Collection

    fields = tuple(f.strip() for f in text_fields.split(",") if f.strip())
    with reports_errors(), Collection.open(directory) as col:
        write = col.upsert if upsert else col.add
        n = write(
            documents, id_field=id_field, text_fields=fields, batch_size=batch_size,
            progress=progress,
        )  # fmt: skip
        total, shown = col.count, col.path
    typer.echo(f"{'upserted' if upsert else 'added'} {n:,} documents; {shown} holds {total:,}")


@index_app.command("info")
def index_info(directory: CollectionArg, as_json: JsonOpt = False) -> None:
    """Count, dim, encoder, index kind, precision and size on disk of a collection."""
    from ..search.collection import Collection

    with reports_errors(), Collection.open(directory) as col:
        info = col.info()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        shown = json.dumps(value) if isinstance(value, (dict, list)) or value is None else value
        typer.echo(f"{key:24s} {shown}")


def search(
    directory: CollectionArg,
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
    from ..errors import InvalidParameterError
    from ..search.collection import Collection
    from ..text.documents import Document, iter_document_batches

    with reports_errors():
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
                _print_results(batch, res, as_json=as_json, headers=queries is not None)


def _print_results(batch, res, *, as_json: bool, headers: bool) -> None:
    """One JSON line per query, or a ranked table (under a ``# id: text`` header per query)."""
    for i, (q, hits) in enumerate(zip(batch, res.to_list(documents=False), strict=True)):
        if as_json:
            out = {"query_id": q.id, "ids": hits["ids"], "scores": hits["scores"]}
            typer.echo(json.dumps(out))
            continue
        if headers:
            typer.echo(f"# {q.id}: {q.text}")
        for rank, (doc, score) in enumerate(zip(res.documents[i], hits["scores"], strict=True)):
            text = " ".join(doc.text.split())
            typer.echo(f"{rank + 1:3d}  {score:.4f}  {doc.id}  {text[:90]}")


@index_app.command("migrate")
def index_migrate(
    source: Annotated[str, typer.Argument(help="The collection to copy (directory or DSN).")],
    target: Annotated[str, typer.Argument(help="A new directory or a DSN naming a new table.")],
    batch_size: Annotated[int, typer.Option(help="Documents per transaction.")] = 1000,
    progress: ProgressOpt = True,
) -> None:
    """Copy a collection between backends (SQLITE_DIR to DSN, or back), verified by count and checksum."""
    from ..search.collection import Collection

    with reports_errors():
        report = Collection.migrate(source, target, batch_size=batch_size, progress=progress)
    typer.echo(
        f"migrated {report['count']:,} documents from {report['source']} to {report['target']}; "
        f"counts and checksums match (sha256 {report['checksum']})"
    )


def serve(
    directory: CollectionArg,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes (uvicorn); each opens the collection itself, which suits a "
            "PostgreSQL collection (stateless workers)."
        ),
    ] = 1,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the API key that writes must send."),
    ] = None,
    max_request_bytes: Annotated[int, typer.Option(help="Largest request body (bytes).")] = (
        4 * 2**20
    ),
    max_batch: Annotated[int, typer.Option(help="Most queries/documents per request.")] = 256,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated",
            help="Serve an address other than loopback without an API key (anyone who can "
            "reach it can add and delete documents).",
        ),
    ] = False,
) -> None:
    """Serve a collection over HTTP (POST /search, /embed, /documents; GET /health; /docs).

    Binding an address other than 127.0.0.1 / localhost needs --api-key-env, or
    --allow-unauthenticated to serve without a key on purpose.
    """
    import os

    from ..errors import InvalidParameterError
    from ..search.server import serve as serve_collection

    with reports_errors():
        api_key = None
        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise InvalidParameterError(
                    f"--api-key-env {api_key_env}: the environment variable {api_key_env} is "
                    "not set or empty; export it first"
                )
        serve_collection(
            directory, host=host, port=port, api_key=api_key,
            max_request_bytes=max_request_bytes, max_batch=max_batch,
            allow_unauthenticated=allow_unauthenticated, workers=workers,
        )  # fmt: skip
