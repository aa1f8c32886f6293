"""InfoNCE / multiple-negatives ranking and the CLIP loss: one formula, in-batch negatives.

For anchors ``a`` (n, dim) and candidates ``b`` (m >= n, dim) whose first n rows
are the anchors' positives (the rest: extra hard negatives),
``loss = mean_i -log softmax_j(scale * s(a_i, b_j))[i]`` with ``scale = 1 / temperature``;
the symmetric form averages it with the same loss from ``b[:n]`` to ``a``.
Under DistributedDataParallel all rows are gathered first (with gradients),
so every process's rows are negatives of every anchor.

References
----------
van den Oord, Li & Vinyals (2018). "Representation Learning with Contrastive
Predictive Coding", arXiv:1807.03748 (InfoNCE).
Henderson et al. (2017). "Efficient Natural Language Response Suggestion for
Smart Reply", arXiv:1705.00652 (multiple negatives ranking).
Radford et al. (2021). "Learning Transferable Visual Models From Natural
Language Supervision", ICML 2021, arXiv:2103.00020 (CLIP).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .distances import Distance, as_distance
from .gather import gather

__all__ = ["CLIPLoss", "InfoNCELoss"]


class InfoNCELoss(nn.Module):
    """InfoNCE, also called multiple-negatives ranking loss, with a temperature and a symmetric option.

    Parameters
    ----------
    temperature : float, default 0.05
        Logits are ``similarity / temperature`` (sentence-transformers' scale 20).
    symmetric : bool, default False
        Also rank the anchors for each positive, and average the two directions.
    distance : Distance or {"cosine", "dot", "euclidean"}, default "cosine"
    learn_temperature : bool, default False
        Learn ``log(1 / temperature)`` (CLIP); the scale is clipped at ``max_scale``.
    max_scale : float, default 100.0

    Notes
    -----
    ``forward(anchors, positives, negatives=None)``: ``anchors`` and
    ``positives`` (n, dim), row i of each a matching pair; ``negatives``
    (k, dim) extra candidates for every anchor.
    """

    def __init__(
        self,
        temperature: float = 0.05,
        symmetric: bool = False,
        distance: Distance | str = "cosine",
        learn_temperature: bool = False,
        max_scale: float = 100.0,
    ) -> None:
        super().__init__()
        self.distance = as_distance(distance)
        self.symmetric = bool(symmetric)
        self.max_scale = float(max_scale)
        log_scale = torch.tensor(math.log(1.0 / float(temperature)))
        if learn_temperature:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    @property
    def scale(self) -> torch.Tensor:
        """``1 / temperature``, clipped at ``max_scale``."""
        return self.log_scale.exp().clamp(max=self.max_scale)

    def forward(
        self,
        anchors: torch.Tensor,
        positives: torch.Tensor,
        negatives: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if anchors.shape != positives.shape or anchors.ndim != 2:
            from ...errors import InvalidParameterError

            raise InvalidParameterError(
                "anchors and positives must both be (n, dim); got shapes "
                f"{tuple(anchors.shape)} and {tuple(positives.shape)}"
            )
        anchors, positives = gather(anchors), gather(positives)
        candidates = positives if negatives is None else torch.cat([positives, gather(negatives)])
        scale = self.scale
        logits = scale * self.distance.closeness(self.distance(anchors, candidates))
        target = torch.arange(anchors.shape[0], device=anchors.device)
        loss = F.cross_entropy(logits, target)
        if self.symmetric:
            back = scale * self.distance.closeness(self.distance(positives, anchors))
            loss = 0.5 * (loss + F.cross_entropy(back, target))
        return loss


class CLIPLoss(InfoNCELoss):
    """The CLIP loss (Radford et al. 2021): symmetric InfoNCE with a learned temperature.

    Cosine similarity, ``log(1 / temperature)`` learned from 1 / 0.07 and the scale
    clipped at 100, as the paper does.  ``forward(image_embeddings, text_embeddings)``.
    """

    def __init__(self, temperature: float = 0.07, max_scale: float = 100.0) -> None:
        super().__init__(
            temperature=temperature,
            symmetric=True,
            distance="cosine",
            learn_temperature=True,
            max_scale=max_scale,
        )
