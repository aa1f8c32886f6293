"""Losses for pairs with a gold similarity score: CoSENT and the cosine-similarity (MSE) loss.

Both take ``forward(embeddings1, embeddings2, scores)``: two (n, dim) batches
whose row i forms a pair, and (n,) gold scores (for STS-B, the 0-5 score divided
by 5, so in [0, 1]).  Each formula is tested against a plain Python loop, values
and gradients (``tests/neural/test_losses.py``).

References
----------
Su (2022). "CoSENT: A more efficient sentence vector scheme than
Sentence-BERT", https://kexue.fm/archives/8847.
Reimers & Gurevych (2019). "Sentence-BERT: Sentence Embeddings using Siamese
BERT-Networks", EMNLP 2019, arXiv:1908.10084 (the cosine-similarity regression loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InvalidParameterError

__all__ = ["CoSENTLoss", "CosineSimilarityLoss"]


def _check(a: torch.Tensor, b: torch.Tensor, scores: torch.Tensor) -> None:
    if a.ndim != 2 or a.shape != b.shape or scores.shape != (a.shape[0],):
        raise InvalidParameterError(
            "embeddings1 and embeddings2 must both be (n, dim) and scores (n,); got shapes "
            f"{tuple(a.shape)}, {tuple(b.shape)} and {tuple(scores.shape)}"
        )


class CoSENTLoss(nn.Module):
    """CoSENT: a ranking loss over every two pairs of the batch whose gold scores differ.

    ``loss = log(1 + sum_{(i, j): score_i > score_j} exp(scale * (cos_j - cos_i)))``,
    with ``cos_i`` the cosine similarity of pair i: a pair judged more similar
    must have the higher cosine.  Only the order of the gold scores matters.

    Parameters
    ----------
    scale : float, default 20.0
        Multiplies the cosine differences (Su 2022 and sentence-transformers use 20).
    """

    def __init__(self, scale: float = 20.0) -> None:
        super().__init__()
        self.scale = float(scale)

    def forward(
        self, embeddings1: torch.Tensor, embeddings2: torch.Tensor, scores: torch.Tensor
    ) -> torch.Tensor:
        _check(embeddings1, embeddings2, scores)
        cos = F.cosine_similarity(embeddings1, embeddings2, dim=1) * self.scale
        diff = cos[None, :] - cos[:, None]  # [i, j] = cos_j - cos_i
        keep = scores[:, None] > scores[None, :]  # pairs (i, j) with score_i > score_j
        diff = diff.masked_fill(~keep, float("-inf"))
        zero = torch.zeros(1, dtype=diff.dtype, device=diff.device)
        return torch.logsumexp(torch.cat([zero, diff.reshape(-1)]), dim=0)


class CosineSimilarityLoss(nn.Module):
    """Mean squared error between the cosine similarity of each pair and its gold score.

    ``loss = mean_i (cos(u_i, v_i) - score_i) ** 2``; scores should lie in
    [-1, 1] (STS-B: score / 5).
    """

    def forward(
        self, embeddings1: torch.Tensor, embeddings2: torch.Tensor, scores: torch.Tensor
    ) -> torch.Tensor:
        _check(embeddings1, embeddings2, scores)
        cos = F.cosine_similarity(embeddings1, embeddings2, dim=1)
        return F.mse_loss(cos, scores.to(cos.dtype))
