"""Text: corpus readers, vocabulary and word-vector trainers."""

from .corpus import TextCorpus, open_corpus
from .vocabulary import Vocabulary
from .word2vec import Word2Vec

__all__ = ["TextCorpus", "Vocabulary", "Word2Vec", "open_corpus"]
