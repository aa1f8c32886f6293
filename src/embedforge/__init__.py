"""embedforge: train, evaluate, compress, index and audit embeddings."""

from ._registry import load
from .datasets import fetch as fetch_dataset
from .datasets import list_datasets
from .embeddings import Embeddings
from .encoders import Encoder
from .errors import (
    ConnectionLostError,
    CorpusError,
    DatasetError,
    DuplicateKeyError,
    EmbedforgeError,
    FormatError,
    InvalidParameterError,
    MissingDependencyError,
    NotFittedError,
    UnknownKeyError,
)
from .evaluate import (
    AnalogyResult,
    RetrievalResult,
    SentenceSimilarityResult,
    SimilarityResult,
    evaluate_analogies,
    evaluate_lee,
    evaluate_link_prediction,
    evaluate_node_classification,
    evaluate_recommendations,
    evaluate_retrieval,
    evaluate_sts,
    evaluate_word_similarity,
    read_beir,
    read_stsb,
    score_retrieval,
)
from .graph import DeepWalk, Graph, Node2Vec
from .neural import SoftmaxSkipGram
from .recommend import ALS, BPR, Interactions, read_interactions
from .search import (
    BinaryQuantizer,
    Collection,
    PCAReducer,
    ScalarQuantizer,
    SearchResults,
    SentenceTransformerEncoder,
    VectorIndex,
    encoder_spec,
    load_encoder,
    minilm_encoder,
    truncate_and_normalize,
)
from .text.classic import LSA, RandomProjection, TfIdf
from .text.cooccurrence import Cooccurrence
from .text.corpus import TextCorpus, open_corpus
from .text.documents import Document, iter_document_batches, iter_documents
from .text.docvectors import MeanEncoder, SIFEncoder
from .text.fasttext import FastText, FastTextVectors
from .text.glove import GloVe
from .text.vocabulary import Vocabulary
from .text.word2vec import Word2Vec

__version__ = "0.1.0"

__all__ = [
    "ALS",
    "AnalogyResult",
    "BPR",
    "BinaryQuantizer",
    "Collection",
    "ConnectionLostError",
    "Cooccurrence",
    "CorpusError",
    "DatasetError",
    "DeepWalk",
    "Document",
    "DuplicateKeyError",
    "Embeddings",
    "EmbedforgeError",
    "Encoder",
    "FastText",
    "FastTextVectors",
    "FormatError",
    "GloVe",
    "Graph",
    "Interactions",
    "InvalidParameterError",
    "LSA",
    "MeanEncoder",
    "MissingDependencyError",
    "Node2Vec",
    "NotFittedError",
    "PCAReducer",
    "RandomProjection",
    "RetrievalResult",
    "SIFEncoder",
    "ScalarQuantizer",
    "SearchResults",
    "SentenceSimilarityResult",
    "SentenceTransformerEncoder",
    "SimilarityResult",
    "SoftmaxSkipGram",
    "TextCorpus",
    "TfIdf",
    "UnknownKeyError",
    "VectorIndex",
    "Vocabulary",
    "Word2Vec",
    "__version__",
    "encoder_spec",
    "evaluate_analogies",
    "evaluate_lee",
    "evaluate_link_prediction",
    "evaluate_node_classification",
    "evaluate_recommendations",
    "evaluate_retrieval",
    "evaluate_sts",
    "evaluate_word_similarity",
    "fetch_dataset",
    "iter_document_batches",
    "iter_documents",
    "list_datasets",
    "load",
    "load_encoder",
    "minilm_encoder",
    "open_corpus",
    "read_beir",
    "read_interactions",
    "read_stsb",
    "score_retrieval",
    "truncate_and_normalize",
]


def __getattr__(name: str) -> object:
    """``truncate``, the old name of ``truncate_and_normalize`` (deprecated; warns)."""
    if name == "truncate":
        from embedforge.search import quantize

        return quantize.truncate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
