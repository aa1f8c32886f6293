"""The Matryoshka wrapper (Kusupati et al. 2022): one loss applied at nested prefix dimensions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
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

    References
    ----------
    Kusupati et al. (2022). "Matryoshka Representation Learning", NeurIPS 2022,
    arXiv:2205.13147.
    """

    def __init__(
        self, loss: nn.Module, dims: Sequence[int], weights: Sequence[float] | None = None
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
        self.loss = loss
        self.dims = dims
        self.weights = weights

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        full = max(a.shape[-1] for a in [*args, *kwargs.values()] if _is_embedding(a))
        total = None
        for dim, weight in zip(self.dims, self.weights, strict=True):
            cut = [_prefix(a, full, dim) for a in args]
            cut_kw = {k: _prefix(v, full, dim) for k, v in kwargs.items()}
            term = weight * self.loss(*cut, **cut_kw)
            total = term if total is None else total + term
        return total  # type: ignore[return-value]


def _is_embedding(a: Any) -> bool:
    return isinstance(a, torch.Tensor) and a.is_floating_point() and a.ndim == 2


def _prefix(a: Any, full: int, dim: int) -> Any:
    return a[:, :dim] if _is_embedding(a) and a.shape[-1] == full else a
