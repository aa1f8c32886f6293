"""``embedforge audit`` (WEAT bias tests) and ``embedforge debias`` (hard debiasing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._common import JsonOpt, load_vectors, reports_errors

ModelArg = Annotated[Path, typer.Argument(help="Model or embeddings directory, or word2vec file.")]


def audit(
    model: ModelArg,
    weat: Annotated[
        bool, typer.Option("--weat/--no-weat", help="Run the WEAT tests (Caliskan et al. 2017).")
    ] = True,
    tests: Annotated[
        str | None,
        typer.Option(help="Comma-separated WEAT tests (default: weat1,...,weat10)."),
    ] = None,
    word_sets: Annotated[
        str, typer.Option(help="WEAT.json file or data set name with the word lists.")
    ] = "weat",
    permutations: Annotated[
        int,
        typer.Option(help="Exact p-value up to this many partitions, else this many sampled."),
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed of the sampled partitions.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Bias tests of word vectors: WEAT effect size, p-value, partitions, missing words."""
    from ..audit import run_weat_tests
    from ..errors import InvalidParameterError

    with reports_errors():
        if not weat:
            raise InvalidParameterError("nothing to do: pass --weat (the only audit so far)")
        names = None if tests is None else [t.strip() for t in tests.split(",") if t.strip()]
        wv = load_vectors(model)
        results = run_weat_tests(
            wv, names, word_sets=word_sets, permutations=permutations, seed=seed
        )
    if as_json:
        typer.echo(json.dumps({"tests": [r.to_dict() for r in results]}, indent=2))
        return
    typer.echo(f"{'test':<7} {'d':>7} {'p':>9} {'partitions':>13}  missing words")
    for r in results:
        lost = {k: v for k, v in r.missing.items() if v}
        shown = "; ".join(f"{k}: {', '.join(v)}" for k, v in lost.items()) or "-"
        kind = "" if r.exact else "~"
        typer.echo(
            f"{r.test:<7} {r.effect_size:>7.3f} {r.p_value:>9.2g} "
            f"{kind + format(r.permutations, ','):>13}  {shown}"
        )


def debias(
    model: ModelArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory to save the debiased Embeddings to.")
    ],
    report: Annotated[
        bool,
        typer.Option(
            "--report/--no-report",
            help="Print WEAT and analogy/similarity quality before and after.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Hard-debias word vectors (Bolukbasi et al. 2016: neutralise and equalise) and save them."""
    from ..audit import debias_report, hard_debias

    with reports_errors():
        wv = load_vectors(model)
        debiased = hard_debias(wv)
        debiased.save(output)
        result = debias_report(wv, debiased) if report else None
    if result is None:
        typer.echo(f"saved {output}")
    elif as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        typer.echo(result.to_markdown())
        typer.echo(f"saved {output}")
