"""Graph commands of the ``embedforge`` command line (registered in :mod:`embedforge.cli`).

``train deepwalk|node2vec``, ``evaluate-nodes``, ``evaluate-links``: plain
functions, each parsing its arguments and calling the library.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import JsonOpt, parse_numbers, reports_errors, with_options

__all__ = ["evaluate_links", "evaluate_nodes", "train_deepwalk", "train_node2vec"]

_DATASETS = ("cora", "blogcatalog")


class Split(str, Enum):
    planetoid = "planetoid"
    random = "random"


class WalkModel(str, Enum):
    deepwalk = "deepwalk"
    node2vec = "node2vec"


def _read_graph(edges: str, directed: bool, weighted: bool, delimiter: str | None) -> Any:
    """An edge-list file, or the graph of a registered data set (cora, blogcatalog)."""
    from ..graph import Graph, read_blogcatalog, read_cora

    if edges in _DATASETS and not Path(edges).exists():
        return (read_cora if edges == "cora" else read_blogcatalog)(edges).graph
    return Graph.read_edgelist(edges, directed=directed, weighted=weighted, delimiter=delimiter)


EdgesArg = Annotated[
    str,
    typer.Argument(
        help="Edge list: one 'u v [weight]' per line (whitespace, .csv, .tsv; # comments; .gz ok), "
        "or a data set name (cora, blogcatalog)."
    ),
]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory to save the model to.")]
DirectedOpt = Annotated[bool, typer.Option("--directed", help="Edges go from u to v only.")]
WeightedOpt = Annotated[bool, typer.Option("--weighted", help="Read the third column as weight.")]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(help="Column separator (default: ',' for .csv, tab for .tsv, else spaces)."),
]
POpt = Annotated[float, typer.Option("--p", help="node2vec return parameter.")]
QOpt = Annotated[float, typer.Option("--q", help="node2vec in-out parameter.")]
WalkLengthOpt = Annotated[int, typer.Option(help="Nodes per walk.")]
WalksPerNodeOpt = Annotated[int, typer.Option(help="Walks started from every node.")]
WindowOpt = Annotated[int, typer.Option(help="Skip-gram window.")]
DimOpt = Annotated[int, typer.Option(help="Vector width.")]
EpochsOpt = Annotated[int, typer.Option(help="Passes over the walks.")]
WorkersOpt = Annotated[int | None, typer.Option(help="Threads (default: all cores).")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress bar.")]
COpt = Annotated[
    float,
    typer.Option("--c", help="Inverse regularisation strength of the logistic regression."),
]


def _walk_options(
    directed: DirectedOpt = False,
    weighted: WeightedOpt = False,
    delimiter: DelimiterOpt = None,
    walk_length: WalkLengthOpt = 80,
    walks_per_node: WalksPerNodeOpt = 10,
    window: WindowOpt = 10,
    dim: DimOpt = 128,
    epochs: EpochsOpt = 1,
    shared_negatives: Annotated[
        bool,
        typer.Option(
            help="Noise nodes drawn once per window and shared by its context nodes (HogBatch: "
            "several times faster); --no-shared-negatives: word2vec's pair-by-pair draws."
        ),
    ] = True,
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """The options ``train deepwalk`` and ``train node2vec`` share (see :func:`with_options`)."""


def _train(cls: type, edges: str, output: Path, options: dict[str, Any]) -> None:
    """Read EDGES, fit ``cls`` with the model options, save it to OUTPUT and say so."""
    reading = {name: options.pop(name) for name in ("directed", "weighted", "delimiter")}
    with reports_errors():
        g = _read_graph(edges, **reading)
        model = cls(**options).fit(g)
        model.save(output)
    typer.echo(
        f"trained {len(model.wv):,} node vectors of dim {model.wv.dim} on {g!r} "
        f"({model.nodes_per_second_:,.0f} walk nodes/s, final loss {model.loss_history_[-1]:.4f}); "
        f"saved to {output}"
    )


@with_options(_walk_options)
def train_deepwalk(edges: EdgesArg, output: OutputOpt, **options: Any) -> None:
    """Train DeepWalk (uniform random walks + skip-gram) on EDGES and save the model to OUTPUT."""
    from ..graph import DeepWalk

    _train(DeepWalk, edges, output, options)


@with_options(_walk_options)
def train_node2vec(
    edges: EdgesArg, output: OutputOpt, p: POpt = 1.0, q: QOpt = 1.0, **options: Any
) -> None:
    """Train node2vec (second-order p/q walks + skip-gram) on EDGES and save the model to OUTPUT."""
    from ..graph import Node2Vec

    _train(Node2Vec, edges, output, {"p": p, "q": q, **options})


def _c_value(text: str) -> float | str:
    from ..errors import InvalidParameterError

    if text.strip().lower() == "cv":
        return "cv"
    try:
        return float(text)
    except ValueError:
        raise InvalidParameterError(f"--c must be a number > 0 or 'cv'; got {text!r}") from None


def evaluate_nodes(
    model: Annotated[Path, typer.Argument(help="Saved model or embeddings directory.")],
    labels: Annotated[
        str,
        typer.Argument(
            help="Labels file ('node label [label ...]' per line; a node may repeat), "
            "or a data set name (cora, blogcatalog)."
        ),
    ],
    split: Annotated[
        Split, typer.Option(help="planetoid: Cora's fixed 140/1,000 split; random: train ratios.")
    ] = Split.random,
    train_ratio: Annotated[str, typer.Option(help="Comma-separated train fractions.")] = "0.5",
    repeats: Annotated[int, typer.Option(help="Random splits per ratio.")] = 5,
    seed: SeedOpt = 0,
    c: Annotated[
        str,
        typer.Option(
            "--c",
            help="Inverse regularisation strength of the logistic regression, or 'cv': chosen "
            "on each split by 3-fold cross-validation of its training nodes (0.1, 1, 10, 100).",
        ),
    ] = "1",
    normalize: Annotated[
        bool, typer.Option("--normalize", help="Scale the vectors to unit length first.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Node classification (logistic regression): accuracy, micro-F1, macro-F1 of MODEL's vectors."""
    from ..embeddings import Embeddings
    from ..errors import InvalidParameterError
    from ..evaluate.nodes import evaluate_node_classification
    from ..graph import read_blogcatalog, read_cora, read_labels

    with reports_errors():
        wv = Embeddings.load(model)
        fixed = None
        if labels in _DATASETS and not Path(labels).exists():
            data = (read_cora if labels == "cora" else read_blogcatalog)(labels)
            label_map, fixed = data.labels, data.split
        else:
            label_map = read_labels(labels)
        if split is Split.planetoid and fixed is None:
            raise InvalidParameterError(
                "--split planetoid needs LABELS 'cora' (the only data set with that fixed split)"
            )
        results = evaluate_node_classification(
            wv, label_map, split=fixed if split is Split.planetoid else "random",
            train_ratios=parse_numbers(train_ratio, "--train-ratio", float, "0.1,0.5,0.9"),
            repeats=repeats, seed=seed, c=_c_value(c), normalize=normalize,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return
    typer.echo("protocol      train  accuracy         micro-F1         macro-F1")
    for r in results:
        ratio = "fixed" if r.train_ratio is None else f"{r.train_ratio:.0%}"
        typer.echo(
            f"{r.protocol:<13} {ratio:>5}  {r.accuracy_mean:.4f} ± {r.accuracy_std:.4f}  "
            f"{r.micro_f1_mean:.4f} ± {r.micro_f1_std:.4f}  {r.macro_f1_mean:.4f} ± {r.macro_f1_std:.4f}"
        )
    if c.strip().lower() == "cv":
        typer.echo(
            "C chosen by cross-validation on each split: "
            + ", ".join(f"{v:g}" for v in results[0].c)
        )


def evaluate_links(
    edges: EdgesArg,
    model: Annotated[WalkModel, typer.Option(help="The model trained on the residual graph.")] = (
        WalkModel.node2vec
    ),
    directed: DirectedOpt = False,
    weighted: WeightedOpt = False,
    delimiter: DelimiterOpt = None,
    p: POpt = 1.0,
    q: QOpt = 1.0,
    walk_length: WalkLengthOpt = 80,
    walks_per_node: WalksPerNodeOpt = 10,
    window: WindowOpt = 10,
    dim: DimOpt = 128,
    epochs: EpochsOpt = 1,
    fraction: Annotated[float, typer.Option(help="Fraction of edges hidden.")] = 0.5,
    workers: WorkersOpt = None,
    seed: SeedOpt = 0,
    c: COpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Link prediction (node2vec protocol): AUC-ROC and average precision per edge operator."""
    from ..evaluate.links import evaluate_link_prediction
    from ..graph import DeepWalk, Node2Vec

    params = dict(walk_length=walk_length, walks_per_node=walks_per_node, window=window,
                  dim=dim, epochs=epochs, workers=workers, seed=seed, progress=False)  # fmt: skip
    with reports_errors():
        g = _read_graph(edges, directed, weighted, delimiter)
        estimator = (
            Node2Vec(p=p, q=q, **params) if model is WalkModel.node2vec else DeepWalk(**params)
        )
        results = evaluate_link_prediction(g, estimator, fraction=fraction, seed=seed, c=c)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return
    typer.echo(f"{results[0].n_removed:,} edges hidden of {g!r}")
    typer.echo("operator      AUC-ROC  AP")
    for r in results:
        typer.echo(f"{r.operator:<12}  {r.auc_roc:.4f}   {r.average_precision:.4f}")
