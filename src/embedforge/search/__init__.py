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
from embedforge.search.quantize import BinaryQuantizer, PCAReducer, ScalarQuantizer, truncate
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
    "truncate",
]
