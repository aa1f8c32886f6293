"""Text: corpus readers, vocabulary and word-vector trainers."""

from .classic import LSA, RandomProjection, TfIdf
from .cooccurrence import Cooccurrence
from .corpus import TextCorpus, open_corpus
from .documents import Document, iter_document_batches, iter_documents
from .docvectors import MeanEncoder, SIFEncoder
from .fasttext import FastText, FastTextVectors
from .glove import GloVe
from .vocabulary import Vocabulary
from .word2vec import Word2Vec

__all__ = [
    "Cooccurrence",
    "Document",
    "FastText",
    "FastTextVectors",
    "GloVe",
    "LSA",
    "MeanEncoder",
    "RandomProjection",
    "SIFEncoder",
    "TextCorpus",
    "TfIdf",
    "Vocabulary",
    "Word2Vec",
    "iter_document_batches",
    "iter_documents",
    "open_corpus",
]
