"""Intrinsic evaluation of word embeddings: analogies and word similarity."""

from __future__ import annotations

from embedforge.evaluate.analogies import (
    AnalogyQuestion,
    AnalogyResult,
    SectionResult,
    evaluate_analogies,
    read_analogy_questions,
)
from embedforge.evaluate.similarity import (
    SimilarityResult,
    WordPair,
    evaluate_word_similarity,
    read_word_pairs,
)

__all__ = [
    "AnalogyQuestion",
    "AnalogyResult",
    "SectionResult",
    "SimilarityResult",
    "WordPair",
    "evaluate_analogies",
    "evaluate_word_similarity",
    "read_analogy_questions",
    "read_word_pairs",
]
