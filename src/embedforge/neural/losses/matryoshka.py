"""The Matryoshka wrapper (Kusupati et al. 2022): one loss applied at nested prefix dimensions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MatryoshkaLoss"]


class MatryoshkaLoss(nn.Module):
    """``sum_k weight_k * loss(embedding[:, :dim_k], ...)``: every prefix trained to work alone.

    Every 2-D floating-point tensor argument whose last dimension is the full
    width is cut to its first ``dim_k`` columns; other arguments (labels) pass
    unchanged.  With a cosine distance the prefix is renormalised inside the
    loss, which is what truncating then renormalising at search time does
    (:func:`embedforge.truncate_and_normalize`).

    Parameters
    ----------
    loss : nn.Module
        Any loss of embeddings (not one holding full-width parameters, such as
        proxies).
    dims : sequence of int
        Prefix widths, e.g. ``(8, 16, 32, 64)``.
    weights : sequence of float, optional
        One per width; default all 1.
    distill : float, default 0.0
        Weight of a self-distillation term: for every width below the full one,
        ``distill * KL(p_full || p_dim)``, where ``p`` is the softmax over each
        row of ``scale * cosine(first argument, second argument)`` (anchors
        against the batch's positives, the in-batch ranking that MNRL trains)
        and ``p_full`` is held fixed (no gradient).  It teaches each prefix to
        rank the batch as the full width does, which is what truncation needs
        to keep; 0 turns it off.
    distill_scale : float, default 20.0
        ``scale`` above (1 / temperature; sentence-transformers' MNRL scale).

    References
    ----------
    Kusupati et al. (2022). "Matryoshka Representation Learning", NeurIPS 2022,
    arXiv:2205.13147.  The distillation term follows the similarity-preservation
    idea of Yoon et al. (2024), "Matryoshka-Adaptor", EMNLP 2024, arXiv:2407.20243,
    and the KL alignment of Li et al. (2024), "2D Matryoshka Sentence Embeddings",
    arXiv:2402.14776.
    """

    def __init__(
        self,
        loss: nn.Module,
        dims: Sequence[int],
        weights: Sequence[float] | None = None,
        distill: float = 0.0,
        distill_scale: float = 20.0,
    ) -> None:
        super().__init__()
        from ...errors import InvalidParameterError

        dims = [int(d) for d in dims]
        weights = [1.0] * len(dims) if weights is None else [float(w) for w in weights]
        if not dims or len(weights) != len(dims) or min(dims) < 1:
            raise InvalidParameterError(
                f"dims must be a non-empty sequence of integers >= 1 and weights one number per "
                f"dim; got dims={dims!r}, weights={weights!r}"
            )
        if not (float(distill) >= 0 and float(distill_scale) > 0):
            raise InvalidParameterError(
                f"distill must be >= 0 and distill_scale > 0; got distill={distill!r}, "
                f"distill_scale={distill_scale!r}"
            )
        self.loss = loss
        self.dims = dims
        self.weights = weights
        self.distill = float(distill)
        self.distill_scale = float(distill_scale)

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        full = max(a.shape[-1] for a in [*args, *kwargs.values()] if _is_embedding(a))
        total = None
        for dim, weight in zip(self.dims, self.weights, strict=True):
            cut = [_prefix(a, full, dim) for a in args]
            cut_kw = {k: _prefix(v, full, dim) for k, v in kwargs.items()}
            term = weight * self.loss(*cut, **cut_kw)
            total = term if total is None else total + term
        if self.distill > 0:
            total = total + self.distill * self._distillation(args, full)
        return total  # type: ignore[return-value]

    def _distillation(self, args: Sequence[Any], full: int) -> torch.Tensor:
        """Sum over the widths below ``full`` of KL(full-width softmax || prefix softmax)."""
        pair = [a for a in args if _is_embedding(a) and a.shape[-1] == full][:2]
        if len(pair) < 2:
            from ...errors import InvalidParameterError

            raise InvalidParameterError(
                f"distill needs two embedding arguments (anchors and positives); got {len(pair)}"
            )

        def log_probs(dim: int) -> torch.Tensor:
            a, b = (F.normalize(x[:, :dim], dim=-1) for x in pair)
            return F.log_softmax(self.distill_scale * (a @ b.T), dim=-1)

        with torch.no_grad():
            target = log_probs(full)
        terms = [
            F.kl_div(log_probs(dim), target, log_target=True, reduction="batchmean")
            for dim in self.dims
            if dim < full
        ]
        return torch.stack(terms).sum() if terms else pair[0].new_zeros(())


def _is_embedding(a: Any) -> bool:
    return isinstance(a, torch.Tensor) and a.is_floating_point() and a.ndim == 2


def _prefix(a: Any, full: int, dim: int) -> Any:
    return a[:, :dim] if _is_embedding(a) and a.shape[-1] == full else a
