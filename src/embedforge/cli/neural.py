"""Neural-model commands of the ``embedforge`` command line (registered in :mod:`embedforge.cli`).

``train softmax-skipgram``, ``train image-encoder``, ``train sentence-encoder``,
``evaluate-retrieval-classes``:
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

__all__ = [
    "evaluate_retrieval_classes",
    "train_image_encoder",
    "train_sentence_encoder",
    "train_softmax_skipgram",
]


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


class SentenceLoss(str, Enum):
    mnrl = "mnrl"
    cached_mnrl = "cached-mnrl"
    cosent = "cosent"
    cosine = "cosine"


class HardNegatives(str, Enum):
    none = "none"
    tfidf = "tfidf"
    self = "self"


def _dims(text: str | None) -> list[int] | None:
    from ..errors import InvalidParameterError

    if text is None or not text.strip():
        return None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise InvalidParameterError(
            f"--matryoshka-dims must be comma-separated ints like '384,256,128,64,32'; got {text!r}"
        ) from None


def train_sentence_encoder(
    pairs: Annotated[
        str,
        typer.Option(
            help="Training pairs: a .jsonl/.tsv/.csv file with query,positive[,negative] or "
            "sentence1,sentence2,score columns, or 'scifact' / 'stsb' (their train split)."
        ),
    ],
    output: OutputOpt,
    base: Annotated[
        str,
        typer.Option(
            help="'minilm' (offline all-MiniLM-L6-v2) or a sentence-transformers directory."
        ),
    ] = "minilm",
    loss: Annotated[
        SentenceLoss,
        typer.Option(
            help="mnrl / cached-mnrl for (query, positive) pairs; cosent / cosine for scored pairs."
        ),
    ] = SentenceLoss.mnrl,
    hard_negatives: Annotated[
        HardNegatives,
        typer.Option(
            help="Mine one hard negative per pair with TF-IDF or the base model ('self')."
        ),
    ] = HardNegatives.none,
    matryoshka_dims: Annotated[
        str | None, typer.Option(help="Train these prefix widths too, e.g. 384,256,128,64,32.")
    ] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the pairs.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Pairs per step (the in-batch negatives).")] = 32,
    mini_batch_size: Annotated[
        int, typer.Option(help="Texts embedded at a time (cached-mnrl).")
    ] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Peak AdamW learning rate.")] = 2e-5,
    warmup: Annotated[float, typer.Option(help="Fraction of steps of linear warmup.")] = 0.1,
    max_seq_length: Annotated[int, typer.Option(help="Tokens kept per text.")] = 256,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 1,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted run from OUTPUT.checkpoint.")
    ] = False,
    progress: ProgressOpt = True,
) -> None:
    """Fine-tune a sentence encoder (MiniLM by default) on PAIRS; save it to OUTPUT.

    OUTPUT is a sentence-transformers directory: use it with `embedforge index create
    --encoder OUTPUT`, `load_encoder(OUTPUT)` or `SentenceTransformer(OUTPUT)`.  A checkpoint
    is written after every epoch to OUTPUT.checkpoint; --resume continues from it.
    """
    from ..neural import SentenceEncoderTrainer

    checkpoints = output.parent / (output.name + ".checkpoint")
    with reports_errors():
        options: dict[str, Any] = dict(
            base=base, loss=loss, hard_negatives=hard_negatives,
            matryoshka_dims=_dims(matryoshka_dims), epochs=epochs, batch_size=batch_size,
            mini_batch_size=mini_batch_size, learning_rate=lr, warmup=warmup,
            max_seq_length=max_seq_length, device=device, seed=seed, progress=progress,
            checkpoint_dir=checkpoints,
        )  # fmt: skip
        trainer = SentenceEncoderTrainer(**enum_values(options)).fit(pairs, resume=resume)
        trainer.save(output)
    last = trainer.history_[-1] if trainer.history_ else {}
    typer.echo(
        f"fine-tuned {trainer.training_['base']} on {trainer.training_['pairs']:,} pairs "
        f"({trainer.training_['data']}) with {trainer.loss} for {trainer.epochs} epoch(s) "
        f"(final loss {last.get('loss', 0):.4f}, {last.get('seconds', 0):.0f} s/epoch); "
        f"saved to {output}"
    )
