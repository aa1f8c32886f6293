"""In-batch negatives across processes: an all_gather whose backward keeps the gradients.

``torch.distributed.all_gather`` returns tensors cut from the graph, so a loss
computed on them trains only through the local rows.  :func:`gather` concatenates
every process's rows in rank order and, on the way back, sums the gradient that
every process computed for each row (an all-reduce) and hands each process the
part of its own rows.  When every process computes the same loss ``L`` on the
gathered batch, process ``s`` receives ``W * dL/dx_s``, and
DistributedDataParallel's average over the ``W`` processes gives exactly
``dL/dtheta``: the same gradient as one process holding the whole batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ["gather", "is_distributed"]


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        world, rank = dist.get_world_size(), dist.get_rank()
        ctx.rank, ctx.n = rank, x.shape[0]
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.n : (ctx.rank + 1) * ctx.n]


def gather(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` from every process, in rank order, differentiable; ``x`` itself outside DDP.

    Every process must pass the same number of rows (the trainer shards each
    global batch evenly).  Integer tensors (labels) are gathered without a graph.

    Parameters
    ----------
    x : (n, ...) tensor

    Returns
    -------
    (world_size * n, ...) tensor
    """
    if not is_distributed():
        return x
    if not x.is_floating_point() or not x.requires_grad:
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)
    return _GatherWithGrad.apply(x)
