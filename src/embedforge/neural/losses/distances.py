"""Distances between embeddings, the first part of every composed loss.

A distance turns two batches of embeddings into a matrix; whether a larger
value means "closer" (a similarity) or "further" (a distance) is the
distance's own business, so each loss formula is written once in terms of
:meth:`Distance.closeness` (larger is closer) or :meth:`Distance.dissimilarity`
(zero for identical vectors).  The same design as pytorch-metric-learning's
``distances`` module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["CosineSimilarity", "Distance", "DotProductSimilarity", "EuclideanDistance"]


class Distance:
    """Base class: ``distance(x, y)`` is the (n, m) matrix between the rows of x and y.

    Attributes
    ----------
    higher_is_closer : bool
        True for similarities (cosine, dot product), False for distances.
    """

    higher_is_closer: bool = True
    name: str = ""

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The matrix between the rows of ``x`` (n, dim) and ``y`` (m, dim; default ``x``): (n, m)."""
        return self.matrix(x, x if y is None else y)

    def matrix(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def closeness(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` oriented so that larger is closer (a distance is negated)."""
        return values if self.higher_is_closer else -values

    def dissimilarity(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` as a dissimilarity: the distance itself, ``1 - s`` for a cosine, ``-s`` for a dot product."""
        return values if not self.higher_is_closer else -values

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CosineSimilarity(Distance):
    """Cosine similarity: the dot product of the L2-normalised rows, in [-1, 1]."""

    higher_is_closer = True
    name = "cosine"

    def matrix(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) @ F.normalize(y, dim=1).T

    def dissimilarity(self, values: torch.Tensor) -> torch.Tensor:
        return 1.0 - values


class DotProductSimilarity(Distance):
    """The plain dot product (no normalisation)."""

    higher_is_closer = True
    name = "dot"

    def matrix(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x @ y.T


class EuclideanDistance(Distance):
    """Euclidean (L2) distance ``||x_i - y_j||``.

    Computed as ``sqrt(max(|x|^2 + |y|^2 - 2 x.y, eps))``, so the gradient stays
    finite for identical rows (eps = 1e-12, a distance of 1e-6).

    Parameters
    ----------
    normalize : bool, default False
        L2-normalise the rows first (the distance is then in [0, 2]).
    """

    higher_is_closer = False
    name = "euclidean"

    def __init__(self, normalize: bool = False) -> None:
        self.normalize = normalize

    def matrix(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
        squared = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
        return squared.clamp_min(1e-12).sqrt()

    def __repr__(self) -> str:
        return f"EuclideanDistance(normalize={self.normalize})"


_BY_NAME = {"cosine": CosineSimilarity, "dot": DotProductSimilarity, "euclidean": EuclideanDistance}


def as_distance(distance: Distance | str) -> Distance:
    """A Distance from an instance or one of the names ``"cosine"``, ``"dot"``, ``"euclidean"``."""
    if isinstance(distance, Distance):
        return distance
    if isinstance(distance, str) and distance in _BY_NAME:
        return _BY_NAME[distance]()
    from ...errors import InvalidParameterError

    raise InvalidParameterError(
        f"distance must be a Distance or one of {', '.join(map(repr, _BY_NAME))}; got {distance!r}"
    )
