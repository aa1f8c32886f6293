"""The explorer's web app: the static page and its JSON endpoints, served by FastAPI + uvicorn.

The page (``static/``: built once with npm from regl-scatterplot and shipped in
the package; see ``frontend/``) draws the points with WebGL and asks the JSON
endpoints below for everything else.  Every endpoint only reads.

=========================  ===================================================
``GET /api/info``          name, kind, number of keys, dim, projections,
                           metadata columns, whether analogies / documents apply
``GET /api/keys``          every key, in row order
``GET /api/projection``    ``?name=pca-2d``: x, y (and z for a 3-D one, e.g.
                           ``pca-3d``) of every row (computed once and saved
                           in ``DIR/projections`` when missing)
``GET /api/search``        ``?q=..&regex=false&limit=100``: matching rows
``GET /api/neighbors``     ``?key=..&k=10``: ``Embeddings.most_similar(key)``
``GET /api/analogy``       ``?a=..&b=..&c=..&k=10``: a : b :: c : ?
``GET /api/column``        ``?name=..``: a metadata column to colour by
``GET /api/document``      ``?key=..``: a collection document's text
=========================  ===================================================

Errors are ``{"error": message}`` (404 unknown key, 422 invalid request, 401
missing API key).  Loopback by default: a non-loopback bind without an API key
is refused, as for ``embedforge serve`` (:func:`embedforge.search.server.check_bind`);
with a key, every ``/api`` request needs the ``X-API-Key`` header (the page
reads it from the address's ``#key=...`` fragment, which browsers never send).

No ``from __future__ import annotations`` here: FastAPI reads the endpoints'
annotations at run time.
"""

import hmac
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import EmbedforgeError, InvalidParameterError, MissingDependencyError
from ._data import MAX_K, MAX_MATCHES, MAX_PATTERN, ExplorerData

__all__ = ["STATIC_DIR", "create_app", "serve"]

logger = logging.getLogger(__name__)

#: The built page (index.html, explorer.js, explorer.css) and its licences.
STATIC_DIR = Path(__file__).parent / "static"
_HINT = 'pip install "embedforge[explore]"'


def _import_fastapi() -> Any:
    try:
        import fastapi
        import pydantic
    except ImportError as exc:
        raise MissingDependencyError(f"the explorer needs FastAPI and pydantic; {_HINT}") from exc
    return fastapi, pydantic


def _models() -> dict[str, Any]:
    """The response models (built on first use, then reused)."""
    if _MODELS:
        return _MODELS
    _import_fastapi()
    from pydantic import BaseModel, Field

    class ProjectionInfo(BaseModel):
        name: str = Field(description="File stem in DIR/projections, e.g. pca-2d.")
        method: str = Field(description="pca, tsne, umap or the method saved.")
        dim: int = Field(description="2 (flat scatter plot) or 3 (rotatable point cloud).")
        saved: bool = Field(description="Saved already (else computed on first request).")

    class Info(BaseModel):
        name: str
        kind: str = Field(description="Class of the object embedforge.load opened.")
        n: int
        dim: int
        projections: list[ProjectionInfo]
        columns: list[str] = Field(description="Metadata columns to colour by.")
        analogy: bool
        documents: bool
        max_k: int
        max_matches: int
        max_pattern: int

    class Keys(BaseModel):
        keys: list[str]

    class Projection(BaseModel):
        name: str
        dim: int
        x: list[float]
        y: list[float]
        z: list[float] | None = Field(None, description="Third axis of a 3-D projection.")

    class Match(BaseModel):
        key: str
        index: int

    class SearchResult(BaseModel):
        matches: list[Match]
        total: int = Field(description="All matches, of which at most `limit` are listed.")

    class Neighbor(BaseModel):
        key: str
        index: int
        score: float = Field(description="Cosine similarity in the original space.")

    class Neighbors(BaseModel):
        key: str
        index: int
        neighbors: list[Neighbor]

    class Analogy(BaseModel):
        query: list[str] = Field(description="a, b, c of a : b :: c : ?")
        answers: list[Neighbor]

    class Column(BaseModel):
        name: str
        kind: str = Field(description="categorical or continuous.")
        categories: list[str] | None = None
        codes: list[int] | None = None
        values: list[float] | None = None
        low: float | None = None
        high: float | None = None

    class DocumentOut(BaseModel):
        id: str
        text: str
        metadata: dict[str, Any]

    class ErrorResponse(BaseModel):
        error: str

    _MODELS.update(
        (cls.__name__, cls)
        for cls in (
            ProjectionInfo, Info, Keys, Projection, Match, SearchResult, Neighbor, Neighbors,
            Analogy, Column, DocumentOut, ErrorResponse,
        )
    )  # fmt: skip
    return _MODELS


_MODELS: dict[str, Any] = {}


def _status_of(exc: Exception) -> int:
    from ..errors import UnknownKeyError

    if isinstance(exc, UnknownKeyError):
        return 404
    if isinstance(exc, MissingDependencyError):
        return 500
    return 422


def create_app(
    directory: "str | os.PathLike[str] | ExplorerData",
    metadata: "str | os.PathLike[str] | None" = None,
    api_key: "str | None" = None,
) -> Any:
    """The explorer's FastAPI app for the embeddings saved in ``directory``.

    Parameters
    ----------
    directory : str, path-like or ExplorerData
        Any directory :func:`embedforge.load` opens (Embeddings, word /
        document / graph / recommendation model, Collection).
    metadata : str or path-like, optional
        CSV / TSV of per-key fields to colour by (a ``key`` column or the first).
    api_key : str, optional
        When set, every ``/api`` request needs ``X-API-Key: <api_key>``.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    MissingDependencyError
        If FastAPI is not installed (``pip install "embedforge[explore]"``).
    InvalidParameterError
        If ``api_key`` is empty or the directory holds no keyed vectors.
    """
    fastapi, _ = _import_fastapi()
    from fastapi import HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    if api_key is not None and (not isinstance(api_key, str) or not api_key):
        raise InvalidParameterError("api_key must be a non-empty str or None")
    data = directory if isinstance(directory, ExplorerData) else ExplorerData(directory, metadata)
    m = _models()
    app = fastapi.FastAPI(
        title="embedforge explorer",
        description=f"Explore the embeddings saved in {data.directory}.",
        version="1",
        responses={422: {"model": m["ErrorResponse"], "description": "Invalid request"}},
    )
    app.state.data = data

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message})

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "query")
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error(422, "; ".join(parts) or "invalid request")

    @app.exception_handler(EmbedforgeError)
    async def on_embedforge(_: Request, exc: EmbedforgeError) -> JSONResponse:
        return error(_status_of(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def on_http(_: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.middleware("http")
    async def require_key(request: Request, call_next: Any) -> Any:
        if api_key is not None and request.url.path.startswith("/api/"):
            given = request.headers.get("x-api-key")
            if given is None or not hmac.compare_digest(given.encode(), api_key.encode()):
                return error(
                    401,
                    "this explorer needs the X-API-Key header with the server's API key (open "
                    "the page as http://HOST:PORT/#key=KEY)",
                )
        return await call_next(request)

    @app.get("/", include_in_schema=False)
    def index() -> Any:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/info", response_model=m["Info"], summary="What is explored")
    def info() -> Any:
        return {
            "name": data.directory.resolve().name,
            "kind": data.kind,
            "n": len(data.keys),
            "dim": data.embeddings.dim,
            "projections": data.projections(),
            "columns": data.columns(),
            "analogy": data.analogy,
            "documents": data.documents,
            "max_k": MAX_K,
            "max_matches": MAX_MATCHES,
            "max_pattern": MAX_PATTERN,
        }

    @app.get("/api/keys", response_model=m["Keys"], summary="Every key, in row order")
    def keys() -> Any:
        return {"keys": data.keys}

    @app.get("/api/projection", response_model=m["Projection"], summary="2-D or 3-D coordinates")
    def projection(name: str = Query("pca-2d", max_length=200)) -> Any:
        coords = data.coordinates(name)
        axes = "xyz"[: coords.shape[1]]
        return {"name": name, "dim": coords.shape[1]} | {
            a: coords[:, j].tolist() for j, a in enumerate(axes)
        }

    @app.get("/api/search", response_model=m["SearchResult"], summary="Keys by substring or regex")
    def search(
        q: str = Query(min_length=1, max_length=MAX_PATTERN),
        regex: bool = False,
        limit: int = Query(100, ge=1, le=MAX_MATCHES),
    ) -> Any:
        rows, total = data.search(q, regex=regex, limit=limit)
        return {"matches": [{"key": data.keys[i], "index": i} for i in rows], "total": total}

    @app.get("/api/neighbors", response_model=m["Neighbors"], summary="Nearest keys (cosine)")
    def neighbors(key: str, k: int = Query(10, ge=1, le=MAX_K)) -> Any:
        found = data.neighbors(key, k)
        return {
            "key": key,
            "index": data.row(key),
            "neighbors": [{"key": n, "index": data.row(n), "score": s} for n, s in found],
        }

    @app.get("/api/analogy", response_model=m["Analogy"], summary="a : b :: c : ? (3CosAdd)")
    def analogy(a: str, b: str, c: str, k: int = Query(10, ge=1, le=MAX_K)) -> Any:
        found = data.analogy_answers(a, b, c, k)
        return {
            "query": [a, b, c],
            "answers": [{"key": n, "index": data.row(n), "score": s} for n, s in found],
        }

    @app.get("/api/column", response_model=m["Column"], summary="A metadata column to colour by")
    def column(name: str) -> Any:
        return data.column(name)

    @app.get("/api/document", response_model=m["DocumentOut"], summary="A document's text")
    def document(key: str) -> Any:
        return data.document(key)

    return app


def serve(
    directory: "str | os.PathLike[str]",
    host: str = "127.0.0.1",
    port: int = 8765,
    metadata: "str | os.PathLike[str] | None" = None,
    api_key: "str | None" = None,
    *,
    open_browser: bool = True,
    allow_unauthenticated: bool = False,
) -> None:
    """Serve the explorer for ``directory`` with uvicorn until interrupted.

    Binds 127.0.0.1 by default; another address without ``api_key`` is
    refused unless ``allow_unauthenticated`` (see
    :func:`embedforge.search.server.check_bind`).  With ``open_browser`` the
    default browser is pointed at the page once the server listens.

    Raises
    ------
    InvalidParameterError
        If the bind is refused or ``port`` is not in 0..65535.
    MissingDependencyError
        If FastAPI or uvicorn is not installed.
    """
    from ..search.server import check_bind

    check_bind(host, api_key, allow_unauthenticated)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidParameterError(f"port must be an integer in 0..65535; got {port!r}")
    try:
        import uvicorn
    except ImportError as exc:
        raise MissingDependencyError(f"the explorer needs uvicorn; {_HINT}") from exc
    app = create_app(directory, metadata=metadata, api_key=api_key)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + ("" if api_key is None else "#key=" + api_key)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    logger.warning("embedforge explorer: open %s", url.split("#")[0])
    uvicorn.run(app, host=host, port=port, log_level="warning")
