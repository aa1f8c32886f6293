"""Neural-model commands of the ``embedforge`` command line (registered in :mod:`embedforge.cli`).

``train softmax-skipgram``: plain functions, each parsing its arguments and calling
the library.  PyTorch is imported only when a command runs.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from ._common import CorpusArg, OutputOpt, ProgressOpt, SeedOpt, enum_values, reports_errors

__all__ = ["train_softmax_skipgram"]


class SkipGramObjective(str, Enum):
    softmax = "softmax"
    negative_sampling = "negative_sampling"
    sampled_softmax = "sampled_softmax"


DeviceOpt = Annotated[str, typer.Option(help="'auto' (CUDA when available), 'cpu' or 'cuda'.")]


def train_softmax_skipgram(
    corpus: CorpusArg,
    output: OutputOpt,
    dim: Annotated[int, typer.Option(help="Vector width.")] = 100,
    window: Annotated[int, typer.Option(help="Largest centre-context distance.")] = 5,
    objective: Annotated[
        SkipGramObjective, typer.Option(help="Full softmax, or a sampled objective.")
    ] = SkipGramObjective.softmax,
    negative: Annotated[
        int, typer.Option(help="Noise words per pair (NS) or sampled words per batch.")
    ] = 5,
    sample: Annotated[float, typer.Option(help="Subsampling threshold (0: none).")] = 1e-3,
    min_count: Annotated[int, typer.Option(help="Drop words seen fewer times.")] = 5,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Pairs per Adam step.")] = 1024,
    learning_rate: Annotated[float, typer.Option(help="Adam's starting step size.")] = 1e-3,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """Train the nn.Embedding -> nn.Linear skip-gram model (PyTorch) on CORPUS; save it to OUTPUT."""
    from ..neural import SoftmaxSkipGram

    options: dict[str, Any] = dict(
        dim=dim, window=window, objective=objective, negative=negative, sample=sample,
        min_count=min_count, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        device=device, seed=seed, progress=progress,
    )  # fmt: skip
    with reports_errors():
        model = SoftmaxSkipGram(**enum_values(options)).fit(corpus)
        model.save(output)
    typer.echo(
        f"trained {len(model.wv):,} word vectors of dim {model.wv.dim} "
        f"({model.pairs_per_second_:,.0f} pairs/s, final loss {model.loss_history_[-1]:.4f}); "
        f"saved to {output}"
    )
