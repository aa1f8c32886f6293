"""Evaluation: word analogies and similarity, retrieval (BEIR), sentence and document similarity,
node classification, link prediction, recommendation, same-class retrieval (metric
learning), zero-shot classification, image-text retrieval and the compression curve (quality
against bytes per vector)."""

from __future__ import annotations

from embedforge.evaluate.analogies import (
    AnalogyQuestion,
    AnalogyResult,
    SectionResult,
    evaluate_analogies,
    read_analogy_questions,
)
from embedforge.evaluate.compression import (
    CompressionCurve,
    CompressionRow,
    compression_curve,
    matryoshka_ladder,
)
from embedforge.evaluate.links import (
    EDGE_OPERATORS,
    LinkPredictionResult,
    edge_features,
    evaluate_link_prediction,
)
from embedforge.evaluate.metric_learning import ClassRetrievalResult, evaluate_class_retrieval
from embedforge.evaluate.nodes import NodeClassificationResult, evaluate_node_classification
from embedforge.evaluate.recommend import RecommendationResult, evaluate_recommendations
from embedforge.evaluate.retrieval import (
    BeirData,
    RetrievalResult,
    evaluate_retrieval,
    read_beir,
    read_corpus,
    read_qrels,
    read_queries,
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
from embedforge.evaluate.zero_shot import (
    CrossModalRetrievalResult,
    ZeroShotResult,
    evaluate_cross_modal_retrieval,
    evaluate_zero_shot,
)

__all__ = [
    "EDGE_OPERATORS",
    "AnalogyQuestion",
    "AnalogyResult",
    "BeirData",
    "ClassRetrievalResult",
    "CompressionCurve",
    "CompressionRow",
    "CrossModalRetrievalResult",
    "LeeData",
    "LinkPredictionResult",
    "NodeClassificationResult",
    "RecommendationResult",
    "RetrievalResult",
    "SectionResult",
    "SentencePairs",
    "SentenceSimilarityResult",
    "SimilarityResult",
    "WordPair",
    "ZeroShotResult",
    "compression_curve",
    "edge_features",
    "evaluate_analogies",
    "evaluate_class_retrieval",
    "evaluate_cross_modal_retrieval",
    "evaluate_lee",
    "evaluate_link_prediction",
    "evaluate_node_classification",
    "evaluate_recommendations",
    "evaluate_retrieval",
    "evaluate_sts",
    "evaluate_word_similarity",
    "matryoshka_ladder",
    "evaluate_zero_shot",
    "read_analogy_questions",
    "read_beir",
    "read_corpus",
    "read_lee",
    "read_qrels",
    "read_queries",
    "read_stsb",
    "read_word_pairs",
    "score_retrieval",
]
