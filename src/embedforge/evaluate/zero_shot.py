"""Zero-shot classification and cross-modal (image-text) retrieval scores, from arrays.

- :func:`evaluate_zero_shot`: hit@k of class scores (an image's true class among
  its k best-scored classes), separately on classes seen in training and on
  unseen ones; for the unseen images both the generalised setting (ranked
  among all classes) and the conventional one (among the unseen classes only).
- :func:`evaluate_cross_modal_retrieval`: image-to-text and text-to-image
  recall@k, where a result is correct when it belongs to the query's class.

Nothing here imports PyTorch.

References
----------
Frome et al. (2013). "DeViSE: A Deep Visual-Semantic Embedding Model", NeurIPS
2013 (flat hit@k on seen and zero-shot classes).
Xian, Lampert, Schiele & Akata (2018). "Zero-Shot Learning - A Comprehensive
Evaluation of the Good, the Bad and the Ugly", TPAMI, arXiv:1707.00600
(conventional vs generalised zero-shot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._validation import check_ks
from ..errors import InvalidParameterError

__all__ = [
    "CrossModalRetrievalResult",
    "ZeroShotResult",
    "evaluate_cross_modal_retrieval",
    "evaluate_zero_shot",
]


@dataclass(frozen=True)
class ZeroShotResult:
    """Scores of :func:`evaluate_zero_shot`; ``hit[split][k]`` in [0, 1] (NaN when a split is empty).

    ``split`` is ``"seen"`` or ``"unseen"`` (ranked among all classes), or
    ``"unseen_among_unseen"`` (ranked among the unseen classes only);
    ``chance[split][k]`` is the expected hit@k of a random ranking.
    """

    hit: dict[str, dict[int, float]]
    chance: dict[str, dict[int, float]]
    n_images: dict[str, int]
    seen_classes: list[int]
    unseen_classes: list[int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        lines = []
        for split, hits in self.hit.items():
            cells = ", ".join(
                f"hit@{k} {v:.4f} (chance {self.chance[split][k]:.2f})" for k, v in hits.items()
            )
            lines.append(f"{split} ({self.n_images[split]:,} images): {cells}")
        return "\n".join(lines)


def _hits(scores: np.ndarray, labels: np.ndarray, columns: np.ndarray, ks: Sequence[int]):
    """hit@k of ``labels`` ranked among the class ids ``columns`` of ``scores``."""
    if labels.shape[0] == 0:
        return {k: float("nan") for k in ks}
    sub = scores[:, columns]
    true = sub[np.arange(labels.shape[0]), np.searchsorted(columns, labels)]
    # rank = number of classes scored strictly higher (ties count in the image's favour)
    rank = (sub > true[:, None]).sum(1)
    return {k: float(np.mean(rank < k)) for k in ks}


def evaluate_zero_shot(
    scores: Any,
    labels: Any,
    seen_classes: Iterable[int],
    ks: int | Sequence[int] = (1, 2),
) -> ZeroShotResult:
    """Hit@k of class scores on seen and unseen classes.

    Parameters
    ----------
    scores : (n, n_classes) float
        Higher means more likely; column ``c`` is class id ``c``.
    labels : (n,) int
        True class ids in ``0..n_classes-1``.
    seen_classes : iterable of int
        Classes with training images; the other columns are the unseen classes.
    ks : int or sequence of int, default (1, 2)

    Returns
    -------
    ZeroShotResult

    Raises
    ------
    InvalidParameterError
        If the shapes disagree or a label or seen class is not a column.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 2 or y.ndim != 1 or y.shape[0] != s.shape[0] or y.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"scores must be (n, n_classes) and labels (n,) integers; got shapes {s.shape} "
            f"and {y.shape} ({y.dtype})"
        )
    n_classes = s.shape[1]
    seen = np.unique(np.asarray(list(seen_classes), dtype=np.int64))
    if (
        y.size
        and (y.min() < 0 or y.max() >= n_classes)
        or (seen.size and (seen.min() < 0 or seen.max() >= n_classes))
    ):
        raise InvalidParameterError(
            f"labels and seen_classes must be class ids in 0..{n_classes - 1} (the columns of "
            "scores)"
        )
    ks = check_ks(ks)
    unseen = np.setdiff1d(np.arange(n_classes), seen)
    every = np.arange(n_classes)
    is_seen = np.isin(y, seen)
    hit = {
        "seen": _hits(s[is_seen], y[is_seen], every, ks),
        "unseen": _hits(s[~is_seen], y[~is_seen], every, ks),
    }
    chance = {
        "seen": {k: min(1.0, k / n_classes) for k in ks},
        "unseen": {k: min(1.0, k / n_classes) for k in ks},
    }
    n_images = {"seen": int(is_seen.sum()), "unseen": int((~is_seen).sum())}
    if unseen.size >= 2:
        hit["unseen_among_unseen"] = _hits(s[~is_seen], y[~is_seen], unseen, ks)
        chance["unseen_among_unseen"] = {k: min(1.0, k / unseen.size) for k in ks}
        n_images["unseen_among_unseen"] = n_images["unseen"]
    return ZeroShotResult(
        hit=hit,
        chance=chance,
        n_images=n_images,
        seen_classes=seen.tolist(),
        unseen_classes=unseen.tolist(),
    )


@dataclass(frozen=True)
class CrossModalRetrievalResult:
    """Scores of :func:`evaluate_cross_modal_retrieval`: recall@k each way, in [0, 1]."""

    image_to_text: dict[int, float]
    text_to_image: dict[int, float]
    chance_at_1: float
    n_pairs: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        def cells(r: dict[int, float]) -> str:
            return ", ".join(f"R@{k} {v:.4f}" for k, v in r.items())

        return (
            f"image->text {cells(self.image_to_text)}; text->image {cells(self.text_to_image)} "
            f"({self.n_pairs:,} pairs, chance R@1 {self.chance_at_1:.3f})"
        )


def evaluate_cross_modal_retrieval(
    image_vectors: Any,
    text_vectors: Any,
    labels: Any,
    ks: int | Sequence[int] = (1, 5),
) -> CrossModalRetrievalResult:
    """Image-to-text and text-to-image recall@k over held-out (image, caption) pairs.

    Every image queries the distinct captions (rows of ``text_vectors`` that are
    equal count once, with the class of their first pair) and every caption all
    the images, by dot product (cosine for unit rows).  A result is correct when
    it belongs to the query's class (a caption naming the image's digit), so
    recall@k is the fraction of queries with a correct result among their k
    best.  With exactly-paired relevance a caption such as "the digit seven"
    could not tell its own image from the other sevens, and without removing
    repeated captions the k best captions of an image would be k copies of one.

    Parameters
    ----------
    image_vectors : (n, dim) float
    text_vectors : (n, dim) float
        Row ``i`` is the caption of image ``i``.
    labels : (n,) int
        The class of pair ``i``.
    ks : int or sequence of int, default (1, 5)

    Returns
    -------
    CrossModalRetrievalResult

    Raises
    ------
    InvalidParameterError
        If the shapes disagree.
    """
    a = np.asarray(image_vectors, dtype=np.float32)
    b = np.asarray(text_vectors, dtype=np.float32)
    y = np.asarray(labels)
    if a.ndim != 2 or a.shape != b.shape or y.shape != (a.shape[0],) or a.shape[0] == 0:
        raise InvalidParameterError(
            f"image_vectors and text_vectors must both be (n, dim) and labels (n,); got "
            f"{a.shape}, {b.shape} and {y.shape}"
        )
    ks = check_ks(ks)
    top = max(ks)

    def recall(queries: np.ndarray, query_labels: np.ndarray, keys: np.ndarray,
               key_labels: np.ndarray) -> dict[int, float]:  # fmt: skip
        best = np.argsort(-(queries @ keys.T), axis=1, kind="stable")[:, :top]
        correct = key_labels[best] == query_labels[:, None]
        return {k: float(np.mean(correct[:, :k].any(1))) for k in ks}

    _, first = np.unique(b, axis=0, return_index=True)
    first = np.sort(first)

    _, counts = np.unique(y, return_counts=True)
    return CrossModalRetrievalResult(
        image_to_text=recall(a, y, b[first], y[first]),
        text_to_image=recall(b, y, a, y),
        chance_at_1=float(np.sum((counts / y.shape[0]) ** 2)),
        n_pairs=int(a.shape[0]),
    )
