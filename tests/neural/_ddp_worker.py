"""Run by tests/neural/test_trainer.py under ``torch.distributed.run --nproc_per_node=2``.

Trains the test's small model with the test's data and losses, then rank 0 saves the
final weights to ``OUT/weights.npz``.  ``python _ddp_worker.py OUT`` (no torchrun) trains
in one process with the same global batch.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from torch import nn

from embedforge.neural.losses import InfoNCELoss, TripletMarginLoss
from embedforge.neural.trainer import Trainer


def build() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16)).double()
    x, y = load_digits(return_X_y=True)
    x = torch.from_numpy(x[:256] / 16.0)
    noisy = x + 0.1 * torch.randn(
        x.shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype
    )
    return model, (x, torch.from_numpy(y[:256]), noisy)


class Both(nn.Module):
    """Triplet loss (labels gathered) plus InfoNCE between two views (in-batch negatives gathered)."""

    def __init__(self) -> None:
        super().__init__()
        self.triplet = TripletMarginLoss(margin=0.2)
        self.infonce = InfoNCELoss(temperature=0.1, symmetric=True)

    def forward(self, emb, labels, emb_noisy):
        return self.triplet(emb, labels) + self.infonce(emb, emb_noisy)


def compute(model, batch):
    x, y, noisy = batch
    return model(x), y, model(noisy)


def train() -> nn.Module:
    model, data = build()
    trainer = Trainer(optimizer="adam", learning_rate=1e-2, epochs=2, batch_size=64, seed=3,
                      device="cpu", warmup=0.25, schedule="cosine", progress=False)  # fmt: skip
    trainer.fit(model, data, Both(), compute=compute)
    return model


if __name__ == "__main__":
    torch.set_num_threads(1)
    trained = train()
    if not dist.is_initialized() or dist.get_rank() == 0:
        weights = {k.replace(".", "_"): v.numpy() for k, v in trained.state_dict().items()}
        np.savez(f"{sys.argv[1]}/weights.npz", **weights)
    if dist.is_initialized():
        # every rank waits for rank 0's file before the group goes: a rank tearing down
        # gloo while its peer is still busy can abort ("terminate called without an
        # active exception")
        dist.barrier()
        dist.destroy_process_group()
