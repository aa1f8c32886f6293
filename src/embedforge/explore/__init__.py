"""The browser explorer: a WebGL map of saved embeddings with search, neighbours and analogies.

``embedforge explore DIR`` (or :func:`serve`) opens any directory
:func:`embedforge.load` opens in the browser.  :class:`ExplorerData` holds the
answers (no web code); :func:`create_app` wraps them in a FastAPI app that also
serves the static page built once from npm packages (``static/``, sources in
``frontend/``).  FastAPI and uvicorn (the ``explore`` extra) are imported only
when an app is made.
"""

from __future__ import annotations

from ._data import ExplorerData
from .server import STATIC_DIR, create_app, serve

__all__ = ["STATIC_DIR", "ExplorerData", "create_app", "serve"]
