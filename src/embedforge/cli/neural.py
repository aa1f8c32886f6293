"""Neural-model commands of the ``embedforge`` command line (registered in :mod:`embedforge.cli`).

``train softmax-skipgram``, ``train image-encoder``, ``evaluate-retrieval-classes``,
``train devise``, ``train dual-encoder``, ``evaluate-zero-shot``, ``train sentence-encoder``:
plain functions, each parsing its arguments and calling the library.  PyTorch is
imported only when a command runs.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import (
    CorpusArg,
    JsonOpt,
    OutputOpt,
    ProgressOpt,
    SeedOpt,
    enum_values,
    parse_numbers,
    reports_errors,
)

__all__ = [
    "evaluate_retrieval_classes",
    "evaluate_zero_shot",
    "train_devise",
    "train_dual_encoder",
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
    max_seconds: Annotated[
        float | None,
        typer.Option(help="Stop training after this many seconds (the rate decays to fit)."),
    ] = None,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """Train the nn.Embedding -> nn.Linear skip-gram model (PyTorch) on CORPUS; save it to OUTPUT."""
    from ..neural import SoftmaxSkipGram

    options: dict[str, Any] = dict(
        dim=dim, window=window, objective=objective, negative=negative, sample=sample,
        min_count=min_count, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        max_seconds=max_seconds, device=device, seed=seed, progress=progress,
    )  # fmt: skip
    with reports_errors():
        model = SoftmaxSkipGram(**enum_values(options)).fit(corpus)
        model.save(output)
    typer.echo(
        f"trained {len(model.wv):,} word vectors of dim {model.wv.dim} "
        f"({model.pairs_per_second_:,.0f} pairs/s, {model.words_trained_:,} corpus words, "
        f"final loss {model.loss_history_[-1]:.4f}); "
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
    typer.echo(
        f"trained an image encoder of dim {encoder.dim} on {len(y):,} images of shape "
        f"{x.shape[1:]} ({len(set(y.tolist()))} classes, final loss {_final_loss(encoder):.4f}); "
        f"saved to {output}"
    )


def _final_loss(model: Any) -> float:
    """The last epoch's mean loss in a fitted model's ``history_`` (0 when it has none)."""
    return model.history_[-1].get("loss", 0) if model.history_ else 0


def evaluate_retrieval_classes(
    model: Annotated[Path, typer.Argument(help="A saved ImageEncoder directory.")],
    images: ImagesArg,
    labels: LabelsOpt = None,
    classes: ClassesOpt = None,
    k: Annotated[int, typer.Option(help="Neighbours voting in the kNN accuracy.")] = 10,
    batch_size: Annotated[int, typer.Option(help="Images encoded at a time.")] = 256,
    as_json: JsonOpt = False,
) -> None:
    """Same-class retrieval of IMAGES under MODEL: precision@1, R-precision, MAP@R, kNN accuracy."""
    from .._registry import load
    from ..evaluate.metric_learning import evaluate_class_retrieval

    with reports_errors():
        encoder = load(model)
        x, y = _read(images, labels, classes)
        result = evaluate_class_retrieval(encoder.encode(x, batch_size=batch_size), y, k=k)
    typer.echo(json.dumps(result.to_dict()) if as_json else str(result))


# ---------------------------------------------------------------------------- visual-semantic

DIGIT_WORDS = "zero,one,two,three,four,five,six,seven,eight,nine"

WordVectorsOpt = Annotated[
    Path,
    typer.Option(help="Word vectors: a saved Word2Vec / Embeddings directory or a word2vec file."),
]
LabelWordsOpt = Annotated[
    str, typer.Option(help="The word of each class id, comma-separated (class 0 first).")
]
TrainClassesOpt = Annotated[
    str | None,
    typer.Option(help="Train on these classes only, e.g. '0-7' (the others are zero-shot)."),
]


class Split(str, Enum):
    all = "all"
    train = "train"
    test = "test"


SplitOpt = Annotated[
    Split,
    typer.Option(
        help="Use all images, or the 80% train / 20% test part of a stratified split (seed 0)."
    ),
]
ResumeOpt = Annotated[
    bool, typer.Option(help="Continue an interrupted run from OUTPUT.checkpoint.")
]


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def _split_index(y: Any, classes: str | None, split: Split) -> Any:
    """Indices of ``split`` (a stratified 80/20 split of all ``y``, seed 0) within ``classes``."""
    import numpy as np

    from ..neural.images import stratified_split

    index = np.arange(len(y))
    if split is not Split.all:
        train, test = stratified_split(y, n_train=int(round(0.8 * len(y))), seed=0)
        index = train if split is Split.train else test
    if classes is not None:
        index = index[np.isin(y[index], _classes(classes))]
    return index


def _split_read(images: str, labels: Path | None, classes: str | None, split: Split):
    """Images and labels of ``split`` and ``classes`` (see :func:`_split_index`)."""
    x, y = _read(images, labels, None)
    index = _split_index(y, classes, split)
    return x[index], y[index]


def train_devise(
    images: ImagesArg,
    output: OutputOpt,
    word_vectors: WordVectorsOpt,
    labels: LabelsOpt = None,
    label_words: LabelWordsOpt = DIGIT_WORDS,
    train_classes: TrainClassesOpt = None,
    split: SplitOpt = Split.all,
    feature_dim: Annotated[int, typer.Option(help="Visual features before the map.")] = 128,
    margin: Annotated[float, typer.Option(help="Hinge rank margin.")] = 0.1,
    center_label_vectors: Annotated[
        bool, typer.Option(help="Centre the label words' vectors (spreads crowded number words).")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Images per step.")] = 128,
    epochs: Annotated[int, typer.Option(help="Passes over the images.")] = 5,
    learning_rate: Annotated[float, typer.Option(help="Adam's step size.")] = 1e-3,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 1,
    resume: ResumeOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Train DeViSE: a CNN mapped into the word-vector space, hinge rank loss; save it to OUTPUT.

    Labels are class ids indexing --label-words; classes outside --train-classes
    are left for zero-shot prediction by their words.  A checkpoint is written
    after every epoch to OUTPUT.checkpoint; --resume continues from it.
    """
    from ..neural import DeViSE
    from ._common import load_vectors

    options: dict[str, Any] = dict(
        feature_dim=feature_dim, margin=margin, center_label_vectors=center_label_vectors,
        batch_size=batch_size, epochs=epochs,
        learning_rate=learning_rate, device=device, seed=seed, progress=progress,
    )  # fmt: skip
    checkpoints = output.parent / (output.name + ".checkpoint")
    with reports_errors():
        wv = load_vectors(word_vectors)
        x, y = _split_read(images, labels, train_classes, split)
        model = DeViSE(**options).fit(
            x, y, wv, _words(label_words), checkpoint_dir=checkpoints, resume=resume
        )
        model.save(output)
    typer.echo(
        f"trained DeViSE on {len(y):,} images of classes {model.train_classes_.tolist()} into "
        f"{model.dim}-d word vectors (final loss {_final_loss(model):.4f}); saved to {output}"
    )


def train_dual_encoder(
    images: ImagesArg,
    output: OutputOpt,
    word_vectors: WordVectorsOpt,
    labels: LabelsOpt = None,
    captions: Annotated[
        Path | None,
        typer.Option(help="A text file with one caption per image (default: from templates)."),
    ] = None,
    label_words: LabelWordsOpt = DIGIT_WORDS,
    train_classes: TrainClassesOpt = None,
    split: SplitOpt = Split.all,
    dim: Annotated[int, typer.Option(help="Width of the shared embedding.")] = 64,
    train_word_vectors: Annotated[
        bool, typer.Option(help="Fine-tune the word vectors (or keep them frozen).")
    ] = True,
    vocabulary_size: Annotated[
        int, typer.Option(help="Most frequent words kept in the text tower.")
    ] = 20000,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 128,
    epochs: Annotated[int, typer.Option(help="Passes over the pairs.")] = 5,
    learning_rate: Annotated[float, typer.Option(help="Adam's step size.")] = 1e-3,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 1,
    resume: ResumeOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Train a CLIP-style dual encoder (CNN + mean of word vectors) on image-caption pairs.

    Without --captions each image gets a caption from a template ("a handwritten
    seven", "the digit seven", "7", ...) drawn with --seed.  With --captions the
    file's lines pair with the images as read (before --split / --train-classes).
    """
    from ..errors import FormatError, InvalidParameterError
    from ..neural import DualEncoder, digit_captions
    from ._common import load_vectors

    options: dict[str, Any] = dict(
        dim=dim, train_word_vectors=train_word_vectors, vocabulary_size=vocabulary_size,
        batch_size=batch_size, epochs=epochs, learning_rate=learning_rate, device=device,
        seed=seed, progress=progress,
    )  # fmt: skip
    checkpoints = output.parent / (output.name + ".checkpoint")
    words = _words(label_words)
    with reports_errors():
        wv = load_vectors(word_vectors)
        x, y = _read(images, labels, None)
        if captions is not None:
            try:
                texts = captions.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError as exc:
                raise FormatError(
                    f"--captions {str(captions)!r} is not UTF-8 text (one caption per line): {exc}"
                ) from None
            if len(texts) != len(y):
                raise InvalidParameterError(
                    f"--captions {str(captions)!r} has {len(texts):,} lines for {len(y):,} images"
                )
        else:
            texts = digit_captions(y, words, seed=seed)
        index = _split_index(y, train_classes, split)
        model = DualEncoder(**options).fit(
            x[index], [texts[i] for i in index], wv, extra_words=words,
            checkpoint_dir=checkpoints, resume=resume,
        )  # fmt: skip
        model.save(output)
    typer.echo(
        f"trained a dual encoder of dim {model.dim} on {len(index):,} image-caption pairs "
        f"(final loss {_final_loss(model):.4f}, temperature {model.temperature_:.4f}); "
        f"saved to {output}"
    )


def evaluate_zero_shot(
    model: Annotated[Path, typer.Argument(help="A saved DeViSE or DualEncoder directory.")],
    images: ImagesArg,
    labels: LabelsOpt = None,
    label_words: Annotated[
        str | None,
        typer.Option(help="Class words (default: DeViSE's own; the digits for a dual encoder)."),
    ] = None,
    seen_classes: Annotated[
        str | None,
        typer.Option(help="Classes seen in training, e.g. '0-7' (default: DeViSE's own; all)."),
    ] = None,
    split: SplitOpt = Split.all,
    seed: SeedOpt = 1,
    batch_size: Annotated[int, typer.Option(help="Images encoded at a time.")] = 256,
    as_json: JsonOpt = False,
) -> None:
    """Zero-shot classification of IMAGES by MODEL: hit@1 and hit@2 on seen and unseen classes.

    DeViSE ranks its label words; a dual encoder ranks prompts ("a photo of the
    digit {word}", ... averaged) and also reports image-to-text and text-to-image
    recall@1/5 with template captions drawn with --seed.
    """
    from .._registry import load
    from ..errors import InvalidParameterError
    from ..evaluate import evaluate_cross_modal_retrieval
    from ..evaluate import evaluate_zero_shot as score_zero_shot
    from ..neural import DeViSE, DualEncoder, digit_captions

    with reports_errors():
        encoder = load(model)
        x, y = _split_read(images, labels, None, split)
        retrieval = None
        if isinstance(encoder, DeViSE):
            scores = encoder.scores(x, batch_size=batch_size)
            seen = encoder.train_classes_.tolist()
        elif isinstance(encoder, DualEncoder):
            words = _words(label_words or DIGIT_WORDS)
            scores = encoder.zero_shot_scores(x, words, batch_size=batch_size)
            seen = list(range(len(words)))
            texts = digit_captions(y, words, seed=seed)
            retrieval = evaluate_cross_modal_retrieval(
                encoder.encode_images(x, batch_size), encoder.encode_texts(texts), y
            )
        else:
            raise InvalidParameterError(
                f"{str(model)!r} holds a {type(encoder).__name__}; evaluate-zero-shot takes a "
                "DeViSE or DualEncoder directory"
            )
        if seen_classes is not None:
            seen = _classes(seen_classes)
        result = score_zero_shot(scores, y, seen)
    if as_json:
        out = {"zero_shot": result.to_dict()}
        if retrieval is not None:
            out["retrieval"] = retrieval.to_dict()
        typer.echo(json.dumps(out))
    else:
        typer.echo(str(result) + ("" if retrieval is None else f"\n{retrieval}"))


class SentenceLoss(str, Enum):
    mnrl = "mnrl"
    cached_mnrl = "cached-mnrl"
    cosent = "cosent"
    cosine = "cosine"


class HardNegatives(str, Enum):
    none = "none"
    tfidf = "tfidf"
    self = "self"


class Rotation(str, Enum):
    auto = "auto"
    none = "none"
    pca = "pca"


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
    matryoshka_weights: Annotated[
        str | None, typer.Option(help="One loss weight per Matryoshka width (default all 1).")
    ] = None,
    matryoshka_distill: Annotated[
        float,
        typer.Option(
            help="Weight of the term that teaches each smaller width the full width's in-batch "
            "ranking (0: off)."
        ),
    ] = 0.0,
    rotation: Annotated[
        Rotation,
        typer.Option(
            help="'pca': start from a rotation that orders coordinates by variance "
            "('auto': pca with --matryoshka-dims)."
        ),
    ] = Rotation.auto,
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
            matryoshka_dims=parse_numbers(
                matryoshka_dims, "--matryoshka-dims", example="384,256,128,64,32"
            ) or None,
            matryoshka_weights=parse_numbers(
                matryoshka_weights, "--matryoshka-weights", float, "1,1,1,2,2"
            ) or None,
            matryoshka_distill=matryoshka_distill, rotation=rotation, epochs=epochs,
            batch_size=batch_size,
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
