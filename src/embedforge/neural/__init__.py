"""Neural embedding training in PyTorch (the ``torch`` extra).

Importing this package does not import PyTorch: the estimators below import it
when they train or encode, and the modules that need it at import time
(:mod:`.losses`, :mod:`.trainer`, :mod:`.networks`) are imported explicitly.

- :class:`SoftmaxSkipGram`: ``nn.Embedding -> nn.Linear`` word vectors (full softmax,
  negative sampling or sampled softmax), trained with Adam.
- :class:`ImageEncoder`: a small CNN trained with a metric-learning loss;
  ``encode(images, batch_size) -> (n, dim)`` float32 unit rows.
- :class:`DeViSE`: a CNN mapped into a word-vector space with the hinge rank loss
  (zero-shot classification by the nearest label word).
- :class:`DualEncoder`: a CLIP-style image tower and bag-of-word-vectors text tower
  trained with the CLIP loss; :func:`digit_captions` makes captions from templates.
- :class:`SentenceEncoderTrainer`: fine-tunes a sentence-transformers model
  (MiniLM by default) with MNRL / cached MNRL / CoSENT / cosine losses, optional
  Matryoshka dims (over a PCA rotation head, :func:`add_pca_rotation`) and mined
  hard negatives; saves a sentence-transformers directory.
- :mod:`.pairs`: :class:`TrainingPairs`, :func:`read_training_pairs` (JSONL/TSV/CSV,
  ``"scifact"``, ``"stsb"``), :func:`mine_hard_negatives`, :func:`no_duplicates_order`.
- :mod:`.images`: MNIST IDX, ``.npy`` and ImageFolder readers, scikit-learn's 8x8
  digits, the stratified and class-disjoint splits.
- :mod:`.losses`: contrastive, triplet (batch-all / batch-hard / semi-hard),
  normalised softmax, InfoNCE, CLIP, Matryoshka; gathered across processes under DDP.
- :class:`~.trainer.Trainer`: the training loop (schedules, clipping, AMP, early
  stopping, checkpoints and resume, DDP).
"""

from __future__ import annotations

from .image_encoder import ImageEncoder
from .images import (
    class_disjoint_split,
    load_digits_images,
    read_images,
    read_mnist,
    stratified_split,
)
from .pairs import TrainingPairs, mine_hard_negatives, no_duplicates_order, read_training_pairs
from .sentence import SentenceEncoderTrainer, add_pca_rotation
from .skipgram import SoftmaxSkipGram
from .visual_semantic import DeViSE, DualEncoder, digit_captions

__all__ = [
    "DeViSE",
    "DualEncoder",
    "ImageEncoder",
    "SentenceEncoderTrainer",
    "SoftmaxSkipGram",
    "TrainingPairs",
    "add_pca_rotation",
    "class_disjoint_split",
    "digit_captions",
    "load_digits_images",
    "mine_hard_negatives",
    "no_duplicates_order",
    "read_images",
    "read_mnist",
    "read_training_pairs",
    "stratified_split",
]
