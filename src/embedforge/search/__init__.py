"""Semantic search: encoders, vector compression and the FAISS vector index."""

from __future__ import annotations

from embedforge.search.collection import Collection, SearchResults
from embedforge.search.encoders import (
    Encoder,
    SentenceTransformerEncoder,
    encoder_spec,
    load_encoder,
    minilm_encoder,
)
from embedforge.search.index import VectorIndex
from embedforge.search.quantize import (
    BinaryQuantizer,
    PCAReducer,
    ScalarQuantizer,
    truncate_and_normalize,
)
from embedforge.search.server import create_app, serve

__all__ = [
    "BinaryQuantizer",
    "Collection",
    "Encoder",
    "PCAReducer",
    "ScalarQuantizer",
    "SearchResults",
    "SentenceTransformerEncoder",
    "VectorIndex",
    "create_app",
    "encoder_spec",
    "load_encoder",
    "minilm_encoder",
    "serve",
    "truncate_and_normalize",
]


def __getattr__(name: str) -> object:
    """``truncate``, the old name of ``truncate_and_normalize`` (deprecated; warns)."""
    if name == "truncate":
        from embedforge.search import quantize

        return quantize.truncate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
