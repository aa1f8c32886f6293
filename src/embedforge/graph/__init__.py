"""Graphs and their node embeddings: Graph (CSR), DeepWalk, Node2Vec, and the graph data sets."""

from ._datasets import LabelledGraph, read_blogcatalog, read_cora
from ._graph import Graph, read_labels
from .walkers import DeepWalk, Node2Vec

__all__ = [
    "DeepWalk",
    "Graph",
    "LabelledGraph",
    "Node2Vec",
    "read_blogcatalog",
    "read_cora",
    "read_labels",
]
