"""DeViSE and the CLIP-style dual encoder on MNIST with our own Wikipedia word2vec: zero-shot digits.

Data: the MNIST test set (10,000 images), stratified 8,000 / 2,000 split (seed 0).
Both models train on the 8,000-image part restricted to digits 0-7 and are
scored on the 2,000 held-out images: seen classes (0-7) and unseen classes (8, 9).

- DeViSE (Frome et al. 2013): ConvEncoder features -> linear map into the
  word-vector space, hinge rank loss (margin 0.1, summed over the wrong training
  labels) against the unit vectors of "zero" ... "seven".  A test image is
  classified by the nearest of all ten label words, "eight" and "nine" included.
  A second run centres the ten label vectors first (``center_label_vectors``).
- Dual encoder (CLIP, Radford et al. 2021): ConvEncoder image tower and a text
  tower (mean of the word2vec vectors, fine-tuned, + a linear layer), symmetric
  CLIP loss with a learned temperature, on captions drawn from templates
  ("a handwritten seven", "the digit seven", "7", ...).  Zero-shot: prompts of
  each class averaged over the templates.  Retrieval: image-to-text and
  text-to-image recall@1/5 over the held-out seen-class pairs, a result counting
  when it is of the query's digit.

Hit@k is reported among all ten classes (the generalised setting) and, for the
unseen digits, among the unseen ones only (the conventional setting, chance 0.5).

The word vectors are our word2vec on the 17.0M-token Wikipedia corpus, made by

    embedforge train word2vec enwiki2015_text8size --output /work/models/w2v-enwiki \\
        --epochs 3 --workers 2 --seed 1

(the script runs that command itself, on ``--corpus`` for ``--w2v-epochs`` with
``--workers`` = ``--threads``, when ``--word-vectors`` does not exist; default
``benchmarks/.models/w2v-CORPUS-eEPOCHS``).

    python benchmarks/visual_semantic.py --word-vectors /work/models/w2v-enwiki --epochs 2

The configuration that ``tests/neural/test_visual_semantic.py``'s MNIST data test
repeats (word2vec on text8_prefix, 1 epoch; 2,000 training images, 1 epoch):

    python benchmarks/visual_semantic.py --corpus text8_prefix --w2v-epochs 1 \\
        --train-images 2000 --epochs 1 --batch-size 64 --threads 1

(one thread: word2vec with one worker is bit-reproducible, and the tests run
PyTorch on one thread).

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _harness import publish, section, threads, versions

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def word_vectors(path: Path, corpus: str, epochs: int, n_threads: int):
    from embedforge import Embeddings

    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "embedforge.cli", "train", "word2vec", corpus,
             "--output", str(path), "--epochs", str(epochs), "--workers", str(n_threads),
             "--seed", "1", "--no-progress"],
            check=True,
        )  # fmt: skip
    return Embeddings.load(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--word-vectors",
        type=Path,
        help="a saved word2vec model; trained there first when missing "
        "(default benchmarks/.models/w2v-CORPUS-eEPOCHS)",
    )
    parser.add_argument("--corpus", default="enwiki2015_text8size", help="word2vec's corpus")
    parser.add_argument("--w2v-epochs", type=int, default=3, help="word2vec's epochs")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--train-images", type=int, help="use only the first N training images (smoke runs)"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()

    import torch

    from embedforge.evaluate import evaluate_cross_modal_retrieval, evaluate_zero_shot
    from embedforge.neural import DeViSE, DualEncoder, digit_captions, read_mnist
    from embedforge.neural.images import stratified_split

    path = args.word_vectors or (
        Path(__file__).parent / ".models" / f"w2v-{args.corpus}-e{args.w2v_epochs}"
    )
    wv = word_vectors(path, args.corpus, args.w2v_epochs, args.threads)
    x, y = read_mnist("mnist_test")
    train, test = stratified_split(y, n_train=8000, seed=0)
    seen_train = train[y[train] < 8][: args.train_images]
    seen_test = test[y[test] < 8]
    settings = dict(epochs=args.epochs, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, seed=args.seed, device=args.device,
                    progress=False)  # fmt: skip
    rows, timings = [], {}
    with threads(args.threads):
        torch.set_num_threads(args.threads)
        began = time.perf_counter()
        devise = DeViSE(**settings).fit(x[seen_train], y[seen_train], wv, WORDS)
        timings["DeViSE"] = time.perf_counter() - began
        zs = evaluate_zero_shot(devise.scores(x[test]), y[test], range(8))
        rows.append(("DeViSE (nearest label word)", zs))
        print(zs, flush=True)

        began = time.perf_counter()
        centred = DeViSE(center_label_vectors=True, **settings)
        centred.fit(x[seen_train], y[seen_train], wv, WORDS)
        timings["DeViSE, centred"] = time.perf_counter() - began
        zs = evaluate_zero_shot(centred.scores(x[test]), y[test], range(8))
        rows.append(("DeViSE, label vectors centred", zs))
        print(zs, flush=True)

        began = time.perf_counter()
        captions = digit_captions(y[seen_train], WORDS, seed=args.seed)
        dual = DualEncoder(**settings).fit(x[seen_train], captions, wv, extra_words=WORDS)
        timings["dual encoder"] = time.perf_counter() - began
        zs = evaluate_zero_shot(dual.zero_shot_scores(x[test], WORDS), y[test], range(8))
        rows.append(("dual encoder (prompts)", zs))
        print(zs, flush=True)
        held_out = digit_captions(y[seen_test], WORDS, seed=args.seed + 1)
        retrieval = evaluate_cross_modal_retrieval(
            dual.encode_images(x[seen_test]), dual.encode_texts(held_out), y[seen_test]
        )
        print(retrieval, flush=True)

    unit = wv[WORDS] / np.linalg.norm(wv[WORDS], axis=1, keepdims=True)
    cosine = unit @ unit.T
    nearest = {
        w: WORDS[int(np.argmax(np.where(np.arange(10) < 8, cosine[i], -2)))]
        for i, w in zip((8, 9), ("eight", "nine"), strict=True)
    }
    lines = [
        *section(
            f"Visual-semantic embeddings: DeViSE and a CLIP-style dual encoder, MNIST digits 0-7 "
            f"-> zero-shot 8 and 9, word2vec on "
            f"{'Wikipedia' if args.corpus.startswith('enwiki') else args.corpus}, "
            f"{args.epochs} epoch(s)",
            versions=versions("embedforge", "torch", "numpy"),
            key=f"visual_semantic mnist epochs{args.epochs}"
            + ("" if args.train_images is None else f" images{args.train_images}")
            + ("" if args.corpus == "enwiki2015_text8size" else f" {args.corpus}"),
            n_threads=args.threads,
        ),
        f"Settings: MNIST test set, stratified 8,000 / 2,000 (seed 0); training on the "
        f"{len(seen_train):,} training images of digits 0-7; scored on the {len(test):,} held-out "
        f"images ({len(seen_test):,} of 0-7, {len(test) - len(seen_test):,} of 8-9). "
        f"Word vectors: {len(wv):,} x {wv.dim} from `{path}`; the nearest seen label "
        f"word of 'eight' is '{nearest['eight']}' (cosine {cosine[8, WORDS.index(nearest['eight'])]:.3f}), "
        f"of 'nine' '{nearest['nine']}' ({cosine[9, WORDS.index(nearest['nine'])]:.3f}). "
        f"ConvEncoder (32, 64) channels, Adam {args.learning_rate}, batch {args.batch_size}, "
        f"seed {args.seed}, device {args.device}; DeViSE: feature_dim 128, margin 0.1; dual "
        f"encoder: dim 64, trainable word vectors, learned temperature (ended at "
        f"{dual.temperature_:.4f}). Training time: DeViSE {timings['DeViSE']:.0f} s (centred "
        f"{timings['DeViSE, centred']:.0f} s), dual encoder "
        f"{timings['dual encoder']:.0f} s.  ",
        "",
        "| model | seen hit@1 | seen hit@2 | unseen hit@1 | unseen hit@2 | unseen among {8, 9} hit@1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, zs in rows:
        lines.append(
            f"| {name} | {zs.hit['seen'][1]:.4f} | {zs.hit['seen'][2]:.4f} | "
            f"{zs.hit['unseen'][1]:.4f} | {zs.hit['unseen'][2]:.4f} | "
            f"{zs.hit['unseen_among_unseen'][1]:.4f} |"
        )
    lines.append(
        f"| chance | {zs.chance['seen'][1]:.2f} | {zs.chance['seen'][2]:.2f} | "
        f"{zs.chance['unseen'][1]:.2f} | {zs.chance['unseen'][2]:.2f} | "
        f"{zs.chance['unseen_among_unseen'][1]:.2f} |"
    )
    lines += [
        "",
        f"Dual encoder retrieval over the {retrieval.n_pairs:,} held-out (image, caption) pairs of "
        f"digits 0-7 (correct: same digit; chance R@1 {retrieval.chance_at_1:.3f}):  ",
        "",
        "| direction | R@1 | R@5 |",
        "| --- | ---: | ---: |",
        f"| image -> text | {retrieval.image_to_text[1]:.4f} | {retrieval.image_to_text[5]:.4f} |",
        f"| text -> image | {retrieval.text_to_image[1]:.4f} | {retrieval.text_to_image[5]:.4f} |",
    ]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
