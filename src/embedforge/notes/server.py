"""The HTTP API of a vault: the collection's routes plus ``/notes/related``, ``/notes/search``.

:func:`create_notes_app` builds the collection app of
:func:`embedforge.search.server.create_app` over the vault's chunk
collection (same limits, errors and API key) and mounts a router with the
notes routes:

- ``GET /notes/related?note=ID&k=5&min_score=&exclude_linked=false``:
  ``{"results": [{"note": id, "related": [{"note", "score", "passage"}]}]}``
  (every note when ``note`` is omitted), the JSON of
  ``embedforge notes related --json``;
- ``POST /notes/search`` with ``{"query": text, "k": 10}``:
  ``{"results": [{"note", "score", "passage"}]}``;
- ``POST /notes/index`` (needs the API key when one is set): brings the
  index up to date and returns the :class:`~embedforge.notes.IndexReport`.

Like :mod:`embedforge.search.server`, this module does not use
``from __future__ import annotations`` (FastAPI reads the annotations).
"""

import hmac
import os
from typing import Any

from ..search.server import MAX_BATCH, MAX_REQUEST_BYTES, create_app
from .vault import NoteVault

__all__ = ["create_notes_app", "notes_router"]


def notes_router(vault: NoteVault, api_key: str | None = None) -> Any:
    """A FastAPI ``APIRouter`` with the notes routes over ``vault`` (see the module docstring)."""
    from fastapi import APIRouter, Header, HTTPException, Query
    from pydantic import BaseModel, ConfigDict, Field

    class SearchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        query: str = Field(min_length=1, description="The text to search the notes for.")
        k: int = Field(10, ge=1, le=1000, description="Notes to return.")

    router = APIRouter(prefix="/notes", tags=["notes"])

    @router.get("/related", summary="Related notes of one note or of every note")
    def related(
        note: str | None = Query(None, description="Note id (path relative to the vault)."),
        k: int = Query(5, ge=1, le=1000),
        min_score: float | None = Query(None),
        exclude_linked: bool = Query(False),
    ) -> Any:
        found = vault.related(note, k, min_score=min_score, exclude_linked=exclude_linked)
        return {"results": [r.to_dict() for r in found]}

    @router.post("/search", summary="Notes matching a query")
    def search(request: SearchRequest) -> Any:
        return {"results": [r.to_dict() for r in vault.search(request.query, request.k)]}

    @router.post("/index", summary="Bring the index up to date with the folder")
    def index(x_api_key: str | None = Header(None)) -> Any:
        if api_key is not None and (
            x_api_key is None or not hmac.compare_digest(x_api_key.encode(), api_key.encode())
        ):
            raise HTTPException(
                status_code=401,
                detail="this endpoint needs the X-API-Key header with the server's API key",
            )
        return vault.index().to_dict()

    return router


def create_notes_app(
    vault: NoteVault | str | os.PathLike[str],
    api_key: str | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_batch: int = MAX_BATCH,
) -> Any:
    """A FastAPI app serving a vault: the collection routes and the notes routes.

    Parameters
    ----------
    vault : NoteVault, str or os.PathLike
        An indexed vault, or its folder (the index at ``VAULT/.embedforge``).
    api_key, max_request_bytes, max_batch
        As for :func:`embedforge.search.server.create_app`.

    Raises
    ------
    InvalidParameterError
        If the vault has no index yet (run ``embedforge notes index VAULT``).
    MissingDependencyError
        If FastAPI is not installed (``pip install "embedforge[server]"``).
    """
    if not isinstance(vault, NoteVault):
        vault = NoteVault(vault)
    app = create_app(
        vault.collection, api_key=api_key, max_request_bytes=max_request_bytes, max_batch=max_batch
    )
    app.include_router(notes_router(vault, api_key=api_key))
    app.state.vault = vault
    return app
