"""embedforge: train, evaluate, compress, index and audit embeddings."""

from .datasets import fetch as fetch_dataset
from .datasets import list_datasets
from .embeddings import Embeddings
from .errors import (
    CorpusError,
    DatasetError,
    EmbedforgeError,
    FormatError,
    InvalidParameterError,
    MissingDependencyError,
    NotFittedError,
    UnknownKeyError,
)
from .evaluate import (
    AnalogyResult,
    SimilarityResult,
    evaluate_analogies,
    evaluate_word_similarity,
)
from .text.corpus import TextCorpus, open_corpus
from .text.vocabulary import Vocabulary
from .text.word2vec import Word2Vec

__version__ = "0.1.0"

__all__ = [
    "AnalogyResult",
    "CorpusError",
    "DatasetError",
    "Embeddings",
    "EmbedforgeError",
    "FormatError",
    "InvalidParameterError",
    "MissingDependencyError",
    "NotFittedError",
    "SimilarityResult",
    "TextCorpus",
    "UnknownKeyError",
    "Vocabulary",
    "Word2Vec",
    "__version__",
    "evaluate_analogies",
    "evaluate_word_similarity",
    "fetch_dataset",
    "list_datasets",
    "open_corpus",
]
