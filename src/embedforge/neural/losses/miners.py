"""Triplet miners: which (anchor, positive, negative) triplets of a batch a loss trains on.

A miner reads the batch's closeness matrix (larger is closer, computed without
a graph) and the labels, and returns index triplets; the loss then computes its
formula on those triplets only.  All three return ``(a, p, n)``, three int64
tensors of equal length (possibly empty).

References
----------
Hermans, Beyer & Leibe (2017). "In Defense of the Triplet Loss for Person
Re-Identification", arXiv:1703.07737 (batch-all, batch-hard).
Schroff, Kalenichenko & Philbin (2015). "FaceNet: A Unified Embedding for Face
Recognition and Clustering", CVPR 2015, arXiv:1503.03832 (semi-hard).
"""

from __future__ import annotations

import torch

from ...errors import InvalidParameterError

__all__ = ["MINERS", "BatchAllMiner", "BatchHardMiner", "Miner", "SemiHardMiner", "as_miner"]

_BLOCK_ELEMENTS = 1 << 20  # (anchor, positive, negative) cells per block of the semi-hard mask


def _masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(labels.shape[0], dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def all_triplets(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every valid triplet: ``labels[a] == labels[p]``, ``a != p``, ``labels[n] != labels[a]``."""
    positive, negative = _masks(labels)
    valid = positive[:, :, None] & negative[:, None, :]
    a, p, n = torch.nonzero(valid, as_tuple=True)
    return a, p, n


class Miner:
    """Base class: ``miner(closeness, labels) -> (a, p, n)``."""

    name = ""

    def __call__(
        self, closeness: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class BatchAllMiner(Miner):
    """Every valid triplet of the batch (Hermans et al. 2017, "batch all")."""

    name = "batch_all"

    def __call__(self, closeness, labels):
        return all_triplets(labels)


class BatchHardMiner(Miner):
    """For each anchor, its furthest positive and its closest negative (Hermans et al. 2017).

    Anchors without a positive or without a negative in the batch are skipped.
    """

    name = "batch_hard"

    def __call__(self, closeness, labels):
        positive, negative = _masks(labels)
        keep = positive.any(1) & negative.any(1)
        inf = torch.finfo(closeness.dtype).max
        hardest_p = closeness.masked_fill(~positive, inf).argmin(1)
        hardest_n = closeness.masked_fill(~negative, -inf).argmax(1)
        a = torch.nonzero(keep, as_tuple=True)[0]
        return a, hardest_p[a], hardest_n[a]


class SemiHardMiner(Miner):
    """Triplets whose negative is further than the positive but within the margin (Schroff et al. 2015).

    Keeps ``(a, p, n)`` with ``c(a, n) < c(a, p) < c(a, n) + margin`` for closeness
    ``c`` (for a distance: ``d(a, p) < d(a, n) < d(a, p) + margin``): every semi-hard
    triplet, as pytorch-metric-learning's ``TripletMarginMiner(type_of_triplets="semihard")``
    returns them.

    Parameters
    ----------
    margin : float, default 0.2
        Should equal the triplet loss's margin.
    """

    name = "semihard"

    def __init__(self, margin: float = 0.2) -> None:
        self.margin = margin

    def __call__(self, closeness, labels):
        # Blocks of anchors, each a (block, B, B) mask of its semi-hard (p, n): the same
        # triplets as filtering all_triplets(labels), without materialising every valid
        # triplet's indices first (2.2x faster at B = 256 on a CPU).
        positive, negative = _masks(labels)
        size = closeness.shape[0]
        step = max(1, _BLOCK_ELEMENTS // max(1, size * size))
        found = []
        for lo in range(0, size, step):
            block = closeness[lo : lo + step]
            gap = block[:, :, None] - block[:, None, :]
            keep = (gap > 0) & (gap < self.margin)
            keep &= positive[lo : lo + step, :, None]
            keep &= negative[lo : lo + step, None, :]
            a, p, n = torch.nonzero(keep, as_tuple=True)
            found.append((a + lo, p, n))
        if not found:
            empty = torch.zeros(0, dtype=torch.long, device=closeness.device)
            return empty, empty, empty
        a, p, n = (torch.cat(parts) for parts in zip(*found, strict=True))
        return a, p, n

    def __repr__(self) -> str:
        return f"SemiHardMiner(margin={self.margin})"


MINERS = {"batch_all": BatchAllMiner, "batch_hard": BatchHardMiner, "semihard": SemiHardMiner}


def as_miner(miner: Miner | str | None, margin: float) -> Miner:
    """A Miner from an instance, None (batch-all) or a name in :data:`MINERS`."""
    if miner is None:
        return BatchAllMiner()
    if isinstance(miner, Miner):
        return miner
    if isinstance(miner, str) and miner in MINERS:
        return SemiHardMiner(margin) if miner == "semihard" else MINERS[miner]()
    raise InvalidParameterError(
        f"miner must be a Miner, None or one of {', '.join(map(repr, MINERS))}; got {miner!r}"
    )
