"""Evaluation: word analogies and similarity, retrieval (BEIR), sentence and document similarity."""

from __future__ import annotations

from embedforge.evaluate.analogies import (
    AnalogyQuestion,
    AnalogyResult,
    SectionResult,
    evaluate_analogies,
    read_analogy_questions,
)
from embedforge.evaluate.retrieval import (
    BeirData,
    RetrievalResult,
    evaluate_retrieval,
    read_beir,
    read_qrels,
    score_retrieval,
)
from embedforge.evaluate.similarity import (
    SimilarityResult,
    WordPair,
    evaluate_word_similarity,
    read_word_pairs,
)
from embedforge.evaluate.sts import (
    LeeData,
    SentencePairs,
    SentenceSimilarityResult,
    evaluate_lee,
    evaluate_sts,
    read_lee,
    read_stsb,
)

__all__ = [
    "AnalogyQuestion",
    "AnalogyResult",
    "BeirData",
    "LeeData",
    "RetrievalResult",
    "SectionResult",
    "SentencePairs",
    "SentenceSimilarityResult",
    "SimilarityResult",
    "WordPair",
    "evaluate_analogies",
    "evaluate_lee",
    "evaluate_retrieval",
    "evaluate_sts",
    "evaluate_word_similarity",
    "read_analogy_questions",
    "read_beir",
    "read_lee",
    "read_qrels",
    "read_stsb",
    "read_word_pairs",
    "score_retrieval",
]
