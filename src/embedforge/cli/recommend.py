"""Recommendation commands of the ``embedforge`` command line (registered in :mod:`embedforge.cli`).

``train bpr|als``, ``recommend``, ``similar-items``, ``evaluate-recommendations``:
plain functions, each parsing its arguments and calling the library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import (
    JsonOpt,
    OutputOpt,
    ProgressOpt,
    SeedOpt,
    WorkersOpt,
    reports_errors,
    with_options,
)

__all__ = ["evaluate_recommendations", "recommend", "similar_items", "train_als", "train_bpr"]

RatingsArg = Annotated[
    str,
    typer.Argument(
        help="Interactions: MovieLens u.data / ratings.csv / ratings.dat, a CSV/TSV whose header "
        "names the columns (user,item[,rating][,timestamp]; .gz ok), a headerless "
        "'user item [weight] [timestamp]' file, or a data set name (movielens_100k)."
    ),
]
ModelArg = Annotated[Path, typer.Argument(help="Saved BPR or ALS model directory.")]
FactorsOpt = Annotated[int, typer.Option(help="Latent dimensions.")]
IterationsOpt = Annotated[
    int | None,
    typer.Option("--iterations", "--epochs", help="Passes (default: 100 for BPR, 15 for ALS)."),
]
RegularizationOpt = Annotated[float, typer.Option(help="L2 regularisation.")]
MinRatingOpt = Annotated[
    float | None, typer.Option(help="Drop interactions whose rating/weight is below this.")
]
BinaryOpt = Annotated[bool, typer.Option("--binary", help="Use every interaction with weight 1.")]
KOpt = Annotated[int, typer.Option("-k", "--k", help="Results.")]


def _data_options(
    min_rating: MinRatingOpt = None,
    binary: BinaryOpt = False,
    factors: FactorsOpt = 64,
    iterations: IterationsOpt = None,
    regularization: RegularizationOpt = 0.01,
    workers: WorkersOpt = None,
    seed: SeedOpt = 1,
    progress: ProgressOpt = True,
) -> None:
    """The options ``train bpr`` and ``train als`` share (see :func:`with_options`)."""


def _train(cls: type, ratings: str, output: Path, options: dict[str, Any]) -> None:
    from ..recommend import read_interactions

    reading = {"min_weight": options.pop("min_rating"), "binary": options.pop("binary")}
    iterations = options.pop("iterations")
    if iterations is not None:
        options["epochs"] = iterations
    with reports_errors():
        data = read_interactions(ratings, **reading)
        model = cls(**options).fit(data)
        model.save(output)
    typer.echo(
        f"trained {type(model).__name__} on {data!r}: {len(model.users_):,} user and "
        f"{len(model.items_):,} item vectors of dim {model.user_factors_.shape[1]} in "
        f"{model.training_time_:.1f} s; saved to {output}"
    )


@with_options(_data_options)
def train_bpr(
    ratings: RatingsArg,
    output: OutputOpt,
    learning_rate: Annotated[float, typer.Option(help="SGD step at the start.")] = 0.05,
    min_learning_rate: Annotated[float, typer.Option(help="SGD step at the end.")] = 0.005,
    negatives: Annotated[str, typer.Option(help="uniform or popularity.")] = "uniform",
    **options: Any,
) -> None:
    """Train BPR (Bayesian Personalised Ranking) on RATINGS and save the model to OUTPUT."""
    from ..recommend import BPR

    extra = {"learning_rate": learning_rate, "min_learning_rate": min_learning_rate}
    _train(BPR, ratings, output, {**extra, "negatives": negatives, **options})


@with_options(_data_options)
def train_als(
    ratings: RatingsArg,
    output: OutputOpt,
    alpha: Annotated[float, typer.Option(help="Confidence 1 + alpha * weight.")] = 1.0,
    cg_steps: Annotated[int, typer.Option(help="Conjugate-gradient steps per row.")] = 3,
    **options: Any,
) -> None:
    """Train implicit-feedback ALS (conjugate gradient) on RATINGS and save the model to OUTPUT."""
    from ..recommend import ALS

    _train(ALS, ratings, output, {"alpha": alpha, "cg_steps": cg_steps, **options})


def _print(model: Any, ids: Any, scores: Any, as_json: bool, what: str) -> None:
    pairs = [(model.items_[i], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
    if as_json:
        typer.echo(json.dumps({what: [{"item": k, "score": s} for k, s in pairs]}))
        return
    for key, score in pairs:
        typer.echo(f"{key}\t{score:.4f}")


def recommend(
    model_dir: ModelArg,
    user: Annotated[str | None, typer.Argument(help="User key (as in the training file).")] = None,
    k: KOpt = 10,
    items: Annotated[
        str | None,
        typer.Option(help="A new user's items, comma-separated (instead of USER): folded in."),
    ] = None,
    keep_seen: Annotated[bool, typer.Option(help="Keep items the user already has.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The K best items for USER (or for a new user with --items), one 'item<TAB>score' per line."""
    from .._registry import load
    from ..errors import InvalidParameterError

    with reports_errors():
        if (user is None) == (items is None):
            raise InvalidParameterError("give either a USER or --items for a new user")
        model = load(model_dir)
        if items is not None:
            keys = [x.strip() for x in items.split(",") if x.strip()]
            ids, scores = model.recommend_new_user(keys, k=k, filter_seen=not keep_seen)
        else:
            ids, scores = model.recommend([user], k=k, filter_seen=not keep_seen)
    _print(model, ids, scores, as_json, "recommendations")


def similar_items(
    model_dir: ModelArg,
    item: Annotated[str, typer.Argument(help="Item key.")],
    k: KOpt = 10,
    as_json: JsonOpt = False,
) -> None:
    """The K items most similar to ITEM (cosine of item vectors), one 'item<TAB>score' per line."""
    from .._registry import load

    with reports_errors():
        model = load(model_dir)
        ids, scores = model.similar_items([item], k=k)
    _print(model, ids, scores, as_json, "similar")


def evaluate_recommendations(
    model_dir: ModelArg,
    test: Annotated[str, typer.Argument(help="Held-out interactions (same formats as RATINGS).")],
    k: Annotated[str, typer.Option("-k", "--k", help="Comma-separated cut-offs.")] = "10",
    train: Annotated[
        str | None,
        typer.Option(help="Training interactions to leave out (default: the model's own)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Precision, recall, nDCG, MAP, hit rate, coverage @K and AUC of MODEL on TEST."""
    from .._registry import load
    from ..errors import InvalidParameterError
    from ..evaluate.recommend import evaluate_recommendations as evaluate
    from ..recommend import read_interactions

    with reports_errors():
        try:
            ks = tuple(int(x) for x in k.split(",") if x.strip())
        except ValueError:
            raise InvalidParameterError(
                f"-k must be integers such as 10 or 5,10; got {k!r}"
            ) from None
        model = load(model_dir)
        held_out = read_interactions(test)
        seen = read_interactions(train) if train is not None else None
        result = evaluate(model, seen, held_out, k=ks)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        typer.echo(str(result))
