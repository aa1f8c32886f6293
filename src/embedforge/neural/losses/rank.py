"""The hinge rank loss of DeViSE: the true label's vector must beat every other label's by a margin.

For an output ``v`` (dim,) of an image with label ``y`` and label vectors
``t`` (n_labels, dim),
``loss = sum_{j != y} max(0, margin - t_y . v + t_j . v)``
(a sum over the wrong labels, as in the paper), averaged over the batch.
The similarity is the dot product: the paper's label vectors are unit length
and the image's output is not normalised.

References
----------
Frome, Corrado, Shlens, Bengio, Dean, Ranzato & Mikolov (2013). "DeViSE: A
Deep Visual-Semantic Embedding Model", NeurIPS 2013 (equation 1).
Weston, Bengio & Usunier (2011). "WSABIE: Scaling Up to Large Vocabulary
Image Annotation", IJCAI 2011 (the ranking hinge it adapts).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["HingeRankLoss"]


class HingeRankLoss(nn.Module):
    """DeViSE's hinge rank loss, summed over the wrong labels and averaged over the batch.

    Parameters
    ----------
    margin : float, default 0.1
        The paper's margin.

    Notes
    -----
    ``forward(outputs, labels, label_vectors)``: ``outputs`` (n, dim) float,
    ``labels`` (n,) int64 row indices into ``label_vectors`` (n_labels, dim).
    Returns a scalar tensor.
    """

    def __init__(self, margin: float = 0.1) -> None:
        super().__init__()
        self.margin = float(margin)

    def forward(
        self, outputs: torch.Tensor, labels: torch.Tensor, label_vectors: torch.Tensor
    ) -> torch.Tensor:
        if (
            outputs.ndim != 2
            or label_vectors.ndim != 2
            or outputs.shape[1] != label_vectors.shape[1]
        ):
            from ...errors import InvalidParameterError

            raise InvalidParameterError(
                "outputs (n, dim) and label_vectors (n_labels, dim) must share dim; got shapes "
                f"{tuple(outputs.shape)} and {tuple(label_vectors.shape)}"
            )
        scores = outputs @ label_vectors.T  # (n, n_labels)
        true = scores.gather(1, labels[:, None])
        hinge = torch.relu(self.margin - true + scores)
        wrong = torch.ones_like(hinge, dtype=torch.bool).scatter_(1, labels[:, None], False)
        return (hinge * wrong).sum(1).mean()
