"""Our ImageEncoder against pytorch-metric-learning 2.9 on MNIST, class-disjoint protocol.

Both train the same network (embedforge's ConvEncoder: two conv / batch-norm / ReLU /
max-pool blocks, 4x4 average pool, dropout 0.1, projection to 128, L2
normalisation) on the same images (MNIST test set digits 0-4, 5,139 images,
normalised by their mean and standard deviation), with the same loss (triplet
margin 0.2 on cosine similarity, mean over non-zero triplets), the same miner
(every semi-hard triplet: 0 < s(a,p) - s(a,n) < 0.2), Adam (torch's fused kernel), the same batch size,
epochs and seed:

- ``ours``: ``ImageEncoder(loss="triplet", miner="semihard")`` (embedforge's Trainer);
- ``pml``: a plain PyTorch loop with ``pytorch_metric_learning.losses.TripletMarginLoss``
  and ``miners.TripletMarginMiner(type_of_triplets="semihard")``, as PML's MNIST
  example trains.

Retrieval on the unseen digits 5-9 (4,861 images) is scored by the same
evaluator (embedforge.evaluate.evaluate_class_retrieval: precision@1,
R-precision, MAP@R); raw pixels give P@1 0.974, MAP@R 0.371.  Runs are
interleaved (ours seed 1, pml seed 1, ours seed 2, ...), each in its own process.

    pip install pytorch-metric-learning==2.9.0   # or: pip install -e ".[bench]"
    python benchmarks/image_vs_pml.py --seeds 3 --epochs 5

Appends a table to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _harness import (
    command_line,
    mean_range,
    med_range,
    print_child_result,
    publish,
    ratio_verdict,
    run_child,
    section,
    versions,
)

LIBS = ("ours", "pml")


def child(lib: str, args: argparse.Namespace) -> dict:
    """Train once in this process and return the figures (run with --child)."""
    import torch

    from embedforge.evaluate import evaluate_class_retrieval
    from embedforge.neural import ImageEncoder, class_disjoint_split, read_mnist

    torch.set_num_threads(args.threads)
    x, y = read_mnist("mnist_test")
    train, test = class_disjoint_split(y)
    settings = dict(loss="triplet", miner="semihard", margin=0.2, distance="cosine", dim=128,
                    optimizer="adam", learning_rate=args.learning_rate, epochs=args.epochs,
                    batch_size=args.batch_size, seed=args.seed, device=args.device,
                    progress=False)  # fmt: skip
    encoder = ImageEncoder(**settings)
    started = time.perf_counter()
    if lib == "ours":
        encoder.fit(x[train], y[train])
        epoch_s = [row["seconds"] for row in encoder.history_]
    else:
        epoch_s = _train_pml(encoder, x[train], y[train], args)
    total = time.perf_counter() - started
    result = evaluate_class_retrieval(encoder.encode(x[test], batch_size=1024), y[test])
    return {
        "lib": lib,
        "seed": args.seed,
        "epoch_s": float(np.mean(epoch_s)),
        "total_s": total,
        "precision_at_1": result.precision_at_1,
        "r_precision": result.r_precision,
        "map_at_r": result.map_at_r,
    }


def _train_pml(encoder, images, labels, args) -> list[float]:
    """PML's loss and miner in a plain loop over the same network, data order and settings."""
    import torch
    from pytorch_metric_learning import distances, losses, miners, reducers

    from embedforge.neural.image_encoder import _as_images
    from embedforge.neural.trainer import _seed_everything

    device = torch.device(args.device if args.device != "auto" else "cpu")
    pixels = _as_images(images)
    mean = pixels.mean(axis=(0, 2, 3)).astype(np.float32)
    std = np.maximum(pixels.std(axis=(0, 2, 3)), 1e-6).astype(np.float32)
    x = torch.from_numpy((pixels - mean[None, :, None, None]) / std[None, :, None, None])
    y = torch.from_numpy(np.unique(labels, return_inverse=True)[1].astype(np.int64))
    torch.manual_seed(args.seed)
    network = encoder._network(x.shape[1]).to(device)
    _seed_everything(args.seed)
    loss_fn = losses.TripletMarginLoss(
        margin=0.2, distance=distances.CosineSimilarity(), reducer=reducers.AvgNonZeroReducer()
    )
    miner = miners.TripletMarginMiner(
        margin=0.2, distance=distances.CosineSimilarity(), type_of_triplets="semihard"
    )
    # the fused kernel, as embedforge's Trainer uses on CPU/CUDA: the same computation
    optimizer = torch.optim.Adam(network.parameters(), lr=args.learning_rate, fused=True)
    seconds = []
    for epoch in range(args.epochs):
        began = time.perf_counter()
        network.train()
        order = torch.randperm(
            x.shape[0], generator=torch.Generator().manual_seed(args.seed * 1_000_003 + epoch)
        )
        for lo in range(0, x.shape[0], args.batch_size):
            idx = order[lo : lo + args.batch_size]
            xb, yb = x[idx].to(device), y[idx].to(device)
            optimizer.zero_grad(set_to_none=True)
            emb = network(xb)
            loss = loss_fn(emb, yb, miner(emb, yb))
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - began)
    network.cpu().eval()
    encoder._set_fitted(network, tuple(x.shape[1:]), mean, std)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    parser.add_argument("--child", choices=LIBS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print_child_result(child(args.child, args))
        return

    results: dict[str, list[dict]] = {lib: [] for lib in LIBS}
    for seed in range(1, args.seeds + 1):
        for lib in LIBS:
            argv = ["--child", lib, "--seed", str(seed), "--epochs", str(args.epochs),
                    "--batch-size", str(args.batch_size), "--learning-rate",
                    str(args.learning_rate), "--threads", str(args.threads),
                    "--device", args.device]  # fmt: skip
            r = run_child(__file__, argv)
            results[lib].append(r)
            print(
                f"{lib:5s} seed {seed}: {r['epoch_s']:7.1f} s/epoch  P@1 {r['precision_at_1']:.4f}"
                f"  R-prec {r['r_precision']:.4f}  MAP@R {r['map_at_r']:.4f}",
                flush=True,
            )

    def column(lib: str, key: str) -> list[float]:
        return [r[key] for r in results[lib]]

    ratios = [
        p / o for o, p in zip(column("ours", "epoch_s"), column("pml", "epoch_s"), strict=True)
    ]
    same = all(
        abs(a - b) < 5e-5
        for key in ("precision_at_1", "r_precision", "map_at_r")
        for a, b in zip(column("ours", key), column("pml", key), strict=True)
    )
    lines = [
        *section(
            f"ImageEncoder vs pytorch-metric-learning: MNIST class-disjoint (train 0-4, "
            f"retrieve 5-9), {args.epochs} epochs, {args.seeds} seed(s), interleaved",
            command_line(__file__),
            versions("embedforge", "torch", "pytorch_metric_learning", "numpy"),
            key="image_vs_pml",
        ),
        f"Settings: same ConvEncoder (dim 128), triplet margin 0.2 on cosine, semi-hard miner, "
        f"Adam (fused) {args.learning_rate}, batch {args.batch_size}, {args.threads} PyTorch threads, "
        f"device {args.device}. Raw pixels on digits 5-9: P@1 0.974, MAP@R 0.371.  ",
        "Seconds per epoch: median (min-max) over the seeds; quality: mean (min-max) over the "
        "seeds; speed: PML's s/epoch over ours, per seed.  ",
        "",
        "| library | s / epoch | P@1 | R-precision | MAP@R | speed vs PML |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for lib in LIBS:
        speed = med_range(ratios, ".2f", "x") if lib == "ours" else "1.00x"
        lines.append(
            f"| {lib} | {med_range(column(lib, 'epoch_s'), '.2f')} | "
            f"{mean_range(column(lib, 'precision_at_1'), '.4f')} | "
            f"{mean_range(column(lib, 'r_precision'), '.4f')} | "
            f"{mean_range(column(lib, 'map_at_r'), '.4f')} | {speed} |"
        )
    lines += [
        "",
        ratio_verdict("Speed, PML's s/epoch over ours", ratios)
        + "  Quality: "
        + (
            "the same figures in every seed (to 4 decimals): both run the same computation."
            if same
            else "the figures differ between the libraries; see the rows."
        )
        + f"  MAP@R {np.mean(column('ours', 'map_at_r')):.4f} against raw pixels' 0.371 "
        "(target: above it).",
    ]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
