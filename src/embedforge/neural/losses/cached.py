"""The gradient cache (Gao et al. 2021): a contrastive loss over a large batch in little memory.

A loss with in-batch negatives (:class:`~.infonce.InfoNCELoss`, possibly inside
:class:`~.matryoshka.MatryoshkaLoss`) needs every embedding of the batch at
once, so the activations of the whole batch would be kept for the backward
pass.  The gradient cache splits the work in three:

1. embed the batch in mini-batches without a graph (no activations kept);
2. compute the loss on those embeddings and its gradient with respect to each
   embedding (cheap: ``(n, dim)`` numbers);
3. during the backward pass, embed each mini-batch again, this time with a
   graph, and back-propagate the cached embedding gradients through it.

Peak memory is that of one mini-batch; the gradient is that of the whole batch
(the random state is replayed, so dropout masks match).  The price is a second
forward pass.

References
----------
Gao, Zhang, Han & Callan (2021). "Scaling Deep Contrastive Learning Batch Size
under Memory Limited Setup", RepL4NLP 2021, arXiv:2101.06983.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ...errors import InvalidParameterError

__all__ = ["GradCacheLoss"]

Embed = Callable[[nn.Module, Any], torch.Tensor]


def _rng_state(device: torch.device | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    cuda = None
    if device is not None and device.type == "cuda":
        cuda = torch.cuda.get_rng_state(device)
    return torch.get_rng_state(), cuda


def _set_rng_state(state: tuple[torch.Tensor, torch.Tensor | None], device) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


class GradCacheLoss(nn.Module):
    """Wrap an embedding loss so that a batch is embedded ``mini_batch_size`` inputs at a time.

    Parameters
    ----------
    loss : nn.Module
        ``loss(*embeddings, *extra) -> scalar``, e.g. ``InfoNCELoss()`` (the
        cached multiple-negatives ranking loss) or ``MatryoshkaLoss(InfoNCELoss(), dims)``.
    embed : callable
        ``embed(model, inputs) -> (len(inputs), dim) tensor``: embeds a slice of
        one input column (a list of texts, a tensor ...).
    mini_batch_size : int, default 32
        Inputs embedded at a time.

    Notes
    -----
    ``forward(model, *columns, extra=())``: each column is a sliceable sequence
    of inputs (the anchors, the positives, the hard negatives), embedded by
    ``embed`` and passed in that order to ``loss``, followed by ``extra``
    (tensors such as scores).  Under ``torch.no_grad`` it only computes the loss.
    The parameters of ``loss`` itself (a learned temperature) receive their
    gradient when ``forward`` runs, not scaled by the gradient of the output;
    the embedding model's receive theirs during ``backward``, which must be
    called once.  Tested to give the gradients of the plain loss
    (``tests/neural/test_losses.py``).
    """

    def __init__(self, loss: nn.Module, embed: Embed, mini_batch_size: int = 32) -> None:
        super().__init__()
        if isinstance(mini_batch_size, bool) or int(mini_batch_size) != mini_batch_size:
            raise InvalidParameterError(
                f"mini_batch_size must be an int >= 1; got {mini_batch_size!r}"
            )
        if mini_batch_size < 1:
            raise InvalidParameterError(
                f"mini_batch_size must be an int >= 1; got {mini_batch_size!r}"
            )
        self.loss = loss
        self.embed = embed
        self.mini_batch_size = int(mini_batch_size)

    def _slices(self, n: int) -> list[slice]:
        m = self.mini_batch_size
        return [slice(i, min(i + m, n)) for i in range(0, n, m)]

    def forward(
        self, model: nn.Module, *columns: Any, extra: Sequence[torch.Tensor] = ()
    ) -> torch.Tensor:
        if not torch.is_grad_enabled():
            reps = [
                torch.cat([self.embed(model, col[s]) for s in self._slices(len(col))])
                for col in columns
            ]
            return self.loss(*reps, *extra)
        device = next((p.device for p in model.parameters()), None)
        states: list[list[Any]] = []
        reps = []
        with torch.no_grad():
            for col in columns:
                parts, col_states = [], []
                for s in self._slices(len(col)):
                    col_states.append(_rng_state(device))
                    parts.append(self.embed(model, col[s]))
                states.append(col_states)
                reps.append(torch.cat(parts))
        after = _rng_state(device)
        leaves = [r.detach().requires_grad_() for r in reps]
        value = self.loss(*leaves, *extra)
        value.backward()  # the embedding gradients (and the loss's own parameters')
        cache = [leaf.grad for leaf in leaves]
        out = value.detach().requires_grad_()

        def replay(grad_out: torch.Tensor) -> None:
            with torch.enable_grad():
                for col, col_states, grads in zip(columns, states, cache, strict=True):
                    for s, state in zip(self._slices(len(col)), col_states, strict=True):
                        _set_rng_state(state, device)
                        part = self.embed(model, col[s])
                        torch.autograd.backward(part, grads[s] * grad_out)
            _set_rng_state(after, device)

        out.register_hook(replay)
        return out
