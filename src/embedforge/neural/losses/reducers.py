"""Reducers: how a loss turns its per-pair or per-triplet values into one number."""

from __future__ import annotations

import torch

from ...errors import InvalidParameterError

__all__ = ["REDUCERS", "reduce"]

REDUCERS = ("mean", "sum", "mean_nonzero")


def reduce(values: torch.Tensor, reducer: str, anchor: torch.Tensor) -> torch.Tensor:
    """Reduce the per-element losses ``values`` (k,) to a scalar.

    Parameters
    ----------
    values : (k,) tensor
    reducer : {"mean", "sum", "mean_nonzero"}
        ``"mean_nonzero"`` averages over the elements whose loss is above zero
        (Hermans, Beyer & Leibe 2017: averaging over all triplets of batch-all
        mining would wash the few informative ones out).
    anchor : tensor
        Any tensor of the graph; an empty ``values`` (no pair or triplet was
        mined) gives ``0 * anchor.sum()``, a zero that still back-propagates.

    Returns
    -------
    scalar tensor
    """
    if values.numel() == 0:
        return anchor.sum() * 0.0
    if reducer == "mean":
        return values.mean()
    if reducer == "sum":
        return values.sum()
    if reducer == "mean_nonzero":
        n = (values > 0).sum()
        return values.sum() / n.clamp_min(1)
    raise InvalidParameterError(
        f"reducer must be one of {', '.join(map(repr, REDUCERS))}; got {reducer!r}"
    )
