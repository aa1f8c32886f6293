"""Normalised softmax over class proxies (Zhai & Wu 2018)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["NormalizedSoftmaxLoss"]


class NormalizedSoftmaxLoss(nn.Module):
    """Cross-entropy over cosine similarities to one learned proxy per class, divided by a temperature.

    ``loss_i = -log softmax_c(cos(x_i, w_c) / temperature)[y_i]``, averaged over the
    batch.  The proxies ``w`` (n_classes, dim) are parameters of this module: give
    them to the optimiser with the encoder's (the trainer does, when the loss is
    passed as ``loss``).

    Parameters
    ----------
    n_classes : int
    dim : int
    temperature : float, default 0.05

    References
    ----------
    Zhai & Wu (2018). "Classification is a Strong Baseline for Deep Metric
    Learning", BMVC 2019, arXiv:1811.12649.
    """

    def __init__(self, n_classes: int, dim: int, temperature: float = 0.05) -> None:
        super().__init__()
        self.temperature = float(temperature)
        self.proxies = nn.Parameter(torch.empty(n_classes, dim))
        nn.init.normal_(self.proxies, std=1.0 / math.sqrt(dim))

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(n, n_classes) cosine similarities to the proxies over the temperature."""
        return (
            F.normalize(embeddings, dim=1) @ F.normalize(self.proxies, dim=1).T / self.temperature
        )

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.logits(embeddings), labels)
