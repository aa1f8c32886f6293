"""Losses for training embeddings, each composed of a distance, an optional miner and a reducer.

Every formula is written once (the design of pytorch-metric-learning) and
tested against a plain Python loop, values and gradients
(``tests/neural/test_losses.py``).  Importing this package imports PyTorch.

- :class:`ContrastiveLoss` (Hadsell, Chopra & LeCun 2006)
- :class:`TripletMarginLoss` with :class:`BatchAllMiner`, :class:`BatchHardMiner`
  (Hermans et al. 2017) and :class:`SemiHardMiner` (Schroff et al. 2015)
- :class:`NormalizedSoftmaxLoss` over class proxies (Zhai & Wu 2018)
- :class:`InfoNCELoss` / multiple-negatives ranking (van den Oord et al. 2018;
  Henderson et al. 2017) and :class:`CLIPLoss` (Radford et al. 2021)
- :class:`MatryoshkaLoss` (Kusupati et al. 2022)
- :class:`HingeRankLoss`: DeViSE's hinge rank loss against label vectors (Frome et al. 2013)
- :class:`GradCacheLoss`: the gradient cache (Gao et al. 2021) around any of them,
  e.g. the cached multiple-negatives ranking loss
- :class:`CoSENTLoss` (Su 2022) and :class:`CosineSimilarityLoss` for scored pairs
- :func:`gather`: all_gather with gradients, for in-batch negatives under DDP
"""

from __future__ import annotations

from .cached import GradCacheLoss
from .distances import CosineSimilarity, Distance, DotProductSimilarity, EuclideanDistance
from .gather import gather, is_distributed
from .infonce import CLIPLoss, InfoNCELoss
from .matryoshka import MatryoshkaLoss
from .miners import BatchAllMiner, BatchHardMiner, Miner, SemiHardMiner
from .pair import ContrastiveLoss, TripletMarginLoss
from .proxy import NormalizedSoftmaxLoss
from .rank import HingeRankLoss
from .scored import CoSENTLoss, CosineSimilarityLoss

__all__ = [
    "BatchAllMiner",
    "BatchHardMiner",
    "CLIPLoss",
    "CoSENTLoss",
    "ContrastiveLoss",
    "CosineSimilarity",
    "CosineSimilarityLoss",
    "Distance",
    "DotProductSimilarity",
    "EuclideanDistance",
    "GradCacheLoss",
    "HingeRankLoss",
    "InfoNCELoss",
    "MatryoshkaLoss",
    "Miner",
    "NormalizedSoftmaxLoss",
    "SemiHardMiner",
    "TripletMarginLoss",
    "gather",
    "is_distributed",
]
