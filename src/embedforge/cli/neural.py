"""Neural-model commands of the ``embedforge`` command line (registered in :mod:`embedforge.cli`).

``train softmax-skipgram``, ``train image-encoder``, ``evaluate-retrieval-classes``:
plain functions, each parsing its arguments and calling the library.  PyTorch is
imported only when a command runs.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import CorpusArg, OutputOpt, ProgressOpt, SeedOpt, enum_values, reports_errors

__all__ = ["evaluate_retrieval_classes", "train_image_encoder", "train_softmax_skipgram"]


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


class ImageLoss(str, Enum):
    triplet = "triplet"
    contrastive = "contrastive"
    normalized_softmax = "normalized_softmax"


class Miner(str, Enum):
    semihard = "semihard"
    batch_hard = "batch_hard"
    batch_all = "batch_all"


ImagesArg = Annotated[
    str,
    typer.Argument(
        help="Images: an IDX file, a uint8 .npy of shape (n, h, w) or (n, h, w, c), a folder of "
        "class folders (ImageFolder), or the data set name mnist_test."
    ),
]
LabelsOpt = Annotated[
    Path | None, typer.Option(help="Labels (IDX or .npy, one int per image); not for folders.")
]
ClassesOpt = Annotated[
    str | None,
    typer.Option(help="Keep only these classes, e.g. '0-4' or '5,6,7' (class-disjoint protocol)."),
]


def _classes(text: str | None) -> list[int] | None:
    from ..errors import InvalidParameterError

    if text is None:
        return None
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    except ValueError:
        raise InvalidParameterError(
            f"--classes must be like '0-4' or '5,6,7'; got {text!r}"
        ) from None
    return out


def _read(images: str, labels: Path | None, classes: str | None) -> tuple[Any, Any]:
    """Images and labels from the arguments, restricted to ``classes``."""
    import numpy as np

    from ..errors import InvalidParameterError
    from ..neural.images import read_images, read_mnist

    if images == "mnist_test" and not Path(images).exists():
        x, y = read_mnist(images)
    else:
        x, y = read_images(images, labels)
    if y is None:
        raise InvalidParameterError(f"--labels is needed: {images!r} holds no labels")
    keep = _classes(classes)
    if keep is not None:
        mask = np.isin(y, keep)
        x, y = x[mask], y[mask]
    return x, y


def train_image_encoder(
    images: ImagesArg,
    output: OutputOpt,
    labels: LabelsOpt = None,
    classes: ClassesOpt = None,
    loss: Annotated[ImageLoss, typer.Option(help="Metric-learning loss.")] = ImageLoss.triplet,
    miner: Annotated[Miner, typer.Option(help="Triplet miner.")] = Miner.semihard,
    margin: Annotated[float, typer.Option(help="Triplet / contrastive margin.")] = 0.2,
    dim: Annotated[int, typer.Option(help="Embedding width.")] = 128,
    batch_size: Annotated[int, typer.Option(help="Images per step.")] = 256,
    epochs: Annotated[int, typer.Option(help="Passes over the images.")] = 5,
    learning_rate: Annotated[float, typer.Option(help="Adam's step size.")] = 1e-3,
    augment: Annotated[bool, typer.Option(help="Random shifts of up to 2 pixels.")] = False,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 1,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted run from OUTPUT.checkpoint.")
    ] = False,
    progress: ProgressOpt = True,
) -> None:
    """Train a CNN image encoder on IMAGES with a metric-learning loss; save it to OUTPUT.

    A checkpoint is written after every epoch to the sibling folder OUTPUT.checkpoint
    (with history.csv and history.json); --resume continues from it.
    """
    from ..neural import ImageEncoder

    options: dict[str, Any] = dict(
        loss=loss, miner=miner, margin=margin, dim=dim, batch_size=batch_size, epochs=epochs,
        learning_rate=learning_rate, augment=augment, device=device, seed=seed,
        progress=progress,
    )  # fmt: skip
    checkpoints = output.parent / (output.name + ".checkpoint")
    with reports_errors():
        x, y = _read(images, labels, classes)
        encoder = ImageEncoder(**enum_values(options)).fit(
            x, y, checkpoint_dir=checkpoints, resume=resume
        )
        encoder.save(output)
    last = encoder.history_[-1] if encoder.history_ else {}
    typer.echo(
        f"trained an image encoder of dim {encoder.dim} on {len(y):,} images of shape "
        f"{x.shape[1:]} ({len(set(y.tolist()))} classes, final loss {last.get('loss', 0):.4f}); "
        f"saved to {output}"
    )


def evaluate_retrieval_classes(
    model: Annotated[Path, typer.Argument(help="A saved ImageEncoder directory.")],
    images: ImagesArg,
    labels: LabelsOpt = None,
    classes: ClassesOpt = None,
    k: Annotated[int, typer.Option(help="Neighbours voting in the kNN accuracy.")] = 10,
    batch_size: Annotated[int, typer.Option(help="Images encoded at a time.")] = 256,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Same-class retrieval of IMAGES under MODEL: precision@1, R-precision, MAP@R, kNN accuracy."""
    from .._registry import load
    from ..evaluate.metric_learning import evaluate_class_retrieval

    with reports_errors():
        encoder = load(model)
        x, y = _read(images, labels, classes)
        result = evaluate_class_retrieval(encoder.encode(x, batch_size=batch_size), y, k=k)
    typer.echo(json.dumps(result.to_dict()) if as_json else str(result))
