"""Losses on pairs and triplets of a labelled batch: contrastive and triplet margin.

Each is ``nn.Module(embeddings, labels) -> scalar``, composed of a
:mod:`distance <.distances>`, a :mod:`miner <.miners>` (triplet loss) and a
:mod:`reducer <.reducers>`.  Under DistributedDataParallel the embeddings and
labels of every process are gathered first (:func:`.gather.gather`, with
gradients), so pairs and triplets span the global batch.
"""

from __future__ import annotations

import torch
from torch import nn

from .distances import Distance, as_distance
from .gather import gather
from .miners import Miner, as_miner
from .reducers import REDUCERS, reduce

__all__ = ["ContrastiveLoss", "TripletMarginLoss"]


def _check(embeddings: torch.Tensor, labels: torch.Tensor) -> None:
    from ...errors import InvalidParameterError

    if embeddings.ndim != 2 or labels.ndim != 1 or labels.shape[0] != embeddings.shape[0]:
        raise InvalidParameterError(
            "embeddings must be (n, dim) and labels (n,); got shapes "
            f"{tuple(embeddings.shape)} and {tuple(labels.shape)}"
        )


def _check_reducer(reducer: str) -> str:
    from ...errors import InvalidParameterError

    if reducer not in REDUCERS:
        raise InvalidParameterError(
            f"reducer must be one of {', '.join(map(repr, REDUCERS))}; got {reducer!r}"
        )
    return reducer


class ContrastiveLoss(nn.Module):
    """The contrastive loss of Hadsell, Chopra & LeCun (2006), over every pair of the batch.

    For dissimilarity ``D`` (:meth:`Distance.dissimilarity`: the Euclidean
    distance, or ``1 - cos``), a pair of the same label costs
    ``0.5 * max(0, D - pos_margin)^2`` and a pair of different labels
    ``0.5 * max(0, neg_margin - D)^2``; ``pos_margin = 0`` is the paper's form.
    Every ordered pair ``(i, j)``, ``i != j``, counts once.

    Parameters
    ----------
    distance : Distance or {"euclidean", "cosine", "dot"}, default "euclidean"
    pos_margin : float, default 0.0
    neg_margin : float, default 1.0
        The paper's ``m``.
    reducer : {"mean", "sum", "mean_nonzero"}, default "mean"

    References
    ----------
    Hadsell, Chopra & LeCun (2006). "Dimensionality Reduction by Learning an
    Invariant Mapping", CVPR 2006.
    """

    def __init__(
        self,
        distance: Distance | str = "euclidean",
        pos_margin: float = 0.0,
        neg_margin: float = 1.0,
        reducer: str = "mean",
    ) -> None:
        super().__init__()
        self.distance = as_distance(distance)
        self.pos_margin = float(pos_margin)
        self.neg_margin = float(neg_margin)
        self.reducer = _check_reducer(reducer)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check(embeddings, labels)
        embeddings, labels = gather(embeddings), gather(labels)
        d = self.distance.dissimilarity(self.distance(embeddings))
        same = labels[:, None] == labels[None, :]
        off = ~torch.eye(labels.shape[0], dtype=torch.bool, device=labels.device)
        pos = 0.5 * torch.relu(d[same & off] - self.pos_margin) ** 2
        neg = 0.5 * torch.relu(self.neg_margin - d[~same]) ** 2
        return reduce(torch.cat([pos, neg]), self.reducer, embeddings)


class TripletMarginLoss(nn.Module):
    """Triplet margin loss ``max(0, margin - (c(a, p) - c(a, n)))`` on mined triplets.

    With closeness ``c`` (:meth:`Distance.closeness`) this is
    ``max(0, d(a, p) - d(a, n) + margin)`` for a distance and
    ``max(0, s(a, n) - s(a, p) + margin)`` for a similarity.

    Parameters
    ----------
    margin : float, default 0.2
    distance : Distance or {"cosine", "euclidean", "dot"}, default "cosine"
    miner : Miner or {"batch_all", "batch_hard", "semihard"} or None
        None: every valid triplet (batch-all).  ``"semihard"`` uses ``margin``.
    reducer : {"mean_nonzero", "mean", "sum"}, default "mean_nonzero"
        The mean over triplets with a positive loss (Hermans et al. 2017).

    References
    ----------
    Weinberger & Saul (2009). "Distance Metric Learning for Large Margin
    Nearest Neighbor Classification", JMLR 10.
    Schroff, Kalenichenko & Philbin (2015). "FaceNet", arXiv:1503.03832.
    Hermans, Beyer & Leibe (2017). "In Defense of the Triplet Loss for Person
    Re-Identification", arXiv:1703.07737.
    """

    def __init__(
        self,
        margin: float = 0.2,
        distance: Distance | str = "cosine",
        miner: Miner | str | None = None,
        reducer: str = "mean_nonzero",
    ) -> None:
        super().__init__()
        self.margin = float(margin)
        self.distance = as_distance(distance)
        self.miner = as_miner(miner, self.margin)
        self.reducer = _check_reducer(reducer)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check(embeddings, labels)
        embeddings, labels = gather(embeddings), gather(labels)
        closeness = self.distance.closeness(self.distance(embeddings))
        with torch.no_grad():
            a, p, n = self.miner(closeness.detach(), labels)
        values = torch.relu(self.margin - (closeness[a, p] - closeness[a, n]))
        return reduce(values, self.reducer, embeddings)
