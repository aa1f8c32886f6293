"""Neural embedding training in PyTorch (the ``torch`` extra).

Importing this package does not import PyTorch: the estimators below import it
when they train or encode, and the modules that need it at import time
(:mod:`.losses`, :mod:`.trainer`, :mod:`.networks`) are imported explicitly.

- :class:`SoftmaxSkipGram`: ``nn.Embedding -> nn.Linear`` word vectors (full softmax,
  negative sampling or sampled softmax), trained with Adam.
- :mod:`.losses`: contrastive, triplet (batch-all / batch-hard / semi-hard),
  normalised softmax, InfoNCE, CLIP, Matryoshka; gathered across processes under DDP.
- :class:`~.trainer.Trainer`: the training loop (schedules, clipping, AMP, early
  stopping, checkpoints and resume, DDP).
"""

from __future__ import annotations

from .skipgram import SoftmaxSkipGram

__all__ = ["SoftmaxSkipGram"]
