"""The ``torch.nn.Module`` networks of embedforge.neural (importing this module imports PyTorch).

- :class:`SkipGramNet`: ``nn.Embedding(vocab, dim) -> nn.Linear(dim, vocab)``, the
  classic neural word-embedding model, with three objectives: the full softmax,
  negative sampling and sampled softmax.
- :class:`ConvEncoder`: a small CNN image encoder (conv, batch norm, ReLU, pooling,
  dropout, projection, L2 normalisation).
- :class:`BagOfWordsEncoder`: the mean of a caption's word vectors, a linear
  projection and L2 normalisation (the text tower of the dual encoder).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BagOfWordsEncoder", "ConvEncoder", "SkipGramNet"]


class SkipGramNet(nn.Module):
    """Predict a context word from a centre word: ``logits = Linear(Embedding(centre))``.

    Parameters
    ----------
    n_words : int
    dim : int

    Notes
    -----
    The input embedding has sparse gradients (only the batch's rows change);
    the output layer's weight is looked up sparsely too by the sampled
    objectives.  Inputs start uniform in ``[-0.5/dim, 0.5/dim)`` and outputs at
    zero, as word2vec does.

    References
    ----------
    Mikolov et al. (2013). "Efficient Estimation of Word Representations in
    Vector Space", arXiv:1301.3781 (skip-gram, full softmax).
    Mikolov et al. (2013). "Distributed Representations of Words and Phrases and
    their Compositionality", arXiv:1310.4546 (negative sampling).
    Jean, Cho, Memisevic & Bengio (2015). "On Using Very Large Target Vocabulary
    for Neural Machine Translation", ACL 2015, arXiv:1412.2007 (sampled softmax).
    """

    def __init__(self, n_words: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n_words, dim, sparse=True)
        self.output = nn.Linear(dim, n_words)
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.5 / dim, 0.5 / dim)
            self.output.weight.zero_()
            self.output.bias.zero_()

    def forward(self, centre: torch.Tensor) -> torch.Tensor:
        """(batch, n_words) logits of every context word."""
        return self.output(self.embedding(centre))

    def softmax_loss(self, centre: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over the full vocabulary (nats per pair)."""
        return F.cross_entropy(self(centre), context)

    def negative_sampling_loss(
        self, centre: torch.Tensor, context: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """``-log s(u_c.v + b_c) - sum_k log s(-(u_k.v + b_k))``, mean over pairs; ``noise`` (batch, k)."""
        v = self.embedding(centre)
        rows = torch.cat([context[:, None], noise], dim=1)
        u = F.embedding(rows, self.output.weight, sparse=True)
        logits = torch.bmm(u, v[:, :, None]).squeeze(2) + self.output.bias[rows]
        sign = torch.ones_like(logits)
        sign[:, 1:] = -1.0
        return -F.logsigmoid(sign * logits).sum(1).mean()

    def sampled_softmax_loss(
        self,
        centre: torch.Tensor,
        context: torch.Tensor,
        sampled: torch.Tensor,
        log_q: torch.Tensor,
    ) -> torch.Tensor:
        """Softmax over the true word and ``sampled`` (k,) words shared by the batch, logits
        corrected by ``-log(k q(w))`` (``log_q``: (n_words,) log noise probabilities); sampled
        words equal to the true one are masked out."""
        v = self.embedding(centre)
        rows = torch.cat([context, sampled])
        u = F.embedding(rows, self.output.weight, sparse=True)
        b = self.output.bias[rows]
        k = sampled.shape[0]
        correction = log_q[rows] + torch.log(torch.tensor(float(k)))
        true = (v * u[: len(context)]).sum(1) + b[: len(context)] - correction[: len(context)]
        noise = v @ u[len(context) :].T + b[len(context) :] - correction[len(context) :]
        noise = noise.masked_fill(sampled[None, :] == context[:, None], float("-inf"))
        logits = torch.cat([true[:, None], noise], dim=1)
        return F.cross_entropy(logits, torch.zeros_like(context))


class ConvEncoder(nn.Module):
    """A small CNN: blocks of (conv 3x3, batch norm, ReLU, max-pool 2), average pooling to a
    ``grid`` x ``grid`` map (the layout is kept, whatever the input size), dropout, a linear
    projection to ``dim`` and L2 normalisation.

    Parameters
    ----------
    in_channels : int
    dim : int
        Width of the embedding.
    channels : tuple of int, default (32, 64)
        Output channels of each block.
    dropout : float, default 0.1
    grid : int, default 4
        Side of the pooled feature map fed to the projection (1: global average pooling).
    normalize : bool, default True
        L2-normalise the output rows.

    Input: (n, in_channels, h, w) float32; output: (n, dim).
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        channels: tuple[int, ...] = (32, 64),
        dropout: float = 0.1,
        grid: int = 4,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for out in channels:
            layers += [
                nn.Conv2d(c, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            c = out
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.grid = grid
        self.projection = nn.Linear(c * grid * grid, dim)
        self.normalize = normalize

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.features(images)
        x = torch.flatten(F.adaptive_avg_pool2d(x, self.grid), 1)
        x = self.projection(self.dropout(x))
        return F.normalize(x, dim=1) if self.normalize else x


class BagOfWordsEncoder(nn.Module):
    """A text tower: the mean of the words' vectors, a linear projection to ``dim``, L2 normalisation.

    Parameters
    ----------
    word_vectors : (n_words, word_dim) float32 tensor
        Initial word vectors; row ``n_words`` (the padding row, all zeros) is added.
    dim : int
        Width of the embedding.
    trainable : bool, default True
        Fine-tune the word vectors (False: frozen, only the projection learns).

    Input: (n, max_len) int64 word indices, padded with ``n_words``; output: (n, dim).
    A text without a known word embeds as the normalised projection bias.
    """

    def __init__(self, word_vectors: torch.Tensor, dim: int, trainable: bool = True) -> None:
        super().__init__()
        n_words, word_dim = word_vectors.shape
        self.padding = int(n_words)
        weight = torch.cat([word_vectors.float(), torch.zeros(1, word_dim)])
        self.words = nn.EmbeddingBag(n_words + 1, word_dim, mode="mean", padding_idx=n_words)
        with torch.no_grad():
            self.words.weight.copy_(weight)
        self.words.weight.requires_grad_(bool(trainable))
        self.projection = nn.Linear(word_dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.projection(self.words(tokens)), dim=1)
