"""The HTTP API of a collection: search, embed, add, delete and health, served by FastAPI + uvicorn.

FastAPI, pydantic and uvicorn are an optional extra, imported when an app is
made; without them :func:`create_app` raises a
:class:`~embedforge.errors.MissingDependencyError` naming
``pip install "embedforge[server]"``.

Every response is JSON.  Errors are ``{"error": message}`` with a status
that says what went wrong (400 malformed JSON, 401 missing or wrong API key,
404 unknown id or route, 409 duplicate id, 413 request too large, 422 invalid
request, such as a vector holding NaN or Infinity), never a stack trace.

Limits apply to every endpoint alike: ``max_request_bytes`` to the body
(with a ``Content-Length`` or chunked, counted as it arrives) and
``max_batch`` to the queries, texts, documents or ids of one request.

This module does not use ``from __future__ import annotations``: FastAPI
reads the endpoints' annotations at run time, and the pydantic models they
name are built only when an app is made (so that importing embedforge does
not import FastAPI).
"""

import contextlib
import hmac
import ipaddress
import json
import logging
import os
from typing import Annotated, Any

from .._validation import check_bool
from ..errors import (
    DuplicateKeyError,
    EmbedforgeError,
    InvalidParameterError,
    MissingDependencyError,
    UnknownKeyError,
)
from .collection import Collection

__all__ = ["check_bind", "create_app", "serve"]

logger = logging.getLogger(__name__)

_SERVER_HINT = 'pip install "embedforge[server]"'

#: Default limit on a request body, in bytes.
MAX_REQUEST_BYTES = 4 * 2**20
#: Default limit on queries, texts, documents or ids in one request.
MAX_BATCH = 256
# Largest k a request may ask for.
_MAX_K = 1000
# What FastAPI says of a body it cannot decode (bad UTF-8, JSON nested too deep, a number with
# more digits than Python converts), and what we say instead.
_FASTAPI_PARSE_ERROR = "There was an error parsing the body"
_PARSE_ERROR = (
    "the request body could not be read as JSON (it is not UTF-8, nests too deeply or holds a "
    "number too long to convert); send a JSON object"
)


def _import_fastapi() -> Any:
    try:
        import fastapi
        import pydantic
    except ImportError as exc:
        raise MissingDependencyError(
            f"the HTTP API needs FastAPI and pydantic; {_SERVER_HINT}"
        ) from exc
    return fastapi, pydantic


def _models() -> dict[str, Any]:
    """The request and response models (built on first use, then reused)."""
    if _MODELS:
        return _MODELS
    _, pydantic = _import_fastapi()
    from pydantic import BaseModel, ConfigDict, Field

    scalar = str | int | float | bool | None
    # JSON vectors must be finite: Python's json reads NaN, Infinity and 1e999 as floats.
    finite = Annotated[float, Field(allow_inf_nan=False)]

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class SearchRequest(_Strict):
        """One query or many, as text (encoded by the collection's encoder) or as vectors."""

        queries: str | list[str] | None = Field(
            None, description="A query text or a list of them; give this or vectors."
        )
        vectors: list[list[finite]] | None = Field(
            None, description="Query vectors, each of the collection's dim; give this or queries."
        )
        k: int = Field(10, ge=1, le=_MAX_K, description="Results per query.")
        filter: dict[str, scalar] | None = Field(
            None, description="Metadata equality conditions, all of which must hold."
        )

    class DocumentOut(BaseModel):
        id: str
        text: str
        metadata: dict[str, Any]

    class QueryResult(BaseModel):
        ids: list[str] = Field(description="Document ids, best first.")
        scores: list[float] = Field(description="Similarities (higher is closer), best first.")
        documents: list[DocumentOut]

    class SearchResponse(BaseModel):
        results: list[QueryResult] = Field(description="One entry per query, in order.")
        revision: int = Field(description="The collection revision searched.")

    class EmbedRequest(_Strict):
        texts: str | list[str] = Field(description="A text or a list of texts to encode.")

    class EmbedResponse(BaseModel):
        vectors: list[list[float]]
        dim: int

    class DocumentIn(_Strict):
        id: str = Field(min_length=1)
        text: str = ""
        metadata: dict[str, Any] = Field(default_factory=dict)
        vector: list[finite] | None = Field(
            None, description="The document's vector; required when the collection has no encoder."
        )

    class AddRequest(_Strict):
        documents: list[DocumentIn]
        upsert: bool = Field(False, description="Replace documents whose id is already stored.")

    class AddResponse(BaseModel):
        written: int
        count: int
        revision: int

    class DeleteRequest(_Strict):
        ids: list[str]
        missing_ok: bool = Field(False, description="Skip ids that are not stored.")

    class DeleteResponse(BaseModel):
        deleted: int
        count: int
        revision: int

    class HealthResponse(BaseModel):
        status: str
        count: int
        revision: int
        dim: int

    class ErrorResponse(BaseModel):
        error: str

    _MODELS.update(
        (cls.__name__, cls)
        for cls in (
            SearchRequest, DocumentOut, QueryResult, SearchResponse, EmbedRequest, EmbedResponse,
            DocumentIn, AddRequest, AddResponse, DeleteRequest, DeleteResponse, HealthResponse,
            ErrorResponse,
        )
    )  # fmt: skip
    return _MODELS


_MODELS: dict[str, Any] = {}


class _BodyTooLarge(Exception):
    """Raised by :class:`_BodyLimit`'s ``receive`` once a body passes the limit."""


class _BodyLimit:
    """ASGI middleware: a request body larger than ``max_bytes`` gets 413 before any endpoint runs.

    The body is streamed to the app, never buffered here: a declared
    ``Content-Length`` over the limit is refused before reading anything, and
    a body without one (``Transfer-Encoding: chunked``) is counted as it
    arrives and refused as soon as it passes the limit, so at most
    ``max_bytes`` (plus one chunk) of it is ever held in memory, by the app.
    Endpoints read the whole body before they run, so no endpoint runs for a
    refused request.

    After a 413 the rest of the body is read and dropped (at most
    ``_DRAIN_FACTOR * max_bytes`` bytes, never kept), so that a client that
    sends its whole body before reading the answer sees the 413 rather than a
    reset connection; the connection is then closed.
    """

    _DRAIN_FACTOR = 16

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(receive, send, 0, more=True)
            return
        size = 0
        more = True
        state = {"too_large": False, "started": False}

        async def counted_receive() -> dict:
            nonlocal size, more
            if state["too_large"]:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                more = message.get("more_body", False)
                if size > self.max_bytes:
                    state["too_large"] = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: dict) -> None:
            if state["too_large"]:  # the app answered its own error to the cut body: drop it
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):  # raised only after the limit was passed
            await self.app(scope, counted_receive, guarded_send)
        if state["too_large"] and not state["started"]:
            await self._refuse(receive, send, size, more=more)

    async def _refuse(self, receive: Any, send: Any, size: int, more: bool) -> None:
        """Send the 413 after dropping (a bounded part of) the rest of the body."""
        while more and size <= self._DRAIN_FACTOR * self.max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        payload = json.dumps(
            {
                "error": f"the request body is larger than the limit of {self.max_bytes:,} "
                "bytes; send fewer or smaller documents per request"
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _validation_message(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """Status and one-line message for pydantic validation errors."""
    for err in errors:
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "")
            return 400, f"the request body is not valid JSON ({detail}); send a JSON object"
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "extra_forbidden":
            parts.append(f"unknown field {loc!r}")
        elif err.get("type") == "finite_number":
            parts.append(
                f"{loc}: NaN and Infinity are not accepted; send finite numbers (a vector with "
                "NaN or infinity cannot be searched or stored)"
            )
        else:
            parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "invalid request: " + "; ".join(parts) + more


def _status_of(exc: EmbedforgeError) -> int:
    if isinstance(exc, UnknownKeyError):
        return 404
    if isinstance(exc, DuplicateKeyError):
        return 409
    if isinstance(exc, MissingDependencyError):
        return 500
    return 422


def create_app(
    collection: Collection | str | os.PathLike[str],
    api_key: str | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_batch: int = MAX_BATCH,
) -> Any:
    """A FastAPI app serving one collection.

    Endpoints: ``POST /search`` (queries or vectors, ``k``, ``filter``),
    ``POST /embed`` (texts -> vectors), ``POST /documents`` (add; ``upsert``
    flag), ``DELETE /documents`` (ids), ``GET /health`` (count, revision).
    The OpenAPI schema is at ``/openapi.json``, interactive docs at ``/docs``.

    Parameters
    ----------
    collection : Collection, str or os.PathLike
        An open collection, or the directory of one (opened here and closed
        when the app shuts down).
    api_key : str, optional
        When set, ``POST /documents`` and ``DELETE /documents`` require the
        header ``X-API-Key: <api_key>`` (401 otherwise).  Reads are open.
    max_request_bytes : int, default 4 MiB
        Larger request bodies are refused with 413, whether they declare a
        ``Content-Length`` or arrive chunked (counted as they arrive, never
        buffered whole).
    max_batch : int, default 256
        Most queries, texts, documents or ids in one request (422 beyond).

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    MissingDependencyError
        If FastAPI is not installed (``pip install "embedforge[server]"``).
    InvalidParameterError
        If a limit is not a positive integer or ``api_key`` is empty.
    FormatError
        If ``collection`` is a path that is not a collection.
    """
    fastapi, _ = _import_fastapi()
    from fastapi import FastAPI, Request, Security
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import APIKeyHeader
    from starlette.exceptions import HTTPException

    for name, value in (("max_request_bytes", max_request_bytes), ("max_batch", max_batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(f"{name} must be an integer >= 1; got {value!r}")
    if api_key is not None and (not isinstance(api_key, str) or not api_key):
        raise InvalidParameterError("api_key must be a non-empty str or None")
    m = _models()
    owned = not isinstance(collection, Collection)
    col = Collection.open(collection) if owned else collection

    @contextlib.asynccontextmanager
    async def lifespan(_: Any):
        yield
        if owned:
            col.close()

    app = FastAPI(
        title="embedforge collection",
        description=f"Semantic search over the embedforge collection at {col.path}.",
        version="1",
        lifespan=lifespan,
        responses={
            400: {"model": m["ErrorResponse"], "description": "Malformed JSON"},
            413: {"model": m["ErrorResponse"], "description": "Request too large"},
            422: {"model": m["ErrorResponse"], "description": "Invalid request"},
        },
    )
    app.add_middleware(_BodyLimit, max_bytes=max_request_bytes)
    key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message})

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error(*_validation_message(list(exc.errors())))

    @app.exception_handler(EmbedforgeError)
    async def on_embedforge(_: Request, exc: EmbedforgeError) -> JSONResponse:
        return error(_status_of(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def on_http(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _FASTAPI_PARSE_ERROR:
            return error(400, _PARSE_ERROR)
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def on_other(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("error serving %s %s", request.method, request.url.path)
        return error(500, f"internal server error ({type(exc).__name__}); see the server log")

    def check_key(given: str | None) -> None:
        if api_key is None:
            return
        if given is None or not hmac.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(
                status_code=401,
                detail="this endpoint needs the X-API-Key header with the server's API key",
            )

    def check_batch(name: str, n: int) -> None:
        if n > max_batch:
            raise InvalidParameterError(
                f"{name} holds {n:,} items; this server accepts at most {max_batch:,} per "
                "request. Split the request"
            )

    SearchRequest, SearchResponse = m["SearchRequest"], m["SearchResponse"]
    EmbedRequest, EmbedResponse = m["EmbedRequest"], m["EmbedResponse"]
    AddRequest, AddResponse = m["AddRequest"], m["AddResponse"]
    DeleteRequest, DeleteResponse = m["DeleteRequest"], m["DeleteResponse"]
    HealthResponse = m["HealthResponse"]

    @app.post("/search", response_model=SearchResponse, summary="Search the collection")
    def search(request: SearchRequest) -> Any:
        if (request.queries is None) == (request.vectors is None):
            raise InvalidParameterError("give exactly one of 'queries' (text) and 'vectors'")
        if request.queries is not None:
            queries: Any = request.queries
            check_batch("queries", 1 if isinstance(queries, str) else len(queries))
        else:
            check_batch("vectors", len(request.vectors))
            if not request.vectors:
                raise InvalidParameterError("vectors is empty; send at least one query vector")
            if any(len(v) != col.dim for v in request.vectors):
                bad = next(len(v) for v in request.vectors if len(v) != col.dim)
                raise InvalidParameterError(
                    f"query vectors must each have {col.dim} numbers (the collection's dim); "
                    f"got one with {bad}"
                )
            queries = request.vectors
        results = col.search(queries, k=request.k, filter=request.filter)
        # The revision the search saw, not the one after it (another request may write between).
        return {"results": results.to_list(), "revision": results.revision}

    @app.post("/embed", response_model=EmbedResponse, summary="Encode texts")
    def embed(request: EmbedRequest) -> Any:
        texts = [request.texts] if isinstance(request.texts, str) else request.texts
        check_batch("texts", len(texts))
        vectors = col.embed(texts)
        return {"vectors": vectors.tolist(), "dim": int(vectors.shape[1])}

    @app.post("/documents", response_model=AddResponse, summary="Add or upsert documents")
    def add_documents(request: AddRequest, x_api_key: str | None = Security(key_header)) -> Any:
        check_key(x_api_key)
        docs = request.documents
        check_batch("documents", len(docs))
        if not docs:
            raise InvalidParameterError("documents is empty; send at least one document")
        with_vectors = sum(d.vector is not None for d in docs)
        if with_vectors not in (0, len(docs)):
            raise InvalidParameterError(
                "either every document has a 'vector' or none has; "
                f"got {with_vectors} of {len(docs)}"
            )
        vectors = None
        if with_vectors:
            bad = next((d for d in docs if len(d.vector) != col.dim), None)
            if bad is not None:
                raise InvalidParameterError(
                    f"document {bad.id!r} has a vector of {len(bad.vector)} numbers; the "
                    f"collection's dim is {col.dim}"
                )
            import numpy as np

            vectors = np.asarray([d.vector for d in docs], dtype=np.float32)
        items = [{"id": d.id, "text": d.text, "metadata": d.metadata} for d in docs]
        write = col.upsert if request.upsert else col.add
        written = write(items, vectors=vectors, batch_size=len(items), progress=False)
        return {"written": written, "count": col.count, "revision": col.revision}

    @app.delete("/documents", response_model=DeleteResponse, summary="Delete documents by id")
    def delete_documents(
        request: DeleteRequest, x_api_key: str | None = Security(key_header)
    ) -> Any:
        check_key(x_api_key)
        check_batch("ids", len(request.ids))
        deleted = col.delete(
            request.ids, missing_ok=request.missing_ok, batch_size=max(1, len(request.ids))
        )
        return {"deleted": deleted, "count": col.count, "revision": col.revision}

    @app.get("/health", response_model=HealthResponse, summary="Liveness and collection size")
    def health() -> Any:
        return {"status": "ok", "count": col.count, "revision": col.revision, "dim": col.dim}

    app.state.collection = col
    return app


def serve(
    collection: Collection | str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_batch: int = MAX_BATCH,
    *,
    allow_unauthenticated: bool = False,
    workers: int = 1,
) -> None:
    """Serve a collection over HTTP with uvicorn until interrupted (see :func:`create_app`).

    Binds 127.0.0.1 by default.  Binding any other address (``0.0.0.0``, a
    LAN address, a host name) without an API key is refused, since anyone who
    can reach the port could then add and delete documents, unless
    ``allow_unauthenticated`` says it is meant (a warning is logged then).

    Parameters
    ----------
    allow_unauthenticated : bool, default False
        Serve a non-loopback address without an API key anyway (for a
        server behind an authenticating proxy, say).
    workers : int, default 1
        Worker processes.  With more than one, ``collection`` must be a
        location (directory or DSN), not an open collection: uvicorn starts
        the workers and each opens the collection itself.  A PostgreSQL
        collection searched by pgvector keeps no state in a worker, so the
        workers (on one machine or several) serve the same data; on SQLite
        each worker follows the others' writes through the revision log.

    Raises
    ------
    InvalidParameterError
        If ``host`` is not a loopback address, ``api_key`` is None and
        ``allow_unauthenticated`` is False (the message names both fixes), or
        ``port`` is not in 0..65535, or ``workers`` is not a positive integer
        (or is more than 1 with an open collection).
    MissingDependencyError
        If FastAPI or uvicorn is not installed (``pip install "embedforge[server]"``).
    """
    check_bind(host, api_key, allow_unauthenticated)
    try:
        import uvicorn
    except ImportError as exc:
        raise MissingDependencyError(f"serving a collection needs uvicorn; {_SERVER_HINT}") from exc
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidParameterError(f"port must be an integer in 0..65535; got {port!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"workers must be an integer >= 1; got {workers!r}")
    if workers > 1:
        if isinstance(collection, Collection):
            raise InvalidParameterError(
                "workers > 1 needs the collection's location (a directory or DSN), not an open "
                "Collection: each worker process opens it itself"
            )
        location = str(collection)
        _check_location(location)  # a bad location fails here, not in every worker
        os.environ[_WORKER_CONFIG] = json.dumps(
            {"collection": location, "api_key": api_key,
             "max_request_bytes": max_request_bytes, "max_batch": max_batch}
        )  # fmt: skip
        if api_key is None and not _is_loopback(host):
            logger.warning("serving on %s without an API key (allow_unauthenticated)", host)
        uvicorn.run(
            f"{__name__}:_worker_app", factory=True, host=host, port=port, workers=workers,
            log_level="info",
        )  # fmt: skip
        return
    app = create_app(
        collection, api_key=api_key, max_request_bytes=max_request_bytes, max_batch=max_batch
    )
    if api_key is None and not _is_loopback(host):
        logger.warning(
            "serving on %s without an API key (allow_unauthenticated): anyone who can reach this "
            "port can add and delete documents", host,
        )  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level="info")


def _check_location(location: str) -> None:
    """Open and close the storage at ``location`` (cheap: no index is built or loaded)."""
    from pathlib import Path

    from ._store import SQLiteStore
    from ._store_pg import PostgresStore, is_dsn

    store = PostgresStore.open(location) if is_dsn(location) else SQLiteStore.open(Path(location))
    store.close()


# The environment variable that hands serve()'s arguments to uvicorn's worker processes.
_WORKER_CONFIG = "EMBEDFORGE_SERVE_CONFIG"


def _worker_app() -> Any:
    """The app of one uvicorn worker process (``serve(..., workers=n)``), from the environment."""
    config = json.loads(os.environ[_WORKER_CONFIG])
    return create_app(**config)


def check_bind(host: str, api_key: str | None, allow_unauthenticated: bool = False) -> None:
    """Refuse to serve a non-loopback ``host`` without an API key unless explicitly allowed.

    Loopback addresses are ``localhost``, ``127.0.0.0/8`` and ``::1``; every
    other address, including ``0.0.0.0``, ``::`` and any host name, is
    reachable from other machines.

    Raises
    ------
    InvalidParameterError
        If ``host`` is not a str, or is not loopback while ``api_key`` is None
        and ``allow_unauthenticated`` is False.
    """
    if not isinstance(host, str) or not host:
        raise InvalidParameterError(f"host must be a non-empty str; got {host!r}")
    check_bool(allow_unauthenticated, "allow_unauthenticated")
    if api_key is None and not allow_unauthenticated and not _is_loopback(host):
        raise InvalidParameterError(
            f"refusing to serve on {host!r} without an API key: anyone who can reach it could "
            "add and delete documents. Set an API key (embedforge serve --api-key-env VAR; "
            "api_key=... in Python), bind 127.0.0.1, or pass --allow-unauthenticated "
            "(allow_unauthenticated=True) if this is meant"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
